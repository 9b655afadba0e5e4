//! What the heap records about memory management while a workload runs: pauses, the time
//! spent managing memory, how long each request took, and memory samples. Timers are read only
//! at pause boundaries (the two ends of a refcount cascade or of a collection) and at
//! checkpoints, never per allocation or per reference operation.
//!
//! **Memory samples** ([`MemorySample`]) are taken
//!
//! - every `sample_every` object allocations ([`SampleTrigger::Interval`]; the heap compares one
//!   counter per allocation, nothing else);
//! - at checkpoints ([`SampleTrigger::Startup`], [`SampleTrigger::Request`]), rate-limited: the
//!   `startup_done` checkpoint is always sampled, a `request_done` checkpoint only if at least
//!   `checkpoint_gap` allocations (`sample_every / 16`) were made since the last sample of any
//!   kind. A sample costs a `pread` of `/proc/self/statm` (about 1.3 µs here), and workloads
//!   such as `trees` announce hundreds of thousands of requests; the gap bounds checkpoint samples
//!   to 16 per interval. The rule counts allocations, not time, so the same checkpoints are
//!   sampled under every strategy and on every repeat: timelines line up row for row;
//! - once at the end of the run ([`SampleTrigger::Final`]).
//!
//! With recording off the heap makes none of these calls: no clock is read in cascades or
//! collections, no sample is taken, and the report's logs are empty.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::heap::Collection;

/// Where a pause came from (`cascade` or `collection` in the result files).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PauseKind {
    /// Freeing a structure through refcounting (CPython's trashcan loop).
    #[default]
    Cascade,
    /// A cycle collection.
    Collection,
}

impl PauseKind {
    pub fn name(self) -> &'static str {
        match self {
            PauseKind::Cascade => "cascade",
            PauseKind::Collection => "collection",
        }
    }
}

/// One interval in which the mutator was stopped by memory management. The harness writes it
/// as one row of `pauses.csv`, beside the cell's key; the fields are in column order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub kind: PauseKind,
    /// The generation collected; `None` for cascades.
    pub generation: Option<u8>,
    /// Start, in nanoseconds since the heap was ready (the workload's wall-time origin).
    pub start_ns: u64,
    pub duration_ns: u64,
    /// Objects freed (cascades) or examined (collections).
    pub objects: u64,
    /// Objects found to be garbage (collections; for cascades, the objects freed).
    pub collected: u64,
    /// Objects found unreachable but uncollectable (collections only).
    pub uncollectable: u64,
}

/// Why a memory sample was taken (`startup`, `request`, `interval` or `final` in the files).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleTrigger {
    /// The workload's `startup_done` checkpoint.
    #[default]
    Startup,
    /// A `request_done` checkpoint (rate-limited, see the module docs).
    Request,
    /// Every `sample_every` object allocations.
    Interval,
    /// The end of the run, in [`crate::Heap::finish`], before the exit collection.
    Final,
}

/// The heap's memory at one moment. Timelines of different strategies are compared on
/// `allocations`: the same workload reaches the same count at the same point of its program.
/// The harness writes it as one row of `memory.csv`, beside the cell's key; the fields are in
/// column order, and the column names are the serde names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemorySample {
    pub trigger: SampleTrigger,
    /// Nanoseconds since the heap was ready (the workload's wall-time origin).
    pub time_ns: u64,
    /// Objects the program has allocated so far (the small-int cache and the weakref objects the
    /// `weakref` strategy adds for back edges are not counted).
    pub allocations: u64,
    /// Objects alive (not yet dead by refcount or collection) and their bytes, list items and
    /// dict tables included.
    pub live_objects: u64,
    pub live_bytes: u64,
    /// The allocator's bytes in blocks handed out ([`crate::AllocStats::bytes_used`]).
    #[serde(rename = "allocator_in_use_bytes")]
    pub allocator_bytes_used: u64,
    /// The allocator's bytes held from the system ([`crate::AllocStats::bytes_reserved`]).
    #[serde(rename = "allocator_reserved_bytes")]
    pub allocator_bytes_reserved: u64,
    /// Arenas held ([`crate::AllocStats::arenas_live`]; 0 for the per-object allocator).
    pub arenas: u64,
    /// Resident set of the process (`/proc/self/statm`); `None` where it cannot be read.
    pub rss_bytes: Option<u64>,
    pub requests_done: u64,
    /// Bytes of dead objects whose blocks were never returned to the allocator (`nogc`; 0 under
    /// every other strategy).
    pub retained_bytes: u64,
}

/// The heap's figures at a sample point; the recorder adds the time and the RSS.
pub(crate) struct HeapFigures {
    pub allocations: u64,
    pub requests_done: u64,
    pub live_objects: u64,
    pub live_bytes: u64,
    pub retained_bytes: u64,
    pub alloc: crate::AllocStats,
}

/// Default of `HeapConfig::sample_every`: one interval sample per 100,000 object allocations.
pub const DEFAULT_SAMPLE_EVERY: u64 = 100_000;

/// Checkpoint samples are at least `sample_every / CHECKPOINT_GAP_DIVISOR` allocations apart.
const CHECKPOINT_GAP_DIVISOR: u64 = 16;

/// When samples are due, counted in object allocations.
#[derive(Debug)]
pub(crate) struct SampleSchedule {
    /// Interval between interval samples; 0: interval sampling off.
    every: u64,
    /// Fewest allocations between a sample and the next checkpoint sample.
    checkpoint_gap: u64,
    /// Allocation count at the last sample, if any.
    last: Option<u64>,
}

impl SampleSchedule {
    /// `every` = 0 turns interval samples off; checkpoint samples then keep the gap the default
    /// interval would give.
    pub fn new(every: u64) -> SampleSchedule {
        let basis = if every > 0 { every } else { DEFAULT_SAMPLE_EVERY };
        SampleSchedule { every, checkpoint_gap: (basis / CHECKPOINT_GAP_DIVISOR).max(1), last: None }
    }

    /// The allocation count at which the next interval sample is due (`u64::MAX`: never).
    pub fn next_interval(&self, allocations: u64) -> u64 {
        allocations.checked_div(self.every).map_or(u64::MAX, |intervals| (intervals + 1) * self.every)
    }

    /// Whether a checkpoint sample is due now.
    pub fn checkpoint_due(&self, trigger: SampleTrigger, allocations: u64) -> bool {
        trigger == SampleTrigger::Startup
            || self.last.is_none_or(|last| allocations.saturating_sub(last) >= self.checkpoint_gap)
    }

    fn note(&mut self, allocations: u64) {
        self.last = Some(allocations);
    }
}

/// Reads the process's resident set from `/proc/self/statm`, kept open: one `pread` a sample.
#[derive(Debug)]
pub(crate) struct RssReader {
    statm: Option<File>,
    page_size: u64,
}

impl RssReader {
    /// A reader that reads nothing (recording off: not even the file is opened).
    pub fn none() -> RssReader {
        RssReader { statm: None, page_size: 0 }
    }

    pub fn open() -> RssReader {
        // SAFETY: `sysconf` only reads a configuration value; `_SC_PAGESIZE` is always valid.
        // Test: recorder::tests::rss_is_read_and_follows_touched_memory.
        let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        RssReader { statm: File::open("/proc/self/statm").ok(), page_size: u64::try_from(page_size).unwrap_or(4096) }
    }

    /// Resident bytes now: the second field of `statm` (pages) times the page size.
    pub fn rss_bytes(&self) -> Option<u64> {
        let mut buf = [0u8; 128];
        let len = self.statm.as_ref()?.read_at(&mut buf, 0).ok()?;
        let text = std::str::from_utf8(&buf[..len]).ok()?;
        let pages: u64 = text.split_ascii_whitespace().nth(1)?.parse().ok()?;
        Some(pages * self.page_size)
    }
}

/// Pause log, time totals and memory samples of one heap.
#[derive(Debug)]
pub(crate) struct Recorder {
    epoch: Instant,
    cascade_pause_threshold: u64,
    pauses: Vec<Pause>,
    memory_management_ns: u64,
    /// When the current request began: the previous checkpoint.
    request_start: Instant,
    request_latencies_ns: Vec<u64>,
    schedule: SampleSchedule,
    rss: RssReader,
    samples: Vec<MemorySample>,
}

/// What a recorder hands over at the end of a run.
pub(crate) struct RecorderLog {
    pub pauses: Vec<Pause>,
    pub request_latencies_ns: Vec<u64>,
    pub memory_samples: Vec<MemorySample>,
    pub memory_management_ns: u64,
}

impl Recorder {
    /// A recorder; with `record` off it is never called, and opens nothing.
    pub fn new(cascade_pause_threshold: u64, sample_every: u64, record: bool) -> Recorder {
        let epoch = Instant::now();
        Recorder {
            epoch,
            cascade_pause_threshold,
            pauses: Vec::new(),
            memory_management_ns: 0,
            request_start: epoch,
            request_latencies_ns: Vec::new(),
            schedule: SampleSchedule::new(sample_every),
            rss: if record { RssReader::open() } else { RssReader::none() },
            samples: Vec::new(),
        }
    }

    /// Starts the clock again: times are measured from here (the heap is built, the workload
    /// is about to start), so they share the origin of the cell's wall time. Nothing has been
    /// recorded yet.
    pub fn restart_clock(&mut self) {
        debug_assert!(self.pauses.is_empty() && self.samples.is_empty(), "the clock restarts before any record");
        self.epoch = Instant::now();
        self.request_start = self.epoch;
    }

    /// Startup is over: the first request begins now.
    pub fn record_startup_done(&mut self) {
        self.request_start = Instant::now();
    }

    /// A request ended now; it began at the previous checkpoint. Collections that a strategy
    /// runs at the checkpoint itself fall into the next request.
    pub fn record_request_done(&mut self) {
        let now = Instant::now();
        self.request_latencies_ns.push(nanos(now - self.request_start));
        self.request_start = now;
    }

    /// A refcount cascade freed `objects` objects between `start` and `end`.
    pub fn record_cascade(&mut self, start: Instant, end: Instant, objects: u64) {
        let duration_ns = nanos(end - start);
        self.memory_management_ns += duration_ns;
        if objects >= self.cascade_pause_threshold {
            self.pauses.push(Pause {
                kind: PauseKind::Cascade,
                start_ns: nanos(start - self.epoch),
                duration_ns,
                objects,
                generation: None,
                collected: objects,
                uncollectable: 0,
            });
        }
    }

    /// A collection ran between `start` and `end`. Every collection is a pause.
    pub fn record_collection(&mut self, start: Instant, end: Instant, collection: &Collection) {
        let duration_ns = nanos(end - start);
        self.memory_management_ns += duration_ns;
        self.pauses.push(Pause {
            kind: PauseKind::Collection,
            start_ns: nanos(start - self.epoch),
            duration_ns,
            objects: collection.examined,
            generation: Some(collection.generation as u8),
            collected: collection.collected,
            uncollectable: collection.uncollectable,
        });
    }

    pub fn schedule(&self) -> &SampleSchedule {
        &self.schedule
    }

    /// Takes a memory sample: `figures` from the heap, plus the time and the RSS now.
    pub fn record_sample(&mut self, trigger: SampleTrigger, figures: HeapFigures) {
        self.schedule.note(figures.allocations);
        self.samples.push(MemorySample {
            trigger,
            time_ns: nanos(self.epoch.elapsed()),
            allocations: figures.allocations,
            requests_done: figures.requests_done,
            live_objects: figures.live_objects,
            live_bytes: figures.live_bytes,
            retained_bytes: figures.retained_bytes,
            allocator_bytes_used: figures.alloc.bytes_used,
            allocator_bytes_reserved: figures.alloc.bytes_reserved,
            arenas: figures.alloc.arenas_live(),
            rss_bytes: self.rss.rss_bytes(),
        });
    }

    /// In a forked prefork worker: the parent keeps what was recorded before the fork, so the
    /// worker starts empty; its RSS comes from its own `statm` (the inherited descriptor names
    /// the parent's process); its first request begins now.
    pub fn after_fork(&mut self) {
        drop(self.take_log());
        if self.rss.statm.is_some() {
            self.rss = RssReader::open();
        }
        self.request_start = Instant::now();
    }

    /// In the cell process: a prefork worker's records, after those recorded so far.
    pub fn append_worker_log(&mut self, pauses: &[Pause], samples: &[MemorySample], latencies_ns: &[u64], mm_ns: u64) {
        self.pauses.extend_from_slice(pauses);
        self.samples.extend_from_slice(samples);
        self.request_latencies_ns.extend_from_slice(latencies_ns);
        self.memory_management_ns += mm_ns;
    }

    /// Everything recorded, in order; the recorder is left empty.
    pub fn take_log(&mut self) -> RecorderLog {
        RecorderLog {
            pauses: std::mem::take(&mut self.pauses),
            request_latencies_ns: std::mem::take(&mut self.request_latencies_ns),
            memory_samples: std::mem::take(&mut self.samples),
            memory_management_ns: std::mem::take(&mut self.memory_management_ns),
        }
    }
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_samples_fall_on_multiples_of_the_interval() {
        let schedule = SampleSchedule::new(1000);
        assert_eq!(schedule.next_interval(0), 1000);
        assert_eq!(schedule.next_interval(999), 1000);
        assert_eq!(schedule.next_interval(1000), 2000);
        assert_eq!(SampleSchedule::new(0).next_interval(5), u64::MAX, "0 turns interval samples off");
    }

    #[test]
    fn checkpoint_samples_are_rate_limited_by_allocations() {
        let mut schedule = SampleSchedule::new(1600); // gap: 100 allocations
        assert!(schedule.checkpoint_due(SampleTrigger::Request, 3), "the first checkpoint is sampled");
        schedule.note(3);
        assert!(!schedule.checkpoint_due(SampleTrigger::Request, 102));
        assert!(schedule.checkpoint_due(SampleTrigger::Request, 103));
        assert!(schedule.checkpoint_due(SampleTrigger::Startup, 4), "startup is always sampled");
        let off = SampleSchedule::new(0);
        assert_eq!(off.checkpoint_gap, DEFAULT_SAMPLE_EVERY / CHECKPOINT_GAP_DIVISOR);
    }

    #[test]
    fn rss_is_read_and_follows_touched_memory() {
        let reader = RssReader::open();
        let before = reader.rss_bytes().expect("/proc/self/statm is readable on Linux");
        assert!(before > 0 && before.is_multiple_of(reader.page_size));
        let touched = vec![1u8; 64 << 20];
        std::hint::black_box(&touched);
        let after = reader.rss_bytes().expect("readable again through the same descriptor");
        assert!(after >= before + (32 << 20), "RSS grew by the 64 MiB just written: {before} -> {after}");
    }
}
