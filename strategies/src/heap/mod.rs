//! The heap and its safe Mutator API: the only way workloads touch objects.
//!
//! A [`Handle`] is a strong reference owned by workload code (`Py_INCREF` on clone, `Py_DECREF`
//! on drop). It borrows its [`Heap`], so no handle can outlive the heap, and every operation
//! checks that the handle belongs to this heap and that the object has the kind the operation
//! needs. While a handle exists its object's refcount is at least 1, so nothing can free it:
//! workload code cannot read or free a dead object.
//!
//! One idea per module:
//!
//! | module           | what it holds                                                          |
//! |------------------|------------------------------------------------------------------------|
//! | `api`            | public types: config, stats, reports, the cap's payload, user-code ids |
//! | `handle`         | [`Handle`], and turning raw objects into handles and back              |
//! | `locals`         | [`Local`]: handles the heap can find (the outermost frame's locals)    |
//! | `objects`        | constructors (small-int cache, shared `()`), globals, registrations    |
//! | `access`         | reading and writing slots, lists, dicts; following back edges          |
//! | `refcount`       | `incref`/`decref` and the iterative free (CPython's trashcan)          |
//! | `weakrefs`       | weakref objects, their target lists, clearing them                     |
//! | `user_code`      | finalizer and callback queues, drained one level deep                  |
//! | `blocks`         | allocating, tracking, retiring objects and returning their blocks      |
//! | `graveyard`      | `nogc`'s dead blocks, kept until the heap is dropped                   |
//! | `cap`            | the heap cap                                                           |
//! | `checkpoints`    | `startup_done`, `request_done`, memory samples                         |
//! | `teardown`       | `finish` (exit collection, leak walk) and `Drop`                       |
//! | `prefork`        | forking workers after startup, their copy-on-write samples and reports |
//! | `gc_list`        | the intrusive GC lists that hold tracked containers                    |
//! | `collector/`     | the collectors as plug-ins: generational, incremental, trial deletion, shared phases |
//!
//! **Recording** ([`HeapConfig::record`]): the recorder keeps pauses, request latencies and
//! memory samples. Per allocation the heap increments one counter and compares it with the
//! next interval sample; clocks are read only at the ends of cascades and collections and at
//! checkpoints. With recording off none of that runs (the counter still counts).

use std::cell::{Cell, OnceCell, RefCell, UnsafeCell};

use crate::alloc::{ArenaPolicy, BuiltAllocator};
use crate::object::ObjPtr;
use crate::recorder::Recorder;
use crate::strategy::{BackEdges, CollectorKind, Strategy};

mod access;
mod api;
mod blocks;
mod cap;
mod checkpoints;
mod collector;
mod gc_list;
mod graveyard;
mod handle;
mod locals;
mod objects;
mod prefork;
mod refcount;
mod teardown;
mod user_code;
mod weakrefs;

pub use api::{
    CallbackFn, CallbackId, FinalReport, FinalizerFn, FinalizerId, FinalizerKind, HeapCapExceeded, HeapConfig,
    HeapStats, LeakReport, WeakCallback,
};
use cap::Cap;
pub use collector::{Collection, GENERATIONS, GenerationStats, IncrementalStatus, Phase};
use collector::{GcState, IncrementalState, RootBuffer};
use graveyard::Graveyard;
pub use handle::Handle;
pub use locals::Local;
use locals::Locals;
pub use prefork::{
    COW_SAMPLES, CowPhase, CowSample, MAX_WORKERS, Share, WorkerGeneration, WorkerReport, WorkersFailed,
};
use user_code::UserCode;

/// CPython caches the ints -5..=256; so do we, so that small-int-heavy workloads allocate alike.
const SMALL_INT_MIN: i64 = -5;
const SMALL_INT_MAX: i64 = 256;

/// A CPython-like heap with one allocator and one strategy.
pub struct Heap {
    /// Reached only by `alloc_bytes`, `free_bytes` and `alloc_stats` (blocks.rs), each one
    /// allocator call that never calls back into the heap: no `RefCell` borrow per block.
    allocator: UnsafeCell<BuiltAllocator>,
    strategy: RefCell<Box<dyn Strategy>>,
    /// What the strategy and the config make of this heap, fixed when it is built.
    mode: Mode,
    /// The generation lists (every tracked container is in one), the gen-0 count and the
    /// collectors' statistics.
    gc: GcState,
    /// Trial deletion's possible roots (empty under the other collectors).
    roots: RootBuffer,
    /// The incremental collector's spaces and budget (unused under the other collectors).
    incremental: IncrementalState,
    /// Handles registered as the program's locals (the incremental collector marks from them).
    locals: Locals,
    counters: Counters,
    runtime: RuntimeObjects,
    /// The refcount cascade's explicit stack, kept between cascades to reuse its buffer.
    cascade_stack: RefCell<Vec<ObjPtr>>,
    user_code: UserCode,
    graveyard: Graveyard,
    recorder: RefCell<Recorder>,
    /// The allocation count at which the next interval sample is due (`u64::MAX`: never).
    next_interval_sample: Cell<u64>,
    cap: Cap,
    /// The heap is being dropped: no finalizer or callback runs any more.
    tearing_down: Cell<bool>,
    /// Prefork: off, this process's worker state, or the workers' reports (`prefork.rs`).
    prefork: RefCell<prefork::Prefork>,
}

/// Settings read on hot and slow paths, fixed when the heap is built.
struct Mode {
    back_edges: BackEdges,
    /// The strategy's cycle collector (`program_collect` runs it unless `None`).
    collector: CollectorKind,
    /// Decrements that leave a container's count above zero buffer it (trial deletion).
    buffers_roots: bool,
    /// Recording is on ([`HeapConfig::record`]).
    record: bool,
    /// Refcount cascades are timed: recording is on and the strategy returns blocks.
    time_cascades: bool,
    /// The strategy keeps dead objects' blocks (`nogc`): they go to the graveyard.
    retain_dead: bool,
}

/// Counters readable at any moment (see [`HeapStats`]).
#[derive(Default)]
struct Counters {
    live_objects: Cell<u64>,
    live_bytes: Cell<u64>,
    tracked: Cell<u64>,
    /// Objects the program allocated (see [`HeapStats::allocations`]).
    allocations: Cell<u64>,
    requests_done: Cell<u64>,
    startup_done: Cell<bool>,
}

/// Objects the runtime owns, released at teardown.
#[derive(Default)]
struct RuntimeObjects {
    small_ints: OnceCell<Vec<ObjPtr>>,
    /// `()`: shared and untracked, as in CPython (made on first use).
    empty_tuple: OnceCell<ObjPtr>,
    /// A dict the heap holds, standing for module globals (finalizers store survivors there).
    globals: OnceCell<ObjPtr>,
    /// Every immortal object (`immortal=true`): never freed while the heap runs, even once
    /// nothing refers to it, so the runtime keeps them for the teardown (refcount.rs).
    immortal: RefCell<Vec<ObjPtr>>,
}

impl Heap {
    pub fn new(config: HeapConfig, strategy: Box<dyn Strategy>) -> Heap {
        let capabilities = strategy.capabilities();
        let tunables = strategy.tunables();
        let retain_dead = !capabilities.returns_blocks;
        let collector = capabilities.collector;
        let gen0_trigger = matches!(collector, CollectorKind::Generational | CollectorKind::Incremental);
        let trial_deletion = collector == CollectorKind::TrialDeletion && tunables.automatic;
        let heap = Heap {
            allocator: UnsafeCell::new(
                config
                    .allocator
                    .build_with(config.arenas.unwrap_or(ArenaPolicy::for_strategy(capabilities.returns_blocks))),
            ),
            mode: Mode {
                back_edges: strategy.back_edges(),
                collector,
                buffers_roots: collector == CollectorKind::TrialDeletion,
                record: config.record,
                time_cascades: config.record && !retain_dead,
                retain_dead,
            },
            strategy: RefCell::new(strategy),
            gc: GcState::new(tunables.thresholds, gen0_trigger && tunables.automatic),
            roots: RootBuffer::new(if trial_deletion { tunables.roots } else { u64::MAX }),
            incremental: IncrementalState::new(tunables.scan_rate_divisor, tunables.incremental_version),
            locals: Locals::default(),
            counters: Counters::default(),
            runtime: RuntimeObjects::default(),
            cascade_stack: RefCell::new(Vec::new()),
            user_code: UserCode::default(),
            graveyard: Graveyard::default(),
            recorder: RefCell::new(Recorder::new(config.cascade_pause_threshold, config.sample_every, config.record)),
            next_interval_sample: Cell::new(u64::MAX),
            cap: Cap { limit: Cell::new(u64::MAX), exceeded: Cell::new(None) },
            tearing_down: Cell::new(false),
            prefork: RefCell::default(),
        };
        let small_ints = (SMALL_INT_MIN..=SMALL_INT_MAX).map(|v| heap.new_int_object(v)).collect();
        heap.runtime.small_ints.set(small_ints).expect("set once");
        heap.start_counting(&config);
        heap
    }

    /// The runtime's own objects exist: from here on allocations count, samples fall due, the
    /// cap applies, and the recorder's clock runs (building the runtime's objects, which maps
    /// and faults in the first arena, is no part of the workload's time: pause and sample times
    /// share the origin of the cell's wall time).
    fn start_counting(&self, config: &HeapConfig) {
        self.recorder.borrow_mut().restart_clock();
        self.counters.allocations.set(0);
        if self.mode.record {
            self.next_interval_sample.set(self.recorder.borrow().schedule().next_interval(0));
        }
        self.cap.limit.set(config.max_live_bytes.unwrap_or(u64::MAX));
    }

    pub fn stats(&self) -> HeapStats {
        HeapStats {
            live_objects: self.counters.live_objects.get(),
            live_bytes: self.counters.live_bytes.get(),
            retained_objects: self.graveyard.objects.get(),
            retained_bytes: self.graveyard.bytes.get(),
            allocations: self.counters.allocations.get(),
            tracked_containers: self.counters.tracked.get(),
            collections: self.gc_stats().map(|g| g.collections),
            requests_done: self.counters.requests_done.get(),
            startup_done: self.counters.startup_done.get(),
            ignored_panics: self.user_code.ignored_panics.get(),
            alloc: self.alloc_stats(),
        }
    }
}
