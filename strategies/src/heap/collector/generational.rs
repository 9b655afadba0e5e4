//! CPython's cycle collector (3.11 `Modules/gcmodule.c`), as one collector behind the
//! `generational` and `manual` strategies; phases 1 to 5 here, 6 to 10 in `garbage.rs`.
//!
//! Hot path: the gen-0 count (container allocations minus deallocations, CPython's free lists
//! modelled in `free_lists.rs`), which makes a collection due past the gen-0 threshold.
//! Parameters: the three thresholds, and whether collection is automatic.
//!
//! Tracked containers live in one of three generation lists (or the permanent generation after
//! `freeze()`). [`Heap::collect`] collects a generation and every younger one, in CPython's
//! order of phases:
//!
//! 1. merge the younger generations into the one collected (`young`);
//! 2. `update_refs`: `gc_refs = refcount` for each object of `young`, marked COLLECTING;
//! 3. `subtract_refs`: every reference from inside `young` takes one off its target's `gc_refs`;
//!    what is left counts references from outside: roots (a full collection with nothing frozen
//!    does 2 and 3 in one walk, `count_outside_references`);
//! 4. `move_unreachable`: scan `young`; objects with `gc_refs > 0` are reachable and make what they
//!    reach reachable (moving it back from the tentatively-unreachable list); the rest end up in
//!    `unreachable`;
//! 5. untrack tuples (and, in full collections, dicts) that cannot be part of a cycle
//!    (`untrack_tuples`, `untrack_dicts`; folded into the scan of phase 4, which visits objects
//!    in the same order); survivors move to the next older generation;
//! 6. `move_legacy_finalizers`: objects with a legacy (tp_del-style) finalizer, and all they reach,
//!    are uncollectable and go to `garbage`;
//! 7. `handle_weakrefs`: clear weakrefs to garbage; run callbacks of weakrefs that are not garbage;
//! 8. `finalize_garbage`: run each finalizer once (PEP 442);
//! 9. `handle_resurrected_objects`: redo steps 2–4 on `unreachable`; what a finalizer made
//!    reachable again survives;
//! 10. `delete_garbage`: clear each object's references (`tp_clear`) and let refcounting free it.
//!
//! Every list walk is an explicit loop over the intrusive lists; nothing recurses. Under debug
//! assertions the lists are validated between phases, as CPython's `validate_list` does.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

use super::free_lists::FreeLists;
use super::{Collection, GENERATIONS, GenerationStats};
use crate::heap::{Handle, Heap, gc_list};
use crate::object::{self, GcHead, Kind, ObjPtr, flags};
use crate::strategy::CollectorKind;

/// The collector's state inside a heap.
pub(in crate::heap) struct GcState {
    /// Under `incremental`: young, then old spaces 0 and 1.
    pub(super) generations: [NonNull<GcHead>; GENERATIONS],
    pub(super) permanent: NonNull<GcHead>,
    /// Gen 0: container allocations minus deallocations since its last collection; gen 1 and 2:
    /// collections of the generation below since their own last collection.
    pub(super) counts: [Cell<u64>; GENERATIONS],
    /// Counted container allocations minus deallocations, never reset, no floor (CPython
    /// 3.14's `heap_size`; read by `incremental` only).
    pub(super) heap_size: Cell<i64>,
    thresholds: Cell<[u64; GENERATIONS]>,
    /// Collect automatically when gen 0's count passes its threshold.
    automatic: Cell<bool>,
    collecting: Cell<bool>,
    long_lived_total: Cell<u64>,
    long_lived_pending: Cell<u64>,
    stats: RefCell<[GenerationStats; GENERATIONS]>,
    /// Uncollectable objects (CPython's `gc.garbage`), each holding a reference.
    garbage: RefCell<Vec<ObjPtr>>,
    pub(super) free_lists: FreeLists,
}

impl GcState {
    pub(in crate::heap) fn new(thresholds: [u64; GENERATIONS], automatic: bool) -> GcState {
        GcState {
            generations: [gc_list::new(), gc_list::new(), gc_list::new()],
            permanent: gc_list::new(),
            counts: Default::default(),
            heap_size: Cell::new(0),
            thresholds: Cell::new(thresholds),
            automatic: Cell::new(automatic),
            collecting: Cell::new(false),
            long_lived_total: Cell::new(0),
            long_lived_pending: Cell::new(0),
            stats: RefCell::new(Default::default()),
            garbage: RefCell::new(Vec::new()),
            free_lists: FreeLists::default(),
        }
    }

    /// Where new containers are tracked.
    pub(in crate::heap) fn youngest(&self) -> NonNull<GcHead> {
        self.generations[0]
    }

    /// Every list that holds tracked containers.
    pub(in crate::heap) fn all_lists(&self) -> [NonNull<GcHead>; GENERATIONS + 1] {
        [self.generations[0], self.generations[1], self.generations[2], self.permanent]
    }

    pub(in crate::heap) fn garbage(&self) -> &RefCell<Vec<ObjPtr>> {
        &self.garbage
    }

    pub(in crate::heap) fn is_collecting(&self) -> bool {
        self.collecting.get()
    }

    pub(super) fn set_collecting(&self, collecting: bool) {
        self.collecting.set(collecting);
    }

    /// Adds a collection to the statistics of the generation it collected.
    pub(super) fn count_collection(&self, collection: &Collection) {
        let mut stats = self.stats.borrow_mut();
        let entry = &mut stats[collection.generation];
        entry.collections += 1;
        entry.collected += collection.collected;
        entry.uncollectable += collection.uncollectable;
    }

    /// A container of `kind` and `len` was allocated: count it unless CPython would have reused
    /// one from a free list (see [`FreeLists`]). Returns whether it was counted and whether an
    /// automatic collection is due (`_PyObject_GC_Link`).
    pub(in crate::heap) fn note_allocation(&self, kind: Kind, len: usize) -> (bool, bool) {
        if self.free_lists.pop(kind, len) {
            return (false, false);
        }
        (true, self.count_allocation())
    }

    fn count_allocation(&self) -> bool {
        let count = self.counts[0].get() + 1;
        self.counts[0].set(count);
        self.heap_size.set(self.heap_size.get() + 1);
        let threshold = self.thresholds.get()[0];
        self.automatic.get() && threshold > 0 && count > threshold && !self.collecting.get()
    }

    /// A container of `kind` and `len` died: uncounted if CPython would keep it on a free list,
    /// else counted as `PyObject_GC_Del` counts it.
    pub(in crate::heap) fn note_deallocation(&self, kind: Kind, len: usize) {
        if !self.free_lists.push(kind, len) {
            self.uncount_allocation();
        }
    }

    /// Takes back one allocation from the gen-0 count (an allocation that did not happen).
    pub(in crate::heap) fn uncount_allocation(&self) {
        self.counts[0].set(self.counts[0].get().saturating_sub(1));
        self.heap_size.set(self.heap_size.get() - 1);
    }

    /// Frees the list sentinels; the lists must be empty.
    ///
    /// # Safety
    /// Called once, when the heap is dropped, after every container was freed.
    pub(in crate::heap) unsafe fn free_lists(&self) {
        for list in self.all_lists() {
            // SAFETY: each sentinel came from `gc_list::new` and is freed once, here.
            // Test: object_model::teardown_frees_everything.
            unsafe { gc_list::free(list) };
        }
    }
}

/// The generational collector's API (CPython's `gc` module) and its automatic trigger.
impl Heap {
    /// `gc.get_count()`.
    pub fn gc_counts(&self) -> [u64; GENERATIONS] {
        self.gc.counts.each_ref().map(Cell::get)
    }

    /// `gc.get_stats()`.
    pub fn gc_stats(&self) -> [GenerationStats; GENERATIONS] {
        *self.gc.stats.borrow()
    }

    /// `gc.get_threshold()`.
    pub fn gc_thresholds(&self) -> [u64; GENERATIONS] {
        self.gc.thresholds.get()
    }

    /// `gc.enable()`: collection is automatic from now on.
    pub fn gc_enable(&self) {
        self.gc.automatic.set(true);
    }

    /// `gc.isenabled()`.
    pub fn gc_isenabled(&self) -> bool {
        self.gc.automatic.get()
    }

    /// `gc.freeze()`: moves every tracked container to the permanent generation, which is never
    /// collected, and zeroes the counts. Under `incremental` frozen objects carry the visited
    /// space bit, so that increments never draw them in (`_PyGC_Freeze`).
    pub fn freeze(&self) {
        if self.mode.collector == CollectorKind::Incremental {
            self.mark_all_visited();
        }
        for (list, count) in self.gc.generations.iter().zip(&self.gc.counts) {
            // SAFETY: both are live list sentinels. Test: collector::freeze_hides_garbage_until_unfreeze.
            unsafe { gc_list::merge(*list, self.gc.permanent) };
            count.set(0);
        }
    }

    /// `gc.unfreeze()`: moves the permanent generation back into the oldest generation (under
    /// `incremental`, to the end of the visited space).
    pub fn unfreeze(&self) {
        let oldest = match self.mode.collector {
            CollectorKind::Incremental => self.visited_space(),
            _ => self.gc.generations[GENERATIONS - 1],
        };
        // SAFETY: both are live list sentinels. Test: collector::freeze_hides_garbage_until_unfreeze.
        unsafe { gc_list::merge(self.gc.permanent, oldest) };
    }

    /// `gc.get_freeze_count()`.
    pub fn freeze_count(&self) -> u64 {
        // SAFETY: a live list sentinel. Test: collector::freeze_hides_garbage_until_unfreeze.
        unsafe { gc_list::size(self.gc.permanent) }
    }

    /// `len(gc.garbage)`: objects found unreachable but kept, because a legacy finalizer made
    /// them uncollectable.
    pub fn garbage_count(&self) -> usize {
        self.gc.garbage.borrow().len()
    }

    /// Whether `h`'s object is tracked by the collector (`gc.is_tracked`).
    pub fn is_tracked(&self, h: &Handle<'_>) -> bool {
        let obj = self.own(h);
        // SAFETY: a handle keeps its object alive; only containers have a GC head.
        // Test: collector::tuples_of_atoms_are_untracked_by_a_collection.
        unsafe { (*obj).kind.is_container() && object::is_tracked(obj) }
    }

    /// The automatic trigger (`gc_collect_generations`): the oldest generation whose count
    /// passed its threshold is collected, but a full collection only when the objects that
    /// survived a gen-1 collection since the last full one exceed 25% of those that survived it.
    pub(in crate::heap) fn collect_generations(&self) {
        let thresholds = self.gc.thresholds.get();
        for generation in (0..GENERATIONS).rev() {
            if self.gc.counts[generation].get() > thresholds[generation] {
                if generation == GENERATIONS - 1
                    && self.gc.long_lived_pending.get() < self.gc.long_lived_total.get() / 4
                {
                    continue;
                }
                self.collect_with_pause(|heap| heap.collect_main(generation));
                return;
            }
        }
    }
}

/// Phases 1 to 5.
impl Heap {
    /// `gc_collect_main`: one collection, phase by phase.
    pub(super) fn collect_main(&self, generation: usize) -> Collection {
        let gc = &self.gc;
        if generation + 1 < GENERATIONS {
            gc.counts[generation + 1].set(gc.counts[generation + 1].get() + 1);
        }
        for count in &gc.counts[..=generation] {
            count.set(0);
        }
        let young = gc.generations[generation];
        let old = gc.generations[(generation + 1).min(GENERATIONS - 1)];
        let full = generation == GENERATIONS - 1;
        let unreachable = gc_list::TempList::new();
        let mut collection = Collection { generation, ..Collection::default() };
        // Objects only move between these lists, or are freed (which unlinks them); user code
        // (callbacks, finalizers) runs only on objects that hold references, never on freed ones.
        // SAFETY: every list here is a live sentinel whose nodes are live tracked containers.
        // Tests: collector::*, collector_oracle::* (proptest against a reachability oracle).
        unsafe {
            for younger in &gc.generations[..generation] {
                gc_list::merge(*younger, young);
            }
            gc_list::validate(young, gc_list::Collecting::No);

            let untrack = Untrack { tuples: true, dicts: full };
            // A full collection with nothing frozen holds every tracked container.
            let members = if full && gc_list::first(gc.permanent).is_none() {
                Members::EveryTracked
            } else {
                Members::ListedOnly
            };
            let scan;
            (collection.examined, scan) = self.deduce_unreachable(young, unreachable.head(), members, untrack);

            let survivors = collection.examined - scan.unreachable - scan.untracked;
            if full {
                gc.long_lived_pending.set(0);
                gc.long_lived_total.set(survivors);
            } else {
                if generation == 1 {
                    gc.long_lived_pending.set(gc.long_lived_pending.get() + survivors);
                }
                gc_list::merge(young, old);
            }

            let disposal = self.dispose_of_garbage(unreachable.head(), scan.unreachable, old);
            collection.collected = disposal.collected;
            collection.uncollectable = disposal.uncollectable;
        }
        if generation == GENERATIONS - 1 {
            // CPython empties its free lists at every full collection (`clear_freelists`).
            self.gc.free_lists.clear();
        }
        collection
    }
}

impl Heap {
    /// Phases 2 to 4 (`deduce_unreachable`): moves the garbage of `young` to `unreachable`
    /// (COLLECTING and UNREACHABLE); the reachable objects stay in `young`, their collection
    /// state ended. Returns how many objects `young` held, and what the scan found.
    ///
    /// # Safety
    /// `young` is a live list of live containers, none COLLECTING; `unreachable` is a live,
    /// empty list; with [`Members::EveryTracked`], no tracked container is outside `young`.
    pub(super) unsafe fn deduce_unreachable(
        &self,
        young: NonNull<GcHead>,
        unreachable: NonNull<GcHead>,
        members: Members,
        untrack: Untrack,
    ) -> (u64, Scan) {
        // SAFETY: forwarded. Tests: collector_oracle::full_collection_frees_exactly_the_unreachable,
        // collector::a_full_collection_counts_references_from_frozen_objects.
        unsafe {
            let examined = match members {
                Members::ListedOnly => {
                    let examined = update_refs(young);
                    subtract_refs(young);
                    examined
                }
                Members::EveryTracked => count_outside_references(young),
            };
            let scan = self.move_unreachable(young, unreachable, untrack);
            gc_list::validate(young, gc_list::Collecting::No);
            gc_list::validate(unreachable, gc_list::Collecting::Yes);
            (examined, scan)
        }
    }
}

/// Phase 2 (`update_refs`): each object's `gc_refs` starts as its refcount, and it is marked as
/// being collected. Returns the number of objects.
///
/// # Safety
/// `list` is a live list of live containers.
pub(super) unsafe fn update_refs(list: NonNull<GcHead>) -> u64 {
    let mut objects = 0;
    // SAFETY: forwarded. Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
    unsafe {
        gc_list::for_each(list, |obj| {
            (*obj).gc_refs = (*obj).refcnt;
            (*obj).flags |= flags::COLLECTING;
            objects += 1;
        });
    }
    objects
}

/// Phase 3 (`subtract_refs`): each reference between objects of the collected set is
/// subtracted, so `gc_refs` counts only references from outside the set.
///
/// # Safety
/// `list` is a live list of live containers; `update_refs` ran on every object whose `gc_refs`
/// is to be counted (only COLLECTING objects are written: `incremental` also subtracts the
/// references of lists it did not update).
pub(super) unsafe fn subtract_refs(list: NonNull<GcHead>) {
    // SAFETY: forwarded; only COLLECTING objects (in `list`) are written.
    // Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
    unsafe {
        gc_list::for_each(list, |obj| {
            object::for_each_reference(obj, |child| {
                if (*child).flags & flags::COLLECTING != 0 {
                    debug_assert!((*child).gc_refs > 0, "more references found than counted");
                    (*child).gc_refs -= 1;
                }
            });
        });
    }
}

/// Phases 2 and 3 in one walk, for a collected set that holds every tracked container: each
/// object starts collecting (`gc_refs = refcount`, COLLECTING) when the walk first meets it,
/// as a member of `list` or as the target of a reference, and every reference to a tracked
/// container takes one off its target's `gc_refs`. Membership needs no marking pass, since a
/// container is in the set exactly when it is tracked. Returns the number of objects.
///
/// # Safety
/// `list` is a live list of live containers, none COLLECTING, and every tracked container is in
/// it (a full collection with nothing frozen).
unsafe fn count_outside_references(list: NonNull<GcHead>) -> u64 {
    let mut objects = 0;
    // SAFETY: forwarded; only tracked containers, all in `list`, are written.
    // Tests: collector_oracle::full_collection_frees_exactly_the_unreachable,
    // collector::a_full_collection_counts_references_from_frozen_objects.
    unsafe {
        gc_list::for_each(list, |obj| {
            start_collecting(obj);
            objects += 1;
            object::for_each_reference(obj, |child| {
                if (*child).kind.is_container() && object::is_tracked(child) {
                    start_collecting(child);
                    debug_assert!((*child).gc_refs > 0, "more references found than counted");
                    (*child).gc_refs -= 1;
                }
            });
        });
    }
    objects
}

/// Marks container `obj` COLLECTING with `gc_refs = refcount`, unless it already is.
///
/// # Safety
/// `obj` is a live container in the collected set.
#[inline(always)]
unsafe fn start_collecting(obj: ObjPtr) {
    // SAFETY: forwarded. Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
    unsafe {
        if (*obj).flags & flags::COLLECTING == 0 {
            (*obj).gc_refs = (*obj).refcnt;
            (*obj).flags |= flags::COLLECTING;
        }
    }
}

/// Which objects phases 2 and 3 take as the collected set.
#[derive(Clone, Copy)]
pub(super) enum Members {
    /// The objects of the list collected, marked by `update_refs`.
    ListedOnly,
    /// Every tracked container, all of them in the list collected: marked as the walk meets them
    /// ([`count_outside_references`]).
    EveryTracked,
}

/// Which containers phase 4 stops tracking when it finds them reachable: tuples on every
/// collection (`untrack_tuples`), dicts on full ones (`untrack_dicts`, 3.11).
#[derive(Clone, Copy)]
pub(super) struct Untrack {
    pub(super) tuples: bool,
    pub(super) dicts: bool,
}

/// What phase 4 found.
pub(super) struct Scan {
    /// Objects left in the unreachable list.
    pub(super) unreachable: u64,
    /// Reachable tuples and dicts that stopped being tracked.
    untracked: u64,
}

impl Heap {
    /// Phase 4 (`move_unreachable`), with step 5's untracking folded in. Scans `young` from the
    /// front. An object with references from outside (`gc_refs > 0`) is reachable: it stops being
    /// COLLECTING and marks what it refers to as reachable, bringing back to the end of `young`
    /// anything already moved to `unreachable`. An object still at `gc_refs == 0` when the scan
    /// reaches it is moved to `unreachable`, tentatively: an object scanned later may still bring
    /// it back. A reachable tuple (or dict) that holds nothing that could be part of a cycle
    /// (`_PyTuple_MaybeUntrack`, `_PyDict_MaybeUntrack`) stops being tracked; the scan visits
    /// objects in the order of the final `young` list, so this is CPython's separate pass, fused.
    ///
    /// # Safety
    /// `subtract_refs` must have run on `young`; `unreachable` is a live, empty list.
    pub(super) unsafe fn move_unreachable(
        &self,
        young: NonNull<GcHead>,
        unreachable: NonNull<GcHead>,
        untrack: Untrack,
    ) -> Scan {
        let mut scan = Scan { unreachable: 0, untracked: 0 };
        // SAFETY: forwarded; the scan reads the next node before the current one moves.
        // Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
        unsafe {
            let mut node = (*young.as_ptr()).next;
            while node != young.as_ptr() {
                let obj = object::from_gc_head(node);
                if (*obj).gc_refs > 0 {
                    object::for_each_reference(obj, |child| {
                        if (*child).flags & flags::COLLECTING == 0 {
                            return;
                        }
                        if (*child).flags & flags::UNREACHABLE != 0 {
                            (*child).flags &= !flags::UNREACHABLE;
                            gc_list::remove(child);
                            gc_list::append(young, child);
                            (*child).gc_refs = 1;
                            scan.unreachable -= 1;
                        } else if (*child).gc_refs == 0 {
                            (*child).gc_refs = 1;
                        }
                    });
                    // Read after the children: one brought back may now follow this node.
                    let next = (*node).next;
                    (*obj).flags &= !flags::COLLECTING;
                    if cannot_be_in_a_cycle(obj, untrack) {
                        self.untrack(obj);
                        scan.untracked += 1;
                    }
                    node = next;
                } else {
                    let next = (*node).next;
                    gc_list::remove(obj);
                    gc_list::append(unreachable, obj);
                    (*obj).flags |= flags::UNREACHABLE;
                    scan.unreachable += 1;
                    node = next;
                }
            }
        }
        scan
    }
}

/// Whether a reachable container may stop being tracked: a tuple or dict none of whose items
/// could be part of a cycle.
///
/// # Safety
/// `obj` is a live container.
unsafe fn cannot_be_in_a_cycle(obj: ObjPtr, untrack: Untrack) -> bool {
    // SAFETY: forwarded; each kind is read through its own layout.
    // Test: collector::dicts_of_atoms_are_untracked_by_full_collections_only.
    unsafe {
        match (*obj).kind {
            Kind::Tuple if untrack.tuples => object::slots(obj).iter().all(|&item| !object::may_be_tracked(item)),
            Kind::Dict if untrack.dicts => object::dict_entries(obj).iter().all(|e| !object::may_be_tracked(e.value)),
            _ => false,
        }
    }
}
