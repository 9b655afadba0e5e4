//! Cycle collectors as plug-ins. A strategy picks one ([`CollectorKind`]); each is one module
//! here of the same shape:
//!
//! - **its phases**: an `impl Heap` block with one named function per step, driven by one
//!   function that returns a [`Collection`] (`collect_main` in `generational`,
//!   `incremental` in `incremental`, `trial_deletion` in `trial_deletion`);
//! - **what it needs from the hot path**, as data the heap reads once into its `Mode` and tests
//!   with one predicted branch: the gen-0 allocation count that falls due past a threshold
//!   (`GcState::note_allocation`; generational and incremental), the possible-root buffer fed by every decrement
//!   that leaves a container's count above zero (`RootBuffer`; trial deletion);
//! - **its parameters**: [`crate::strategy::Tunables`], set from the strategy's parameters.
//!
//! What a collector does with the garbage it found is shared (`garbage.rs`: legacy finalizers,
//! weakrefs and their callbacks, PEP 442 finalizers, resurrection, `tp_clear`), so every collector
//! treats weakrefs, finalizers and resurrection as CPython does. Tracked containers are always in
//! the generation lists of [`generational::GcState`] (as CPython tracks them with the collector
//! disabled): teardown and the leak walk find every container there; a collector that has no use
//! for generations (trial deletion) never walks them.
//!
//! [`Heap::collect`] and the automatic triggers dispatch on the kind with a `match`: no virtual
//! call anywhere, and none on the hot path.

use std::time::Instant;

use super::Heap;
use crate::strategy::CollectorKind;

mod free_lists;
mod garbage;
mod generational;
mod incremental;
mod trial_deletion;

pub(super) use generational::GcState;
pub(super) use incremental::IncrementalState;
pub use incremental::{IncrementalStatus, Phase};
pub(super) use trial_deletion::RootBuffer;

/// Generations of the collector: 0 (youngest) to 2 (oldest, a "full" collection).
pub const GENERATIONS: usize = 3;

/// Per-generation figures, as `gc.get_stats()` gives them; indexed by the generation argument of
/// the collection (the oldest generation collected).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenerationStats {
    pub collections: u64,
    pub collected: u64,
    pub uncollectable: u64,
}

/// What one collection did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Collection {
    pub generation: usize,
    /// Objects in the generations collected when it began.
    pub examined: u64,
    /// CPython's `m`: garbage found (and weakrefs freed by their own callbacks).
    pub collected: u64,
    /// CPython's `n`: objects kept alive by legacy finalizers, now in `garbage`.
    pub uncollectable: u64,
}

impl Collection {
    /// `gc.collect()`'s return value.
    pub fn unreachable(&self) -> u64 {
        self.collected + self.uncollectable
    }
}

/// Collections, whatever the collector.
impl Heap {
    /// `gc.collect(generation)`: under the generational collector (and without a collector, as
    /// `gc.collect()` works after `gc.disable()`), collects `generation` and every younger one,
    /// whatever the thresholds; under the incremental collector, 0 collects young, 1 runs one
    /// increment, 2 collects everything; under trial deletion, collects the buffered roots (it
    /// has no generations). Returns what it did; during another collection it does nothing (as CPython).
    pub fn collect(&self, generation: usize) -> Collection {
        assert!(generation < GENERATIONS, "generation {generation} does not exist (0, 1 or 2)");
        if self.gc.is_collecting() {
            return Collection { generation, ..Collection::default() };
        }
        match self.mode.collector {
            CollectorKind::None | CollectorKind::Generational => {
                self.collect_with_pause(|heap| heap.collect_main(generation))
            }
            CollectorKind::Incremental => match generation {
                0 => self.collect_with_pause(Heap::collect_young),
                1 => self.collect_increment(),
                _ => self.collect_with_pause(Heap::collect_full),
            },
            CollectorKind::TrialDeletion => self.collect_with_pause(Heap::trial_deletion),
        }
    }

    /// Runs one collection of the strategy's collector as a [`Heap::pause`], counted in the
    /// statistics of the generation it reports.
    fn collect_with_pause(&self, collect: impl FnOnce(&Heap) -> Collection) -> Collection {
        let collection = self.pause(collect);
        self.gc.count_collection(&collection);
        collection
    }

    /// Runs one collection as a pause: the collecting flag set, no unwinding through it, timed
    /// when recording.
    fn pause(&self, collect: impl FnOnce(&Heap) -> Collection) -> Collection {
        let start = self.mode.record.then(Instant::now);
        self.gc.set_collecting(true);
        // User code inside a collection cannot unwind through it (see `Heap::run_user_code`); any
        // other panic here means the lists are inconsistent, so nothing may run afterwards.
        let abort_on_unwind = AbortOnUnwind("a panic inside the cycle collector");
        let collection = collect(self);
        std::mem::forget(abort_on_unwind);
        self.gc.set_collecting(false);
        if let Some(start) = start {
            self.recorder.borrow_mut().record_collection(start, Instant::now(), &collection);
        }
        collection
    }
}

/// Aborts the process if dropped during a panic: a guard over code that must not unwind.
struct AbortOnUnwind(&'static str);

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        eprintln!("fatal: {}; the GC lists may be inconsistent, aborting", self.0);
        std::process::abort();
    }
}
