//! Prefork: the cell process builds the long-lived heap, then `fork()`s workers that serve the
//! requests on their copy-on-write copy of it (Instagram's Django master and its uWSGI workers).
//!
//! The workload calls [`Heap::prefork`] right after `startup_done` (so after the strategy's
//! startup action: a freeze). In each worker it returns [`Share::Worker`] with the requests that
//! worker serves; the worker then serves them and calls [`Heap::worker_done`], which never
//! returns: it samples, runs one explicit full collection (the program's `gc.collect()`),
//! samples again, writes a [`WorkerReport`] to its pipe and leaves with `_exit`, inside the heap.
//! A worker never returns into the harness, never runs teardown or the leak walk, and writes no
//! file. In the cell process `prefork` returns [`Share::Parent`] once every worker has exited,
//! with their checksum parts in worker order; a worker that crashed, was killed or sent no report
//! makes it panic, naming the worker (the cell is then `failed`, with the workers' stderr, which
//! is the cell's, in its tail).
//!
//! **Copy-on-write samples** ([`CowSample`]): each worker reads its own `/proc/self/smaps_rollup`
//! right after the fork (`fork`), every [`COW_SAMPLES`]-th part of its share (`serving`), when its
//! share is served (`served`) and after the explicit collection (`collected`).
//!
//! **Fork safety** (docs/ARCHITECTURE.md, "Prefork"): the cell process is single-threaded when
//! it forks; the recorder's `/proc/self/statm` descriptor, opened by the parent, names the
//! parent's process, so a worker reopens it; jemalloc's own `pthread_atfork` handlers keep its
//! locks consistent in the child. Each worker dies with the cell process (`PR_SET_PDEATHSIG`).

use std::fs::File;
use std::io::{Read, Write};
use std::ops::Range;
use std::os::fd::{FromRawFd, OwnedFd};

use serde::{Deserialize, Serialize};

use super::{GENERATIONS, GenerationStats, Heap};
use crate::recorder::{MemorySample, Pause};

/// The most workers a prefork cell may fork (each is a copy of the whole heap).
pub const MAX_WORKERS: usize = 64;
/// A worker takes this many `serving` samples over its share (one every share/16 requests).
pub const COW_SAMPLES: u64 = 16;
/// A worker's exit status when the workload panicked in it (the panic message is on stderr).
const WORKER_PANICKED: i32 = 101;

/// Which part of the work this process does, as [`Heap::prefork`] returns it.
#[derive(Debug)]
pub enum Share {
    /// A worker: serve the requests of `requests` (indexes into the workload's requests), then
    /// call [`Heap::worker_done`].
    Worker { index: usize, requests: Range<u64> },
    /// The cell process, once every worker has exited: their checksum parts, in worker order.
    Parent { checksums: Vec<u64> },
}

/// The panic payload of [`Heap::prefork`] in the cell process when a worker failed: which ones
/// and how (`prefork: worker 1 exited with status 101`). The harness turns it into the cell's
/// error, as it does the heap cap's payload into its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkersFailed(pub String);

impl std::fmt::Display for WorkersFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// When a worker took a copy-on-write sample: the `phase` column of `cow.csv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CowPhase {
    /// Right after the fork: everything the worker maps is still shared.
    #[default]
    Fork,
    /// Every share/[`COW_SAMPLES`] requests.
    Serving,
    /// The worker's share is served.
    Served,
    /// After one explicit full collection at the end.
    Collected,
}

/// One reading of a worker's `/proc/self/smaps_rollup`, in bytes: a row of `cow.csv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CowSample {
    /// The worker, from 0.
    pub worker: usize,
    pub phase: CowPhase,
    /// Requests this worker has served.
    pub requests_done: u64,
    pub rss_bytes: u64,
    pub pss_bytes: u64,
    /// `Shared_Clean` + `Shared_Dirty`: pages still shared with the cell process or a sibling.
    pub shared_bytes: u64,
    pub shared_clean_bytes: u64,
    pub shared_dirty_bytes: u64,
    pub private_clean_bytes: u64,
    pub private_dirty_bytes: u64,
}

impl CowSample {
    /// Reads `/proc/self/smaps_rollup` now (all zero where it cannot be read).
    fn now(worker: usize, phase: CowPhase, requests_done: u64) -> CowSample {
        let text = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
        CowSample { worker, phase, requests_done, ..CowSample::parse(&text) }
    }

    /// The sizes of a `smaps_rollup` text (`Rss:  1234 kB` lines), in bytes.
    fn parse(text: &str) -> CowSample {
        let mut sample = CowSample::default();
        for line in text.lines() {
            let mut words = line.split_ascii_whitespace();
            let (Some(field), Some(kb)) = (words.next(), words.next().and_then(|w| w.parse::<u64>().ok())) else {
                continue;
            };
            let bytes = kb * 1024;
            match field {
                "Rss:" => sample.rss_bytes = bytes,
                "Pss:" => sample.pss_bytes = bytes,
                "Shared_Clean:" => sample.shared_clean_bytes = bytes,
                "Shared_Dirty:" => sample.shared_dirty_bytes = bytes,
                "Private_Clean:" => sample.private_clean_bytes = bytes,
                "Private_Dirty:" => sample.private_dirty_bytes = bytes,
                _ => {}
            }
        }
        sample.shared_bytes = sample.shared_clean_bytes + sample.shared_dirty_bytes;
        sample
    }
}

/// What a worker sends the cell process through its pipe when its share is done. Its pauses,
/// samples and latencies are also appended to the cell process's recorder.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WorkerReport {
    pub worker: usize,
    /// The workload's checksum part for this worker's share.
    pub checksum: u64,
    /// Collections since the fork, per generation, the explicit one at the end included.
    pub gc_stats: [WorkerGeneration; GENERATIONS],
    pub cow: Vec<CowSample>,
    pub pauses: Vec<Pause>,
    pub memory_samples: Vec<MemorySample>,
    pub request_latencies_ns: Vec<u64>,
    pub memory_management_ns: u64,
}

/// One generation's `gc.get_stats()` line in a worker, counted from its fork.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerGeneration {
    pub collections: u64,
    pub collected: u64,
    pub uncollectable: u64,
}

/// The heap's side of prefork: nothing, a worker's state, or the reports the parent collected.
#[derive(Debug, Default)]
pub(super) enum Prefork {
    #[default]
    Off,
    Worker(Worker),
    Parent(Vec<WorkerReport>),
}

/// A worker's state from its fork to its `_exit`.
#[derive(Debug)]
pub(super) struct Worker {
    index: usize,
    /// The write end of the pipe to the cell process.
    pipe: File,
    /// The heap's request count and collector statistics at the fork.
    requests_at_fork: u64,
    gc_at_fork: [GenerationStats; GENERATIONS],
    /// A `serving` sample every this many requests.
    every: u64,
    cow: Vec<CowSample>,
}

impl Heap {
    /// Forks `workers` workers that share `requests` requests in contiguous runs; see the module
    /// documentation. Call it once, right after `startup_done`.
    ///
    /// # Panics
    /// On a worker count out of `1..=MAX_WORKERS`, a second call, a failed `fork`, or (in the
    /// parent) a worker that did not exit cleanly with its report.
    pub fn prefork(&self, workers: usize, requests: u64) -> Share {
        assert!((1..=MAX_WORKERS).contains(&workers), "prefork needs 1 to {MAX_WORKERS} workers, not {workers}");
        assert!(matches!(*self.prefork.borrow(), Prefork::Off), "prefork is called once");
        let mut children = Vec::with_capacity(workers);
        // Pages populated ahead of use would be shared at the fork and unshared by the first
        // pools the workers carve, where obmalloc.c's workers fault fresh private pages.
        self.release_untouched_pages();
        for index in 0..workers {
            let share = share(index, workers, requests);
            let (read, write) = pipe().expect("a pipe to a worker");
            match fork_process() {
                Forked::Child { cell_process } => {
                    drop(read);
                    drop(children);
                    self.become_worker(index, write, share.end - share.start, cell_process);
                    return Share::Worker { index, requests: share };
                }
                Forked::Parent(pid) => {
                    drop(write);
                    children.push((pid, read));
                }
            }
        }
        let reports = collect_reports(children);
        let checksums = reports.iter().map(|r| r.checksum).collect();
        for report in &reports {
            self.recorder.borrow_mut().append_worker_log(
                &report.pauses,
                &report.memory_samples,
                &report.request_latencies_ns,
                report.memory_management_ns,
            );
        }
        *self.prefork.borrow_mut() = Prefork::Parent(reports);
        Share::Parent { checksums }
    }

    /// The worker's share is served: samples, one explicit full collection, samples again,
    /// sends its report to the cell process and exits. Never returns.
    ///
    /// # Panics
    /// When this process is not a prefork worker.
    pub fn worker_done(&self, checksum: u64) -> ! {
        self.take_cow_sample(CowPhase::Served);
        self.program_collect();
        self.take_cow_sample(CowPhase::Collected);
        let Prefork::Worker(mut worker) = std::mem::take(&mut *self.prefork.borrow_mut()) else {
            panic!("worker_done outside a prefork worker");
        };
        let log = self.recorder.borrow_mut().take_log();
        let gc_stats = self.gc_stats();
        let report = WorkerReport {
            worker: worker.index,
            checksum,
            gc_stats: std::array::from_fn(|g| WorkerGeneration {
                collections: gc_stats[g].collections - worker.gc_at_fork[g].collections,
                collected: gc_stats[g].collected - worker.gc_at_fork[g].collected,
                uncollectable: gc_stats[g].uncollectable - worker.gc_at_fork[g].uncollectable,
            }),
            cow: std::mem::take(&mut worker.cow),
            pauses: log.pauses,
            memory_samples: log.memory_samples,
            request_latencies_ns: log.request_latencies_ns,
            memory_management_ns: log.memory_management_ns,
        };
        let bytes = serde_json::to_vec(&report).expect("a worker report serialises");
        let sent = worker.pipe.write_all(&bytes).is_ok();
        exit_now(if sent { 0 } else { 1 })
    }

    /// Leaves at once if this process is a prefork worker: the harness calls it when the
    /// workload returned or unwound without `worker_done` (a worker's panic), so that a worker
    /// never reports as if it were the cell.
    pub fn exit_if_worker(&self) {
        if matches!(*self.prefork.borrow(), Prefork::Worker(_)) {
            exit_now(WORKER_PANICKED);
        }
    }

    /// The workers' reports, in worker order (empty unless this heap forked workers).
    pub fn worker_reports(&self) -> Vec<WorkerReport> {
        match &*self.prefork.borrow() {
            Prefork::Parent(reports) => reports.clone(),
            _ => Vec::new(),
        }
    }

    /// A `serving` sample if this is a worker and one falls due at this request.
    pub(super) fn cow_sample_at_request(&self) {
        let due = match &*self.prefork.borrow() {
            Prefork::Worker(worker) => {
                (self.counters.requests_done.get() - worker.requests_at_fork).is_multiple_of(worker.every)
            }
            _ => false,
        };
        if due {
            self.take_cow_sample(CowPhase::Serving);
        }
    }

    /// Right after the fork, in the worker: the recorder starts afresh (the parent keeps what it
    /// recorded before), the worker dies with the cell process, and takes its `fork` sample.
    fn become_worker(&self, index: usize, pipe: File, share: u64, cell_process: u32) {
        die_with_parent(cell_process);
        self.recorder.borrow_mut().after_fork();
        *self.prefork.borrow_mut() = Prefork::Worker(Worker {
            index,
            pipe,
            requests_at_fork: self.counters.requests_done.get(),
            gc_at_fork: self.gc_stats(),
            every: share.div_ceil(COW_SAMPLES).max(1),
            cow: Vec::new(),
        });
        self.take_cow_sample(CowPhase::Fork);
    }

    fn take_cow_sample(&self, phase: CowPhase) {
        if let Prefork::Worker(worker) = &mut *self.prefork.borrow_mut() {
            let served = self.counters.requests_done.get() - worker.requests_at_fork;
            worker.cow.push(CowSample::now(worker.index, phase, served));
        }
    }
}

/// Worker `index`'s contiguous run of `requests` requests: shares differ by at most one.
pub fn share(index: usize, workers: usize, requests: u64) -> Range<u64> {
    let bound = |i: usize| requests * i as u64 / workers as u64;
    bound(index)..bound(index + 1)
}

/// Reads each worker's report to its end, then reaps the worker, in worker order. Panics naming
/// every worker that failed, after all of them have been reaped.
fn collect_reports(children: Vec<(libc::pid_t, File)>) -> Vec<WorkerReport> {
    let mut reports = Vec::new();
    let mut failures = Vec::new();
    for (index, (pid, mut read)) in children.into_iter().enumerate() {
        let mut bytes = Vec::new();
        let _ = read.read_to_end(&mut bytes);
        let status = wait_for(pid);
        match (status, serde_json::from_slice::<WorkerReport>(&bytes)) {
            (Ok(0), Ok(report)) => reports.push(report),
            (Ok(code), _) => failures.push(format!("worker {index} exited with status {code}")),
            (Err(signal), _) => failures.push(format!("worker {index} was killed by signal {signal}")),
        }
    }
    if !failures.is_empty() {
        std::panic::panic_any(WorkersFailed(format!("prefork: {}", failures.join("; "))));
    }
    reports
}

enum Forked {
    /// In the worker; `cell_process` is the pid of the process that forked it.
    Child {
        cell_process: u32,
    },
    Parent(libc::pid_t),
}

/// `fork()`. The cell process is single-threaded here (the harness's pipe-draining threads live
/// in the harness, not in the cell process: docs/ARCHITECTURE.md, "Fork safety"), so the child
/// inherits no lock held by another thread; glibc's and jemalloc's atfork handlers cover malloc.
fn fork_process() -> Forked {
    let cell_process = std::process::id();
    // SAFETY: no other thread of the cell process can hold a lock across the fork (see above).
    // Tests: prefork::tests::workers_serve_their_shares_and_report and tests/cli.rs
    // a_prefork_run_writes_cow_csv_with_every_phase_for_every_worker.
    match unsafe { libc::fork() } {
        -1 => panic!("fork failed: {}", std::io::Error::last_os_error()),
        0 => Forked::Child { cell_process },
        pid => Forked::Parent(pid),
    }
}

/// A pipe, both ends close-on-exec: (read, write).
fn pipe() -> std::io::Result<(File, File)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill; on success both are fresh
    // descriptors that only these two `File`s own. Test: prefork::tests::workers_serve_their_shares_and_report.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above: each descriptor was just created and is owned once.
    // Test: prefork::tests::workers_serve_their_shares_and_report.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((File::from(read), File::from(write)))
}

/// Waits for `pid`: `Ok(exit code)` or `Err(signal)`; a failed `waitpid` (the child is not
/// ours to wait for: a bug) panics, as a failed `fork` does.
fn wait_for(pid: libc::pid_t) -> Result<i32, i32> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid int for waitpid to write; `pid` is our own child.
        // Test: prefork::tests::a_crashing_worker_is_named.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        if waited == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        assert!(error.kind() == std::io::ErrorKind::Interrupted, "waitpid({pid}) failed: {error}");
    }
    if libc::WIFEXITED(status) { Ok(libc::WEXITSTATUS(status)) } else { Err(libc::WTERMSIG(status)) }
}

/// The worker dies with the cell process (SIGKILL), and leaves now if that is already gone (its
/// parent is then no longer `cell_process`: init, or a subreaper).
fn die_with_parent(cell_process: u32) {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and changes only this process's
    // death signal. Test: prefork::tests::workers_serve_their_shares_and_report.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    }
    if std::os::unix::process::parent_id() != cell_process {
        exit_now(1);
    }
}

/// `_exit`: no destructor, no atexit handler, no flush of buffers copied from the parent.
fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` ends the process at once; nothing of Rust's runs after it, so no state is
    // observed half-done. Test: prefork::tests::workers_serve_their_shares_and_report.
    unsafe { libc::_exit(code) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HeapConfig, strategy};

    fn heap(strategy: &str) -> Heap {
        let strategy = strategy::find(strategy).unwrap().build(&Default::default()).unwrap();
        Heap::new(HeapConfig::default(), strategy)
    }

    #[test]
    fn shares_cover_the_requests_once_in_order() {
        let shares: Vec<_> = (0..3).map(|i| share(i, 3, 10)).collect();
        assert_eq!(shares, vec![0..3, 3..6, 6..10]);
        assert_eq!(share(1, 2, 0), 0..0);
    }

    #[test]
    fn smaps_rollup_sizes_are_read_in_bytes() {
        let text = "55d0-7ff r--p 00000000 00:00 0 [rollup]\nRss:  100 kB\nPss:  60 kB\nShared_Clean:  30 kB\n\
                    Shared_Dirty:  10 kB\nPrivate_Clean:  20 kB\nPrivate_Dirty:  40 kB\nSwap:  0 kB\n";
        let sample = CowSample::parse(text);
        assert_eq!((sample.rss_bytes, sample.pss_bytes, sample.shared_bytes), (102_400, 61_440, 40_960));
        assert_eq!((sample.private_clean_bytes, sample.private_dirty_bytes), (20_480, 40_960));
    }

    #[test]
    fn workers_serve_their_shares_and_report() {
        let heap = heap("generational");
        let kept = heap.list();
        for _ in 0..1000 {
            heap.list_append(&kept, &heap.list());
        }
        heap.startup_done();
        match heap.prefork(2, 10) {
            Share::Worker { index, requests } => {
                for _ in requests.clone() {
                    let cycle = heap.list();
                    heap.list_append(&cycle, &cycle);
                    heap.request_done();
                }
                heap.worker_done(index as u64 * 100 + requests.end);
            }
            Share::Parent { checksums } => {
                assert_eq!(checksums, vec![5, 110]);
                let reports = heap.worker_reports();
                for report in &reports {
                    let phases: Vec<CowPhase> = report.cow.iter().map(|c| c.phase).collect();
                    assert_eq!(phases.first(), Some(&CowPhase::Fork));
                    assert_eq!(&phases[phases.len() - 2..], &[CowPhase::Served, CowPhase::Collected]);
                    assert!(phases.contains(&CowPhase::Serving));
                    assert_eq!(report.cow.last().unwrap().requests_done, 5);
                    assert!(report.cow[0].rss_bytes > 0 && report.cow[0].shared_bytes > 0);
                    // The explicit full collection found each request's cycle.
                    assert_eq!(report.gc_stats[2].collections, 1);
                    assert_eq!(report.gc_stats.iter().map(|g| g.collected).sum::<u64>(), 5);
                    assert_eq!(report.request_latencies_ns.len(), 5);
                }
            }
        }
        drop(kept);
        heap.finish();
    }

    #[test]
    fn a_crashing_worker_is_named() {
        let heap = heap("refcount");
        heap.startup_done();
        let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match heap.prefork(2, 2) {
            Share::Worker { index: 1, .. } => exit_now(3),
            Share::Worker { .. } => heap.worker_done(0),
            Share::Parent { .. } => {}
        }));
        heap.exit_if_worker();
        let failed = *crashed.unwrap_err().downcast::<WorkersFailed>().unwrap();
        assert_eq!(failed.0, "prefork: worker 1 exited with status 3");
    }
}
