//! The heap's public types apart from the heap and its handles: how a heap is built
//! ([`HeapConfig`]), the counters and reports it gives ([`HeapStats`], [`LeakReport`],
//! [`FinalReport`]), the cap's panic payload, and the ids and signatures of user code
//! (finalizers and weakref callbacks).

use std::collections::BTreeMap;
use std::fmt;

use super::{GENERATIONS, Handle, Heap};
use crate::alloc::{AllocStats, AllocatorConfig, ArenaPolicy};
use crate::object::Kind;
use crate::recorder::{DEFAULT_SAMPLE_EVERY, MemorySample, Pause};

/// How a heap is built, apart from its strategy.
#[derive(Clone, Debug)]
pub struct HeapConfig {
    pub allocator: AllocatorConfig,
    /// Refcount cascades freeing at least this many objects are recorded as pauses.
    pub cascade_pause_threshold: u64,
    /// Record pauses, request latencies and memory samples (default `true`). Off: the report's
    /// logs are empty and `memory_management_ns` is 0; no clock is read in cascades or
    /// collections and no sample is taken. Collections still run and every counter still counts.
    /// The harness runs cells both ways to measure what recording costs.
    pub record: bool,
    /// A memory sample every this many object allocations (default 100,000); 0: no interval
    /// samples (checkpoint and final samples remain). See [`crate::recorder`] for the rule.
    pub sample_every: u64,
    /// Stop the workload when an allocation would take the bytes the heap holds past this many:
    /// live bytes, plus, under `nogc`, the bytes of dead objects it keeps. The heap panics with a
    /// [`HeapCapExceeded`] payload; see the module docs. `None`: no cap.
    pub max_live_bytes: Option<u64>,
    /// The pymalloc arena policy. `None` (default): the strategy's
    /// ([`ArenaPolicy::for_strategy`]: CPython's `ReleaseToOs` wherever blocks go back to the
    /// allocator, `Retain` under `nogc`). `Some(Retain)` keeps freed arenas mapped for reuse, the
    /// arena cache that spares a program of deep trees its page faults; it changes CPython's RSS
    /// behaviour, so only the `native` bench sets it, to measure what the faults cost.
    pub arenas: Option<ArenaPolicy>,
}

impl Default for HeapConfig {
    fn default() -> Self {
        HeapConfig {
            allocator: AllocatorConfig::default(),
            cascade_pause_threshold: 1000,
            record: true,
            sample_every: DEFAULT_SAMPLE_EVERY,
            max_live_bytes: None,
            arenas: None,
        }
    }
}

/// The panic payload with which the heap stops a workload that passed
/// [`HeapConfig::max_live_bytes`] (`std::panic::panic_any`). Catch the workload with
/// `catch_unwind`, find this with `payload.downcast_ref::<HeapCapExceeded>()`, then call
/// [`Heap::finish`] as usual: the heap is consistent. (The default panic hook prints the payload
/// as `Box<dyn Any>`; a harness that wants a message installs its own hook.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapCapExceeded {
    /// Bytes the heap held when the allocation was refused (live, plus retained under `nogc`).
    pub live_bytes: u64,
    /// Bytes the refused allocation asked for.
    pub requested_bytes: u64,
    /// The cap.
    pub cap: u64,
}

impl fmt::Display for HeapCapExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "heap cap exceeded: {} bytes held + {} requested > cap of {} bytes",
            self.live_bytes, self.requested_bytes, self.cap
        )
    }
}

/// A weakref callback: called with the heap, the weakref (already cleared) and the callback's
/// argument object, once, after its referent has died.
pub type CallbackFn = dyn for<'h> Fn(&'h Heap, &Handle<'h>, Option<&Handle<'h>>);

/// A finalizer (`__del__`): called with the heap and the dying object, which it may resurrect by
/// storing a reference to it somewhere.
pub type FinalizerFn = dyn for<'h> Fn(&'h Heap, &Handle<'h>);

/// Names a finalizer registered with [`Heap::register_finalizer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinalizerId(pub(super) u16);

/// Which kind of finalizer an object gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalizerKind {
    /// `tp_finalize` (PEP 442): runs once, also for cyclic garbage, which the collector then frees.
    Pep442,
    /// `tp_del` (before PEP 442): the collector will not free cyclic garbage that holds one; it
    /// goes to `garbage`, uncollectable. Refcounting still runs it (once) and frees the object.
    Legacy,
}

/// Names a callback registered with [`Heap::register_callback`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallbackId(pub(super) u32);

/// A callback for a new weakref, with an optional argument the weakref keeps alive.
pub struct WeakCallback<'a, 'h> {
    pub id: CallbackId,
    pub arg: Option<&'a Handle<'h>>,
}

/// Counters readable at any moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeapStats {
    pub live_objects: u64,
    /// Bytes of live objects, their list items and dict tables included.
    pub live_bytes: u64,
    /// Dead objects whose blocks were kept rather than returned (`nogc`; 0 otherwise).
    pub retained_objects: u64,
    /// Their bytes, list items and dict tables included.
    pub retained_bytes: u64,
    /// Objects the program allocated (the alignment axis of memory samples: the small-int cache
    /// and the weakrefs the `weakref` strategy makes for back edges are not counted).
    pub allocations: u64,
    pub tracked_containers: u64,
    /// Collections so far, per generation.
    pub collections: [u64; GENERATIONS],
    pub requests_done: u64,
    pub startup_done: bool,
    /// Panics in finalizers and weakref callbacks, reported on stderr and ignored.
    pub ignored_panics: u64,
    pub alloc: AllocStats,
}

/// What outlived the run: every object still alive once the workload had returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeakReport {
    pub objects: u64,
    pub bytes: u64,
    /// Objects and bytes per kind.
    pub by_kind: BTreeMap<Kind, (u64, u64)>,
    /// Immortal objects (the `immortal` parameter) alive at the end: never freed by design, so
    /// not leaks; the teardown frees them.
    pub immortal_objects: u64,
    pub immortal_bytes: u64,
}

/// Everything a finished run reports about memory management.
#[derive(Clone, Debug)]
pub struct FinalReport {
    pub leaked: LeakReport,
    /// Empty when recording is off, as are the latencies and the samples.
    pub pauses: Vec<Pause>,
    /// Wall time of each request, from one checkpoint to the next, in nanoseconds.
    pub request_latencies_ns: Vec<u64>,
    /// Memory samples in the order taken; the last is the final one.
    pub memory_samples: Vec<MemorySample>,
    /// Time spent in refcount cascades and in collections (the exit collection included); 0
    /// when recording is off.
    pub memory_management_ns: u64,
    /// Set if the heap stopped the workload at its cap.
    pub cap_exceeded: Option<HeapCapExceeded>,
    /// Counters at the end of the run, before teardown (the allocator's included).
    pub stats: HeapStats,
}
