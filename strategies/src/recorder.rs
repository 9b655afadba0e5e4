//! What the heap records about memory management while a workload runs: pauses, the time
//! spent managing memory, and how long each request took. Timers are read only at pause
//! boundaries (the two ends of a refcount cascade or of a collection) and at checkpoints, never
//! per allocation or per reference operation.

use std::time::Instant;

use crate::heap::Collection;

/// Where a pause came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseKind {
    /// Freeing a structure through refcounting (CPython's trashcan loop).
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

/// One interval in which the mutator was stopped by memory management.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pause {
    pub kind: PauseKind,
    /// Start, in nanoseconds since the heap was created.
    pub start_ns: u64,
    pub duration_ns: u64,
    /// Objects freed (cascades) or examined (collections).
    pub objects: u64,
    /// The generation collected; `None` for cascades.
    pub generation: Option<u8>,
    /// Objects found to be garbage (collections; for cascades, the objects freed).
    pub collected: u64,
    /// Objects found unreachable but uncollectable (collections only).
    pub uncollectable: u64,
}

/// Pause log and time totals of one heap.
#[derive(Debug)]
pub(crate) struct Recorder {
    epoch: Instant,
    cascade_pause_threshold: u64,
    pauses: Vec<Pause>,
    memory_management_ns: u64,
    /// When the current request began: the previous checkpoint.
    request_start: Instant,
    request_latencies_ns: Vec<u64>,
}

impl Recorder {
    pub fn new(cascade_pause_threshold: u64) -> Recorder {
        let epoch = Instant::now();
        Recorder {
            epoch,
            cascade_pause_threshold,
            pauses: Vec::new(),
            memory_management_ns: 0,
            request_start: epoch,
            request_latencies_ns: Vec::new(),
        }
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

    pub fn memory_management_ns(&self) -> u64 {
        self.memory_management_ns
    }

    /// The pause log and the request latencies, in order.
    pub fn into_log(self) -> (Vec<Pause>, Vec<u64>) {
        (self.pauses, self.request_latencies_ns)
    }
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
