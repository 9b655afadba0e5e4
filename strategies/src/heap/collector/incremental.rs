//! CPython 3.14.0's incremental cycle collector (gh-108362, `Python/gc.c`; reverted in 3.14.5
//! after production memory growth), behind the `incremental` strategy, with 3.14.1–3.14.4's
//! arithmetic as `version=3.14.1`. Phases of the garbage found are shared (`garbage.rs`);
//! finding it is phases 2–4 of `generational` (`deduce_unreachable`), applied to a *region*
//! instead of a generation.
//!
//! Hot path: the gen-0 count, as for `generational` (`young_count`, counted as 3.14.0 counts it:
//! every container allocation, free lists modelled), plus `heap_size` (counted allocations
//! minus deallocations, never reset). Past the young threshold (2000) an allocation runs one
//! increment. Parameters: the young threshold, the scan-rate divisor (10), the version.
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
//! ([`Heap::incremental`], `gc_collect_increment`):
//!
//! 1. `assess_work_to_do`: the budget grows by the young count plus a slice of the heap,
//!    `min(heap_size / SCAN_RATE_DIVISOR / scale, 1.5 · young)`;
//! 2. MARK (`mark_at_start`), the first increment after a completed scavenge (and the first
//!    one of all): everything reachable from the roots moves to the visited space, and the
//!    budget pays twice its size (`mark_at_start` subtracts it, its caller again: gh-141890);
//!    nothing is collected, young included;
//! 3. COLLECT: the region is all of young (`take_young`) plus, while the region is smaller than
//!    the budget, the oldest pending object with its transitive closure within pending
//!    (`expand_region`); a negative budget takes young alone;
//! 4. `collect_region`: `deduce_unreachable`, then phases 6–10 (`dispose_of_garbage`);
//!    survivors go to the end of the visited space, not examined again this scavenge;
//! 5. the budget pays for the region, and gains a heap slice again;
//! 6. `completed_scavenge` when the pending space is empty: the spaces swap, the budget is set to
//!    0 (a mark's unpaid debt is forgiven) and the next increment marks.
//!
//! **How often CPython marks, and what it costs.** 3.14.0 marks once per scavenge, whole, in one
//! increment ("TO DO -- Make this incremental"): `mark_global_roots` (the interpreter's `sysdict`,
//! `builtins`, `dict`, the static types' dicts) and `mark_stacks(start=true)` (every frame's
//! locals and stack), each root through `move_to_reachable`, then `mark_all_reachable`, one
//! `tp_traverse` per object reached: the cost is one traversal of what the roots reach. When
//! every old object is reachable from the roots (the model's workloads; CPython's twins, whose
//! runner freezes the interpreter's own objects first), the mark leaves only garbage pending,
//! the next COLLECT empties it, the scavenge completes, and the increment after marks again:
//! every other increment is a MARK of the live heap, in 3.14.0 as here. In a process where some
//! old objects are reachable from no root (held by C state, or by frozen objects), the pending
//! space stays non-empty and the debt (twice the live heap) is repaid first: about `2L /
//! (2 · heap_size / 100)` increments between marks.
//!
//! The model's roots are the references from outside the tracked heap: the program's handles,
//! the globals dict, `garbage`. It marks from the handles the program registered as locals
//! ([`Heap::local`]: a traversal of what they reach, as CPython's), then from the roots among
//! what that did not reach, found by subtraction over those objects (young, the rest of the
//! pending space). The objects marked are the same as with subtraction over the whole heap;
//! the mark costs a traversal of the marked objects plus one of young and of the garbage
//! waiting in the pending space.
//!
//! **3.14.1–3.14.4** (`version=3.14.1`; GH-140262, backported as PR #140447, until the revert in
//! 3.14.5): an increment returns at once while the budget is negative, before marking or
//! collecting young; the heap slice is capped at twice the young count; no slice is added after
//! the increment. Under a mark's debt, young garbage then waits too. Not modelled: that release
//! counts tracked objects (in `_PyObject_GC_TRACK`, not per allocation) and does not track most
//! untrackable tuples at creation; whether its empty increments count in `get_stats()[1]` is
//! not known here (the model counts only COLLECT increments, as 3.14.0 does).
//!
//! `gc.collect()` is `collect_full` (everything in one region, then a completed scavenge);
//! `gc.collect(0)` is `collect_young`; `gc.collect(1)` one increment.
//!
//! Departures from CPython (docs/ARCHITECTURE.md says why): roots other than the registered
//! locals are found by subtraction, and the heap's globals dict is a root; no per-increment
//! `mark_stacks`; dicts are tracked lazily as in 3.11; old counts of `gc.get_count()` are not
//! kept.

use std::cell::Cell;
use std::ptr::NonNull;

use super::Collection;
use super::generational::{Members, Untrack, subtract_refs, update_refs};
use crate::heap::{Heap, gc_list};
use crate::object::{self, GcHead, ObjPtr, flags};
use crate::strategy::IncrementalVersion;

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

/// What the last increment did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Nothing: the budget was negative (3.14.1–3.14.4's early return).
    Skipped,
    Marked,
    Collected,
}

/// The incremental collector's own state (the lists are in [`super::GcState`]).
pub(in crate::heap) struct IncrementalState {
    /// Which old space (0 or 1) is the visited one.
    visited: Cell<usize>,
    /// The budget, in objects (`work_to_do`); may go far below zero after a mark.
    work_to_do: Cell<i64>,
    phase: Cell<Phase>,
    last_step: Cell<Step>,
    /// `SCAN_RATE_DIVISOR`: each increment takes `heap_size / divisor / scale` of the old space.
    scan_rate_divisor: i64,
    version: IncrementalVersion,
}

impl IncrementalState {
    pub(in crate::heap) fn new(scan_rate_divisor: u64, version: IncrementalVersion) -> IncrementalState {
        IncrementalState {
            visited: Cell::new(0),
            work_to_do: Cell::new(INITIAL_WORK_TO_DO),
            phase: Cell::new(Phase::Mark),
            last_step: Cell::new(Step::Skipped),
            scan_rate_divisor: i64::try_from(scan_rate_divisor.max(1)).unwrap_or(i64::MAX),
            version,
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

    /// One increment, as a pause. Only a COLLECT increment counts in `gc_stats()[1]`, as in
    /// 3.14.0 (`add_stats` sits at the end of the COLLECT path): a MARK increment, and under
    /// 3.14.1–3.14.4 one that returned at once, are pauses but not collections.
    pub(super) fn collect_increment(&self) -> Collection {
        let collection = self.pause(Heap::incremental);
        if self.incremental.last_step.get() == Step::Collected {
            self.gc.count_collection(&collection);
        }
        collection
    }

    /// One increment (`gc_collect_increment`), phase by phase.
    pub(super) fn incremental(&self) -> Collection {
        let state = &self.incremental;
        state.work_to_do.set(state.work_to_do.get() + self.assess_work_to_do());
        if state.version == IncrementalVersion::V3_14_1 && state.work_to_do.get() < 0 {
            state.last_step.set(Step::Skipped);
            return Collection { generation: 1, ..Collection::default() };
        }
        if state.phase.get() == Phase::Mark {
            // SAFETY: no collection runs (the caller holds the collecting flag) and no user code
            // runs while marking. Test: incremental::a_mark_increment_collects_nothing_and_charges_marking_twice.
            let marked = unsafe { self.mark_at_start() };
            state.work_to_do.set(state.work_to_do.get() - MARK_WEIGHT * marked as i64);
            state.phase.set(Phase::Collect);
            state.last_step.set(Step::Marked);
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
        let slice = match state.version {
            IncrementalVersion::V3_14_0 => self.heap_fraction(),
            IncrementalVersion::V3_14_1 => 0,
        };
        state.work_to_do.set(state.work_to_do.get() + slice - collection.examined as i64);
        state.last_step.set(Step::Collected);
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
    /// of the heap capped at 1.5 times the young count (3.14.1–3.14.4: twice). Resets the young
    /// count.
    fn assess_work_to_do(&self) -> i64 {
        let new = i64::try_from(self.gc.counts[0].get()).unwrap_or(i64::MAX);
        let cap = match self.incremental.version {
            IncrementalVersion::V3_14_0 => new * 3 / 2,
            IncrementalVersion::V3_14_1 => new * 2,
        };
        let heap_fraction = self.heap_fraction().min(cap);
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
    /// CPython's roots are the interpreter's globals and the frames' locals, and it traverses
    /// only what they reach. The model's roots are every reference from outside the tracked
    /// heap: the program's handles, the globals dict, `garbage`. It marks in two steps with
    /// the same outcome: first from the handles the program registered ([`Heap::local`], its
    /// long-lived data: a traversal of what they reach, as CPython's), then from the roots
    /// among what that did not reach, found by subtraction over those objects alone (young,
    /// the pending space's rest, and whatever was visited before the mark).
    ///
    /// # Safety
    /// No collection is running on the lists; no user code runs.
    unsafe fn mark_at_start(&self) -> u64 {
        let visited = self.incremental.visited.get();
        let earlier = gc_list::TempList::new();
        // SAFETY: forwarded; objects visited before the mark (a `gc.collect(0)`, an `unfreeze`)
        // wait in `earlier`, in order, and go back in front of what is marked.
        // Test: incremental::locals_make_the_mark_cheaper_not_different.
        unsafe {
            set_space(self.gc.generations[0], visited ^ 1);
            gc_list::merge(self.visited_space(), earlier.head());
            let mut marked = self.mark_from(&self.local_roots());
            marked += self.mark_the_rest(earlier.head());
            gc_list::merge(self.visited_space(), earlier.head());
            gc_list::merge(earlier.head(), self.visited_space());
            marked
        }
    }

    /// Marks from the roots among the objects the locals did not reach: `gc_refs` = refcount
    /// less the references from tracked containers, over young and the pending space, with the
    /// references from `earlier` (visited before the mark) and from frozen objects subtracted too
    /// (what only a frozen object holds is no root, as in CPython, which never traverses them).
    /// The objects just marked need no subtraction: none of them refers to an unmarked one.
    ///
    /// # Safety
    /// As [`Heap::mark_at_start`]; `earlier` holds what was visited before the mark.
    unsafe fn mark_the_rest(&self, earlier: NonNull<GcHead>) -> u64 {
        let (young, pending) = (self.gc.generations[0], self.pending_space());
        let mut roots = Vec::new();
        // SAFETY: forwarded; COLLECTING marks exactly the objects of `young` and `pending`, and
        // is cleared on all of them before any moves. Test: incremental::locals_make_the_mark_cheaper_not_different.
        unsafe {
            update_refs(young);
            update_refs(pending);
            for list in [young, pending, earlier, self.gc.permanent] {
                subtract_refs(list);
            }
            for list in [young, pending] {
                gc_list::for_each(list, |obj| {
                    (*obj).flags &= !flags::COLLECTING;
                    if (*obj).gc_refs > 0 {
                        roots.push(obj);
                    }
                });
            }
            self.mark_from(&roots)
        }
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
            let (examined, scan) = self.deduce_unreachable(region, unreachable.head(), Members::ListedOnly, untrack);
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
