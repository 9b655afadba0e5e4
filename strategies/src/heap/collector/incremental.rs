//! CPython 3.14.0's incremental cycle collector (gh-108362, `Python/gc.c`; reverted in 3.14.5
//! after production memory growth), behind the `incremental` strategy. Phases of the garbage
//! found are shared (`garbage.rs`); finding it is phases 2–4 of `generational`
//! (`deduce_unreachable`), applied to a *region* instead of a generation.
//!
//! Hot path: the gen-0 count, as for `generational` (`young_count`, counted as 3.14.0 counts it:
//! every container allocation, free lists modelled), plus `heap_size` (counted allocations
//! minus deallocations, never reset). Past the young threshold (2000) an allocation runs one
//! increment. Parameters: the young threshold, the scan-rate divisor (10).
//!
//! State: three lists of [`super::GcState`] — generation 0 is `young`, generations 1 and 2 are
//! the two *old spaces* — and a space bit per object (`flags::OLD_SPACE_1`). One old space is
//! the *visited* ("aging") space, the other the *pending* ("collecting") space; which is which
//! is `visited` here, so swapping them is one store. Invariants (`validate_spaces`): objects in
//! old space `s` carry bit `s`; frozen objects carry the visited bit. Young objects' bits are set
//! when they are used (CPython sets them when an object is tracked; nothing reads them sooner).
//!
//! A *scavenge* is one MARK increment, then COLLECT increments until the pending space is empty;
//! then the spaces swap (`completed_scavenge`). Every automatic collection is one increment
//! ([`Heap::incremental`]):
//!
//! 1. `assess_work_to_do`: the budget grows by the young count plus a slice of the heap,
//!    `min(heap_size / SCAN_RATE_DIVISOR / scale, 1.5 · young)`;
//! 2. MARK (`mark_at_start`, once per scavenge): everything reachable from the roots moves to
//!    the visited space, costing twice its size in budget; nothing is collected;
//! 3. COLLECT: the region is all of young (`take_young`) plus, while the budget lasts, the oldest
//!    pending objects each with its transitive closure within pending (`expand_region`);
//! 4. `collect_region`: `deduce_unreachable`, then phases 6–10 (`dispose_of_garbage`);
//!    survivors go to the end of the visited space, not examined again this scavenge;
//! 5. the budget pays for the region, and gains a heap slice again (3.14.0 only);
//! 6. `completed_scavenge` when the pending space is empty.
//!
//! `gc.collect()` is `collect_full` (everything in one region, then a completed scavenge);
//! `gc.collect(0)` is `collect_young`; `gc.collect(1)` one increment.
//!
//! Departures from CPython (docs/ARCHITECTURE.md says why): roots are found by subtraction over
//! the whole tracked heap (the model has no frames to scan), and the heap's globals dict is a
//! root; no per-increment `mark_stacks`; dicts are tracked lazily as in 3.11; old counts of
//! `gc.get_count()` are not kept; 3.14.1–3.14.4's counting and early return are not modelled.

use std::cell::Cell;
use std::ptr::NonNull;

use super::Collection;
use super::generational::{Untrack, subtract_refs, update_refs};
use crate::heap::{Heap, gc_list};
use crate::object::{self, GcHead, ObjPtr, flags};

/// Marking is charged twice against the budget (PR #127519: `mark_at_start` subtracts the
/// marked objects, and `gc_collect_increment` subtracts them again).
const MARK_WEIGHT: i64 = 2;

/// The budget of a fresh interpreter (`pycore_runtime_init.h`).
const INITIAL_WORK_TO_DO: i64 = -5000;

/// What the next increment does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Mark everything reachable from the roots (starts a scavenge).
    Mark,
    /// Collect a region: young plus a slice of the pending space.
    Collect,
}

/// The incremental collector's own state (the lists are in [`super::GcState`]).
pub(in crate::heap) struct IncrementalState {
    /// Which old space (0 or 1) is the visited one.
    visited: Cell<usize>,
    /// The budget, in objects (`work_to_do`); may go far below zero after a mark.
    work_to_do: Cell<i64>,
    phase: Cell<Phase>,
    /// `SCAN_RATE_DIVISOR`: each increment takes `heap_size / divisor / scale` of the old space.
    scan_rate_divisor: i64,
}

impl IncrementalState {
    pub(in crate::heap) fn new(scan_rate_divisor: u64) -> IncrementalState {
        IncrementalState {
            visited: Cell::new(0),
            work_to_do: Cell::new(INITIAL_WORK_TO_DO),
            phase: Cell::new(Phase::Mark),
            scan_rate_divisor: i64::try_from(scan_rate_divisor.max(1)).unwrap_or(i64::MAX),
        }
    }
}

/// The incremental collector's state, for tests and reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncrementalStatus {
    pub phase: Phase,
    pub work_to_do: i64,
    /// Counted container allocations minus deallocations since the heap was built.
    pub heap_size: i64,
    /// Objects in the young generation.
    pub young: u64,
    /// Objects in the visited ("aging") space.
    pub visited: u64,
    /// Objects in the pending ("collecting") space.
    pub pending: u64,
}

/// Entry points: the automatic trigger, `gc.collect(0)`, `gc.collect(1)`, `gc.collect(2)`.
impl Heap {
    /// The incremental collector's state now.
    pub fn incremental_status(&self) -> IncrementalStatus {
        // SAFETY: live list sentinels. Test: incremental::promoted_garbage_waits_survivors_age_and_the_spaces_swap.
        let size = |list| unsafe { gc_list::size(list) };
        IncrementalStatus {
            phase: self.incremental.phase.get(),
            work_to_do: self.incremental.work_to_do.get(),
            heap_size: self.gc.heap_size.get(),
            young: size(self.gc.generations[0]),
            visited: size(self.visited_space()),
            pending: size(self.pending_space()),
        }
    }

    /// The young count passed its threshold: one increment (`_Py_RunGC` → `_PyGC_Collect(1)`).
    #[cold]
    #[inline(never)]
    pub(in crate::heap) fn collect_increment_due(&self) {
        self.collect_increment();
    }

    /// One increment, as a pause. A MARK increment is a pause but, as in 3.14.0, not counted in
    /// `gc_stats()[1]` (`add_stats` sits at the end of the COLLECT path).
    pub(super) fn collect_increment(&self) -> Collection {
        let marking = self.incremental.phase.get() == Phase::Mark;
        let collection = self.pause(Heap::incremental);
        if !marking {
            self.gc.count_collection(&collection);
        }
        collection
    }

    /// One increment (`gc_collect_increment`), phase by phase.
    pub(super) fn incremental(&self) -> Collection {
        let state = &self.incremental;
        state.work_to_do.set(state.work_to_do.get() + self.assess_work_to_do());
        if state.phase.get() == Phase::Mark {
            // SAFETY: no collection runs (the caller holds the collecting flag) and no user code
            // runs while marking. Test: incremental::a_mark_increment_collects_nothing_and_charges_marking_twice.
            let marked = unsafe { self.mark_at_start() };
            state.work_to_do.set(state.work_to_do.get() - MARK_WEIGHT * marked as i64);
            state.phase.set(Phase::Collect);
            self.validate_spaces();
            return Collection { generation: 1, examined: marked, ..Collection::default() };
        }
        let region = gc_list::TempList::new();
        // SAFETY: the region and the spaces are live lists of live tracked containers; no user
        // code runs before `collect_region`. Tests: incremental::promoted_garbage_waits_survivors_
        // age_and_the_spaces_swap, collector_oracle::incremental_increments_free_exactly_the_unreachable.
        let collection = unsafe {
            let mut size = self.take_young(region.head());
            size += self.take_pending(region.head(), size);
            let mut collection = self.collect_region(region.head(), 1);
            collection.examined = size;
            collection
        };
        state.work_to_do.set(state.work_to_do.get() + self.heap_fraction() - collection.examined as i64);
        // SAFETY: a live list sentinel. Test: incremental::promoted_garbage_waits_survivors_age_and_the_spaces_swap.
        if unsafe { gc_list::first(self.pending_space()) }.is_none() {
            self.completed_scavenge();
        }
        self.validate_spaces();
        collection
    }

    /// `gc.collect(0)` (`gc_collect_young`): young alone; survivors to the visited space.
    pub(super) fn collect_young(&self) -> Collection {
        let region = gc_list::TempList::new();
        // SAFETY: as in `incremental`. Test: incremental::explicit_generations_do_what_cpython_does.
        let collection = unsafe {
            self.take_young(region.head());
            self.collect_region(region.head(), 0)
        };
        self.gc.counts[0].set(0);
        self.validate_spaces();
        collection
    }

    /// `gc.collect()` (`gc_collect_full`): young and both old spaces in one region, in place;
    /// then a completed scavenge (everything surviving is pending, the next increment marks)
    /// and empty free lists.
    pub(super) fn collect_full(&self) -> Collection {
        let visited = self.incremental.visited.get();
        let (young, pending, visited_space) = (self.gc.generations[0], self.pending_space(), self.visited_space());
        // SAFETY: as in `incremental`. Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
        let collection = unsafe {
            gc_list::merge(young, pending);
            set_space(pending, visited);
            gc_list::merge(pending, visited_space);
            self.collect_region(visited_space, 2)
        };
        for count in &self.gc.counts {
            count.set(0);
        }
        self.completed_scavenge();
        self.gc.free_lists.clear();
        self.validate_spaces();
        collection
    }
}

/// The steps of an increment.
impl Heap {
    /// `assess_work_to_do`: what this increment adds to the budget, the young count plus a slice
    /// of the heap capped at 1.5 times the young count. Resets the young count.
    fn assess_work_to_do(&self) -> i64 {
        let new = i64::try_from(self.gc.counts[0].get()).unwrap_or(i64::MAX);
        let heap_fraction = self.heap_fraction().min(new * 3 / 2);
        self.gc.counts[0].set(0);
        new + heap_fraction
    }

    /// `heap_size / SCAN_RATE_DIVISOR / scale`, truncating as C does; `scale` is
    /// `gc.set_threshold`'s second argument, at least 2.
    fn heap_fraction(&self) -> i64 {
        let scale = i64::try_from(self.gc_thresholds()[1]).unwrap_or(i64::MAX).max(2);
        self.gc.heap_size.get() / self.incremental.scan_rate_divisor / scale
    }

    /// `mark_at_start` (gh-126491): everything reachable from the roots moves to the end of the
    /// visited space, young objects included; frozen objects are never traversed. Returns the
    /// number of objects marked.
    ///
    /// CPython's roots are the interpreter's globals and the frames' locals; the model's are the
    /// objects referred to from outside the tracked heap (handles, the globals dict, `garbage`),
    /// found as a full collection finds them: `gc_refs` = refcount less the references from
    /// tracked containers, frozen ones included (what only a frozen object holds is no root).
    ///
    /// # Safety
    /// No collection is running on the lists; no user code runs.
    unsafe fn mark_at_start(&self) -> u64 {
        let lists = self.gc.all_lists();
        // SAFETY: forwarded; every tracked container is in one of these lists, so COLLECTING
        // marks exactly the tracked containers. Test: incremental::a_mark_increment_collects_nothing_and_charges_marking_twice.
        unsafe {
            for list in lists {
                update_refs(list);
            }
            for list in lists {
                subtract_refs(list);
            }
            let roots = self.find_roots();
            self.mark_from(&roots)
        }
    }

    /// Ends the COLLECTING state of every tracked container, gives young objects the pending bit
    /// and frozen ones the visited bit, and returns the roots in list order (young, then the old
    /// spaces), frozen objects excluded.
    ///
    /// # Safety
    /// `update_refs` and `subtract_refs` ran on every list.
    unsafe fn find_roots(&self) -> Vec<ObjPtr> {
        let visited = self.incremental.visited.get();
        let [young, old0, old1, permanent] = self.gc.all_lists();
        let mut roots = Vec::new();
        // SAFETY: forwarded; flags and `gc_refs` of live containers only.
        // Test: incremental::a_mark_increment_collects_nothing_and_charges_marking_twice.
        unsafe {
            set_space(young, visited ^ 1);
            set_space(permanent, visited);
            for list in [young, old0, old1, permanent] {
                gc_list::for_each(list, |obj| {
                    (*obj).flags &= !flags::COLLECTING;
                    if list != permanent && (*obj).gc_refs > 0 {
                        roots.push(obj);
                    }
                });
            }
        }
        roots
    }

    /// `move_to_reachable` and `mark_all_reachable`: each root, then each object reached, moves
    /// to the end of the visited space, which is walked from the first one moved as the worklist
    /// (CPython moves them through a `reachable` list first: the same order, twice the moves).
    ///
    /// # Safety
    /// `roots` are live tracked containers; the space bits hold their invariants.
    unsafe fn mark_from(&self, roots: &[ObjPtr]) -> u64 {
        let visited = self.incremental.visited.get();
        let visited_space = self.visited_space();
        let mut marked = 0;
        // SAFETY: forwarded; references of live objects are live, only tracked containers outside the
        // visited space move, and the walk starts after the visited space's old last node (it stays).
        // Test: incremental::a_mark_increment_collects_nothing_and_charges_marking_twice.
        unsafe {
            let before = (*visited_space.as_ptr()).prev;
            let mut move_to_visited = |obj: ObjPtr| {
                if (*obj).kind.is_container() && object::is_tracked(obj) && space(obj) != visited {
                    set_space_of(obj, visited);
                    gc_list::remove(obj);
                    gc_list::append(visited_space, obj);
                    marked += 1;
                }
            };
            for &root in roots {
                move_to_visited(root);
            }
            let mut node = (*before).next;
            while node != visited_space.as_ptr() {
                object::for_each_reference(object::from_gc_head(node), &mut move_to_visited);
                node = (*node).next;
            }
        }
        marked
    }

    /// Moves all of young to the end of `region` with the visited bit. Returns how many.
    ///
    /// # Safety
    /// `region` is a live list.
    unsafe fn take_young(&self, region: NonNull<GcHead>) -> u64 {
        let young = self.gc.generations[0];
        // SAFETY: forwarded. Test: incremental::promoted_garbage_waits_survivors_age_and_the_spaces_swap.
        unsafe {
            let moved = set_space(young, self.incremental.visited.get());
            gc_list::merge(young, region);
            moved
        }
    }

    /// While the region (`size` objects so far) is smaller than the budget, moves the oldest
    /// pending object to it, with everything it reaches in the pending space. Returns how many
    /// objects it moved.
    ///
    /// # Safety
    /// `region` is a live list whose objects carry the visited bit.
    unsafe fn take_pending(&self, region: NonNull<GcHead>, mut size: u64) -> u64 {
        let visited = self.incremental.visited.get();
        let pending = self.pending_space();
        let start = size;
        // SAFETY: forwarded. Test: incremental::promoted_garbage_waits_survivors_age_and_the_spaces_swap.
        unsafe {
            while (size as i64) < self.incremental.work_to_do.get() {
                let Some(obj) = gc_list::first(pending) else { break };
                gc_list::remove(obj);
                set_space_of(obj, visited);
                gc_list::append(region, obj);
                size += 1 + expand_region(region, obj, visited);
            }
        }
        size - start
    }

    /// `gc_collect_region`: finds the garbage of `region` (phases 2–4: references from outside
    /// it, wherever they are, count as roots, which is conservative), disposes of it (phases
    /// 6–10), and moves the survivors to the end of the visited space with the visited bit.
    ///
    /// # Safety
    /// `region` is a live list of live containers, none COLLECTING.
    unsafe fn collect_region(&self, region: NonNull<GcHead>, generation: usize) -> Collection {
        let unreachable = gc_list::TempList::new();
        let survivors = gc_list::TempList::new();
        // SAFETY: forwarded; `dispose_of_garbage` gets the garbage as `move_unreachable` left it.
        // Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
        unsafe {
            let untrack = Untrack { tuples: true, dicts: false };
            let (examined, scan) = self.deduce_unreachable(region, unreachable.head(), untrack);
            gc_list::merge(region, survivors.head());
            let disposal = self.dispose_of_garbage(unreachable.head(), scan.unreachable, survivors.head());
            // Weakrefs whose callbacks ran join the survivors from any list: all take the bit.
            set_space(survivors.head(), self.incremental.visited.get());
            gc_list::merge(survivors.head(), self.visited_space());
            Collection { generation, examined, collected: disposal.collected, uncollectable: disposal.uncollectable }
        }
    }

    /// `completed_scavenge`: the pending space is empty; the whole old space becomes pending
    /// (order kept), the visited space empty, and the next increment marks. With frozen objects
    /// (which carry the visited bit) the lists merge instead of the spaces swapping.
    fn completed_scavenge(&self) {
        let state = &self.incremental;
        let visited = state.visited.get();
        // SAFETY: live list sentinels. Test: incremental::promoted_garbage_waits_survivors_age_and_the_spaces_swap.
        unsafe {
            if gc_list::first(self.gc.permanent).is_none() {
                state.visited.set(visited ^ 1);
            } else {
                set_space(self.visited_space(), visited ^ 1);
                gc_list::merge(self.visited_space(), self.pending_space());
            }
        }
        state.work_to_do.set(0);
        state.phase.set(Phase::Mark);
    }

    /// The visited ("aging") space.
    pub(super) fn visited_space(&self) -> NonNull<GcHead> {
        self.gc.generations[1 + self.incremental.visited.get()]
    }

    /// The pending ("collecting") space.
    fn pending_space(&self) -> NonNull<GcHead> {
        self.gc.generations[1 + (self.incremental.visited.get() ^ 1)]
    }

    /// Gives every tracked container the visited bit (`gc.freeze()` under `incremental`).
    pub(super) fn mark_all_visited(&self) {
        for list in self.gc.all_lists() {
            // SAFETY: a live list of live containers. Test: incremental::frozen_objects_stay_frozen.
            unsafe { set_space(list, self.incremental.visited.get()) };
        }
    }

    /// `validate_spaces`, under debug assertions: objects in old space `s` carry bit `s`, frozen
    /// objects the visited bit.
    fn validate_spaces(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        let visited = self.incremental.visited.get();
        let expected = [(self.gc.generations[1], 0), (self.gc.generations[2], 1), (self.gc.permanent, visited)];
        for (list, bit) in expected {
            // SAFETY: read-only walks of live lists. Test: incremental::frozen_objects_stay_frozen.
            unsafe { gc_list::for_each(list, |obj| assert_eq!(space(obj), bit, "an object in the wrong space")) };
        }
    }
}

/// `expand_region_transitively_reachable`: walks the region from `from` to its end (the end grows
/// while it is walked) and moves every pending object referred to onto it, with the visited bit.
/// Young objects before `from` are not expanded (young is all in the region already). Returns
/// how many objects it moved.
///
/// # Safety
/// `region` is a live list holding `from`; the space bits hold their invariants.
unsafe fn expand_region(region: NonNull<GcHead>, from: ObjPtr, visited: usize) -> u64 {
    let mut moved = 0;
    // SAFETY: forwarded; the walk reads the next node after the children are appended.
    // Test: incremental::promoted_garbage_waits_survivors_age_and_the_spaces_swap.
    unsafe {
        let mut node = object::gc_head(from);
        while node != region.as_ptr() {
            object::for_each_reference(object::from_gc_head(node), |child| {
                if (*child).kind.is_container() && object::is_tracked(child) && space(child) != visited {
                    set_space_of(child, visited);
                    gc_list::remove(child);
                    gc_list::append(region, child);
                    moved += 1;
                }
            });
            node = (*node).next;
        }
    }
    moved
}

/// The object's old space, 0 or 1.
///
/// # Safety
/// `obj` is a live object.
unsafe fn space(obj: ObjPtr) -> usize {
    // SAFETY: forwarded. Test: incremental::promoted_garbage_waits_survivors_age_and_the_spaces_swap.
    unsafe { usize::from((*obj).flags & flags::OLD_SPACE_1 != 0) }
}

/// Sets the object's old space.
///
/// # Safety
/// `obj` is a live object.
unsafe fn set_space_of(obj: ObjPtr, space: usize) {
    // SAFETY: forwarded. Test: incremental::promoted_garbage_waits_survivors_age_and_the_spaces_swap.
    unsafe {
        if space == 1 {
            (*obj).flags |= flags::OLD_SPACE_1;
        } else {
            (*obj).flags &= !flags::OLD_SPACE_1;
        }
    }
}

/// Sets the old space of every object of `list`; returns how many.
///
/// # Safety
/// `list` is a live list of live containers.
unsafe fn set_space(list: NonNull<GcHead>, space: usize) -> u64 {
    let mut objects = 0;
    // SAFETY: forwarded. Test: incremental::promoted_garbage_waits_survivors_age_and_the_spaces_swap.
    unsafe {
        gc_list::for_each(list, |obj| {
            set_space_of(obj, space);
            objects += 1;
        });
    }
    objects
}

#[cfg(test)]
mod tests {
    use crate::heap::{Heap, HeapConfig};
    use crate::strategy;

    #[test]
    fn assess_work_to_do_follows_cpythons_arithmetic() {
        let incremental = strategy::find("incremental").unwrap().build(&Default::default()).unwrap();
        let heap = Heap::new(HeapConfig::default(), incremental);
        // (heap_size, what a young count of 2001 adds, the slice added after the increment)
        for (heap_size, added, slice) in [(0, 2001, 0), (200_000, 4001, 2000), (1_000_000, 5002, 10_000)] {
            heap.gc.counts[0].set(2001);
            heap.gc.heap_size.set(heap_size);
            assert_eq!(heap.assess_work_to_do(), added);
            assert_eq!(heap.gc.counts[0].get(), 0, "the young count is reset");
            assert_eq!(heap.heap_fraction(), slice);
        }
    }
}
