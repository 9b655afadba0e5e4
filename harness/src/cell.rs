//! One cell: a workload under one strategy, run in a fresh child process of the harness so that
//! peak RSS and allocator state never carry over from another cell.
//!
//! The parent passes a [`CellSpec`] as JSON on the command line (`--run-cell`); the child runs
//! it and prints a [`CellOutcome`] as JSON on stdout. A child that crashes or exits non-zero
//! yields a failed cell with the tail of its stderr; one that runs past its timeout is killed
//! and recorded as timed out. Either way the run goes on.
//!
//! The child dies with its parent (`PR_SET_PDEATHSIG`, see `system::die_with_parent`). The
//! parent waits for it in short slices and checks its [`StopFlag`] between them: a SIGINT or
//! SIGTERM to the parent kills the running child, and the cell is not recorded.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use hdrhistogram::Histogram as HdrHistogram;
use serde::{Deserialize, Serialize};
use strategies::{
    AllocatorConfig, AllocatorKind, CowSample, Heap, HeapCapExceeded, HeapConfig, MemorySample, Pause, PauseKind,
    SystemBackend, WorkersFailed, strategy,
};
use wait_timeout::ChildExt;
use workloads::{Size, WorkloadArgs};

use crate::results::Status;
use crate::system;

/// Everything a child needs to run one cell.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CellSpec {
    pub workload: String,
    pub size: String,
    pub seed: u64,
    pub workload_params: BTreeMap<String, String>,
    pub strategy: String,
    pub strategy_params: BTreeMap<String, String>,
    pub allocator: String,
    pub backend: String,
    pub cascade_threshold: u64,
    /// Which repeat of the same cell this is, from 1.
    pub repeat: u32,
    /// The heap cap in live bytes: past it the workload is stopped (`leaked-over-cap`).
    pub max_heap_bytes: u64,
    /// Record pauses, latencies and memory samples; off only to measure what recording costs.
    pub record: bool,
    /// A memory sample every this many object allocations (0: checkpoints only).
    pub sample_every: u64,
}

/// One generation's line of `gc.get_stats()`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct GenerationRecord {
    pub collections: u64,
    pub collected: u64,
    pub uncollectable: u64,
}

/// Count and percentiles of a set of durations, in nanoseconds (zero when there are none).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
}

impl LatencySummary {
    pub fn of(durations_ns: impl IntoIterator<Item = u64>) -> LatencySummary {
        // Nanosecond resolution, three significant digits, up to an hour.
        let mut histogram = HdrHistogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid bounds");
        for ns in durations_ns {
            histogram.saturating_record(ns.max(1));
        }
        if histogram.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: histogram.len(),
            p50_ns: histogram.value_at_quantile(0.50),
            p99_ns: histogram.value_at_quantile(0.99),
            max_ns: histogram.max(),
        }
    }
}

/// What a child measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CellOutcome {
    /// `ok`, or `leaked-over-cap` when the workload passed the heap cap and was stopped (its
    /// figures then cover the run up to that point, and it has no checksum).
    pub status: Status,
    pub checksum: String,
    pub wall_ns: u64,
    pub memory_management_ns: u64,
    pub pauses: Vec<Pause>,
    /// VmHWM of the child: the peak resident set of this cell alone.
    pub peak_rss_bytes: u64,
    pub peak_reserved_bytes: u64,
    pub leaked_objects: u64,
    pub leaked_bytes: u64,
    pub immortal_objects: u64,
    pub immortal_bytes: u64,
    /// Collections per generation, the exit collection included; in a prefork cell the cell
    /// process's plus every worker's.
    pub collections: [u64; 3],
    /// `gc.get_stats()` when the workload returned, before the exit collection: what the
    /// program's own run caused (what `harness validate` compares with CPython).
    pub gc_stats_at_return: [GenerationRecord; 3],
    /// Wall time of each request (from one checkpoint to the next), in nanoseconds.
    pub request_latencies: LatencySummary,
    /// Memory samples in the order taken (empty with recording off); in a prefork cell the
    /// cell process's until the fork, then each worker's in worker order, then its own again.
    pub memory_samples: Vec<MemorySample>,
    /// A prefork cell's copy-on-write samples, worker by worker (empty without prefork).
    pub cow_samples: Vec<CowSample>,
    /// Parameters in force, preset and default values filled in.
    pub workload_params: Vec<(String, String)>,
    pub strategy_params: Vec<(String, String)>,
    pub allocator: String,
}

impl CellOutcome {
    /// The collection pauses, split into those of the workload's run and those after it
    /// returned (the exit collection): the first `n` collection pauses are the run's, `n` being
    /// the collections `gc.get_stats()` counted when the workload returned.
    pub fn collections_split_at_return(&self) -> (Vec<&Pause>, Vec<&Pause>) {
        let during_run: u64 = self.gc_stats_at_return.iter().map(|g| g.collections).sum();
        let mut collections: Vec<&Pause> = self.pauses.iter().filter(|p| p.kind == PauseKind::Collection).collect();
        let after_return = collections.split_off((during_run as usize).min(collections.len()));
        (collections, after_return)
    }
}

/// How a cell ended.
#[derive(Clone, Debug)]
pub enum CellResult {
    Ok(Box<CellOutcome>),
    /// The child crashed, exited non-zero or could not be read; the end of its stderr.
    Failed {
        error: String,
    },
    /// The child ran past the timeout and was killed.
    TimedOut {
        after: Duration,
        stderr_tail: String,
    },
}

impl CellResult {
    /// The `status` column: `ok`, `leaked-over-cap`, `failed` or `timeout`.
    pub fn status(&self) -> Status {
        match self {
            CellResult::Ok(outcome) => outcome.status,
            CellResult::Failed { .. } => Status::Failed,
            CellResult::TimedOut { .. } => Status::Timeout,
        }
    }
}

/// Set to a signal's number when the parent is asked to stop (0: go on).
#[derive(Clone, Debug, Default)]
pub struct StopFlag(pub Arc<AtomicUsize>);

impl StopFlag {
    /// The signal that asked to stop, if any.
    pub fn signal(&self) -> Option<i32> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal as i32),
        }
    }
}

/// The cell was stopped by a signal to the parent and killed; it has no result.
#[derive(Clone, Copy, Debug)]
pub struct Interrupted(pub i32);

/// A panic hook that keeps the heap cap's stop and a prefork cell's failed workers silent (the
/// latter becomes the cell's error, the last line of its stderr): the default hook prints the payload and,
/// with `RUST_BACKTRACE` set, symbolises a backtrace inside the measured region (it multiplied
/// the wall time of capped cells by 35). Every other panic goes to the default hook.
fn silence_heap_cap_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.payload().is::<HeapCapExceeded>() && !info.payload().is::<WorkersFailed>() {
            default(info);
        }
    }));
}

/// Runs `spec` in this process (the child side).
pub fn execute(spec: &CellSpec) -> Result<CellOutcome> {
    silence_heap_cap_panics();
    let size = Size::from_name(&spec.size).ok_or_else(|| anyhow!("unknown size {}", spec.size))?;
    let args = WorkloadArgs { size, seed: spec.seed, params: spec.workload_params.clone() };
    let workload =
        workloads::find(&spec.workload).ok_or_else(|| anyhow!("unknown workload {}", spec.workload))?.build(&args)?;
    let strategy = strategy::find(&spec.strategy)
        .ok_or_else(|| anyhow!("unknown strategy {}", spec.strategy))?
        .build(&spec.strategy_params)?;
    let allocator = AllocatorConfig {
        kind: AllocatorKind::from_name(&spec.allocator)
            .ok_or_else(|| anyhow!("unknown allocator {}", spec.allocator))?,
        backend: SystemBackend::from_name(&spec.backend).ok_or_else(|| anyhow!("unknown backend {}", spec.backend))?,
    };
    let strategy_params = strategy.params();
    let config = HeapConfig {
        allocator,
        cascade_pause_threshold: spec.cascade_threshold,
        record: spec.record,
        sample_every: spec.sample_every,
        max_live_bytes: Some(spec.max_heap_bytes),
        arenas: None,
    };
    let heap = Heap::new(config, strategy);
    let allocator_name = format!("{}/{}", spec.allocator, spec.backend);

    system::reset_peak_rss();
    let start = Instant::now();
    // A heap past its cap stops the workload with a `HeapCapExceeded` panic; the heap stays
    // consistent and every handle is dropped by the unwinding, so the run is still reported.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| workload.run(&heap)));
    // A prefork worker leaves inside the heap; one that unwound out of the workload leaves here,
    // before it could report as if it were the cell.
    heap.exit_if_worker();
    let wall_ns = start.elapsed().as_nanos() as u64;
    let checksum = match ran {
        Ok(checksum) => Some(checksum),
        Err(payload) if payload.is::<HeapCapExceeded>() => None,
        Err(payload) => match payload.downcast::<WorkersFailed>() {
            Ok(failed) => return Err(anyhow!("{failed}")),
            Err(payload) => std::panic::resume_unwind(payload),
        },
    };
    let peak_rss_bytes = system::peak_rss_bytes().context("reading VmHWM from /proc/self/status")?;
    let workers = heap.worker_reports();
    let worker_gc = |g: usize| workers.iter().map(move |w| w.gc_stats[g]);
    let gc_stats_at_return = std::array::from_fn(|g| {
        let own = heap.gc_stats()[g];
        GenerationRecord {
            collections: own.collections + worker_gc(g).map(|w| w.collections).sum::<u64>(),
            collected: own.collected + worker_gc(g).map(|w| w.collected).sum::<u64>(),
            uncollectable: own.uncollectable + worker_gc(g).map(|w| w.uncollectable).sum::<u64>(),
        }
    });
    let report = heap.finish();
    let collections =
        std::array::from_fn(|g| report.stats.collections[g] + worker_gc(g).map(|w| w.collections).sum::<u64>());

    Ok(CellOutcome {
        status: if checksum.is_some() { Status::Ok } else { Status::LeakedOverCap },
        checksum: checksum.map_or(String::new(), |c| c.to_string()),
        wall_ns,
        memory_management_ns: report.memory_management_ns,
        pauses: report.pauses,
        peak_rss_bytes,
        peak_reserved_bytes: report.stats.alloc.bytes_reserved_peak,
        leaked_objects: report.leaked.objects,
        leaked_bytes: report.leaked.bytes,
        immortal_objects: report.leaked.immortal_objects,
        immortal_bytes: report.leaked.immortal_bytes,
        collections,
        gc_stats_at_return,
        request_latencies: LatencySummary::of(report.request_latencies_ns.iter().copied()),
        memory_samples: report.memory_samples,
        cow_samples: workers.into_iter().flat_map(|w| w.cow).collect(),
        workload_params: workload.params(),
        strategy_params,
        allocator: allocator_name,
    })
}

/// Runs `spec` in a fresh child process of this binary (the parent side), killing it after
/// `timeout`, or at once when `stop` is raised.
pub fn run_in_child(spec: &CellSpec, timeout: Duration, stop: &StopFlag) -> Result<CellResult, Interrupted> {
    Ok(match spawn(spec, timeout, stop) {
        Ok(Finished::Exited { stdout, stderr, status }) if status.success() => match serde_json::from_slice(&stdout) {
            Ok(outcome) => CellResult::Ok(Box::new(outcome)),
            Err(e) => CellResult::Failed { error: format!("reading the child's outcome: {e}; {}", tail(&stderr)) },
        },
        Ok(Finished::Exited { stderr, status, .. }) => {
            CellResult::Failed { error: format!("child {status}: {}", tail(&stderr)) }
        }
        Ok(Finished::TimedOut { stderr }) => CellResult::TimedOut { after: timeout, stderr_tail: tail(&stderr) },
        Ok(Finished::Stopped(signal)) => return Err(Interrupted(signal)),
        Err(e) => CellResult::Failed { error: format!("{e:#}") },
    })
}

enum Finished {
    Exited { stdout: Vec<u8>, stderr: Vec<u8>, status: ExitStatus },
    TimedOut { stderr: Vec<u8> },
    Stopped(i32),
}

/// How often the parent looks at its stop flag while a child runs.
const STOP_POLL: Duration = Duration::from_millis(50);

/// Starts the child, drains its pipes on two threads (so a chatty child never blocks on a full
/// pipe) and waits for it at most `timeout`, looking at `stop` every [`STOP_POLL`].
fn spawn(spec: &CellSpec, timeout: Duration, stop: &StopFlag) -> Result<Finished> {
    let exe = std::env::current_exe().context("locating the harness binary")?;
    let mut child = Command::new(exe)
        .arg("--run-cell")
        .arg(serde_json::to_string(spec)?)
        .env(system::PARENT_PID, std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the child process")?;
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let started = Instant::now();
    let status = loop {
        let left = timeout.saturating_sub(started.elapsed());
        let waited = child.wait_timeout(left.min(STOP_POLL)).context("waiting for the child")?;
        // A stop wins over a result: Ctrl-C reaches the child too, which then fails.
        if let Some(signal) = stop.signal() {
            let _ = child.kill();
            child.wait().context("reaping the stopped child")?;
            return Ok(Finished::Stopped(signal));
        }
        match waited {
            Some(status) => break status,
            None if left.is_zero() => {
                child.kill().context("killing the child after its timeout")?;
                child.wait().context("reaping the killed child")?;
                return Ok(Finished::TimedOut { stderr: stderr.join().unwrap_or_default() });
            }
            None => {}
        }
    };
    Ok(Finished::Exited {
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        status,
    })
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// The last lines of a child's stderr, for the `error` column.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}
