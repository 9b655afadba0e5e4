//! CPython's cycle collector (3.11 `Modules/gcmodule.c`), as one collector behind the
//! `generational` and `manual` strategies.
//!
//! Tracked containers live in one of three generation lists (or the permanent generation after
//! `freeze()`). [`Heap::collect`] collects a generation and every younger one, in CPython's
//! order of phases:
//!
//! 1. merge the younger generations into the one collected (`young`);
//! 2. `update_refs`: `gc_refs = refcount` for each object of `young`, marked COLLECTING;
//! 3. `subtract_refs`: every reference from inside `young` takes one off its target's `gc_refs`;
//!    what is left counts references from outside: roots;
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
//! assertions the lists are validated between phases, as CPython's `gc_list::validate` does.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::time::Instant;

use super::Heap;
use super::free_lists::FreeLists;
use super::gc_list;
use crate::object::{self, GcHead, InstanceBody, Kind, ObjPtr, WeakrefBody, flags};

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

/// The collector's state inside a heap.
pub(super) struct GcState {
    generations: [NonNull<GcHead>; GENERATIONS],
    permanent: NonNull<GcHead>,
    /// Gen 0: container allocations minus deallocations since its last collection; gen 1 and 2:
    /// collections of the generation below since their own last collection.
    counts: [Cell<u64>; GENERATIONS],
    thresholds: Cell<[u64; GENERATIONS]>,
    /// Collect automatically when gen 0's count passes its threshold.
    automatic: Cell<bool>,
    collecting: Cell<bool>,
    long_lived_total: Cell<u64>,
    long_lived_pending: Cell<u64>,
    stats: RefCell<[GenerationStats; GENERATIONS]>,
    /// Uncollectable objects (CPython's `gc.garbage`), each holding a reference.
    garbage: RefCell<Vec<ObjPtr>>,
    free_lists: FreeLists,
}

impl GcState {
    pub(super) fn new(thresholds: [u64; GENERATIONS], automatic: bool) -> GcState {
        GcState {
            generations: [gc_list::new(), gc_list::new(), gc_list::new()],
            permanent: gc_list::new(),
            counts: Default::default(),
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
    pub(super) fn youngest(&self) -> NonNull<GcHead> {
        self.generations[0]
    }

    /// Every list that holds tracked containers.
    pub(super) fn all_lists(&self) -> [NonNull<GcHead>; GENERATIONS + 1] {
        [self.generations[0], self.generations[1], self.generations[2], self.permanent]
    }

    pub(super) fn garbage(&self) -> &RefCell<Vec<ObjPtr>> {
        &self.garbage
    }

    pub(super) fn is_collecting(&self) -> bool {
        self.collecting.get()
    }

    /// A container of `kind` and `len` was allocated: count it unless CPython would have reused
    /// one from a free list (see [`FreeLists`]). Returns whether it was counted and whether an
    /// automatic collection is due (`_PyObject_GC_Link`).
    pub(super) fn note_allocation(&self, kind: Kind, len: usize) -> (bool, bool) {
        if self.free_lists.pop(kind, len) {
            return (false, false);
        }
        (true, self.count_allocation())
    }

    fn count_allocation(&self) -> bool {
        let count = self.counts[0].get() + 1;
        self.counts[0].set(count);
        let threshold = self.thresholds.get()[0];
        self.automatic.get() && threshold > 0 && count > threshold && !self.collecting.get()
    }

    /// A container of `kind` and `len` died: uncounted if CPython would keep it on a free list,
    /// else counted as `PyObject_GC_Del` counts it.
    pub(super) fn note_deallocation(&self, kind: Kind, len: usize) {
        if !self.free_lists.push(kind, len) {
            self.uncount_allocation();
        }
    }

    /// Takes back one allocation from the gen-0 count (an allocation that did not happen).
    pub(super) fn uncount_allocation(&self) {
        self.counts[0].set(self.counts[0].get().saturating_sub(1));
    }

    /// Frees the list sentinels; the lists must be empty.
    ///
    /// # Safety
    /// Called once, when the heap is dropped, after every container was freed.
    pub(super) unsafe fn free_lists(&self) {
        for list in self.all_lists() {
            // SAFETY: each sentinel came from `gc_list::new` and is freed once, here.
            // Test: object_model::teardown_frees_everything.
            unsafe { gc_list::free(list) };
        }
    }
}

/// Collector API and phases.
impl Heap {
    /// `gc.collect(generation)`: collects `generation` and every younger one, whatever the
    /// thresholds. Returns what it did; during another collection it does nothing (as CPython).
    pub fn collect(&self, generation: usize) -> Collection {
        assert!(generation < GENERATIONS, "generation {generation} does not exist (0, 1 or 2)");
        if self.gc.collecting.get() {
            return Collection { generation, ..Collection::default() };
        }
        self.collect_with_pause(generation)
    }

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

    /// `gc.freeze()`: moves every tracked container to the permanent generation, which is never
    /// collected, and zeroes the counts.
    pub fn freeze(&self) {
        for (list, count) in self.gc.generations.iter().zip(&self.gc.counts) {
            // SAFETY: both are live list sentinels. Test: collector::freeze_hides_garbage_until_unfreeze.
            unsafe { gc_list::merge(*list, self.gc.permanent) };
            count.set(0);
        }
    }

    /// `gc.unfreeze()`: moves the permanent generation back into the oldest generation.
    pub fn unfreeze(&self) {
        // SAFETY: both are live list sentinels. Test: collector::freeze_hides_garbage_until_unfreeze.
        unsafe { gc_list::merge(self.gc.permanent, self.gc.generations[GENERATIONS - 1]) };
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
    pub fn is_tracked(&self, h: &super::Handle<'_>) -> bool {
        let obj = self.own(h);
        // SAFETY: a handle keeps its object alive; only containers have a GC head.
        // Test: collector::tuples_of_atoms_are_untracked_by_a_collection.
        unsafe { (*obj).kind.is_container() && object::is_tracked(obj) }
    }

    /// The automatic trigger (`gc_collect_generations`): the oldest generation whose count
    /// passed its threshold is collected, but a full collection only when the objects that
    /// survived a gen-1 collection since the last full one exceed 25% of those that survived it.
    pub(super) fn collect_generations(&self) {
        let thresholds = self.gc.thresholds.get();
        for generation in (0..GENERATIONS).rev() {
            if self.gc.counts[generation].get() > thresholds[generation] {
                if generation == GENERATIONS - 1
                    && self.gc.long_lived_pending.get() < self.gc.long_lived_total.get() / 4
                {
                    continue;
                }
                self.collect_with_pause(generation);
                return;
            }
        }
    }

    fn collect_with_pause(&self, generation: usize) -> Collection {
        let start = self.mode.record.then(Instant::now);
        self.gc.collecting.set(true);
        // User code inside a collection cannot unwind through it (see `Heap::run_user_code`); any
        // other panic here means the lists are inconsistent, so nothing may run afterwards.
        let abort_on_unwind = AbortOnUnwind("a panic inside the cycle collector");
        let collection = self.collect_main(generation);
        std::mem::forget(abort_on_unwind);
        self.gc.collecting.set(false);
        if let Some(start) = start {
            self.recorder.borrow_mut().record_collection(start, Instant::now(), &collection);
        }
        let mut stats = self.gc.stats.borrow_mut();
        let entry = &mut stats[generation];
        entry.collections += 1;
        entry.collected += collection.collected;
        entry.uncollectable += collection.uncollectable;
        collection
    }

    /// `gc_collect_main`: one collection, phase by phase.
    fn collect_main(&self, generation: usize) -> Collection {
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
        let finalizers = gc_list::TempList::new();
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

            collection.examined = update_refs(young);
            subtract_refs(young);
            let untrack = Untrack { tuples: true, dicts: full };
            let scan = self.move_unreachable(young, unreachable.head(), untrack);
            gc_list::validate(young, gc_list::Collecting::No);
            gc_list::validate(unreachable.head(), gc_list::Collecting::Yes);

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

            let garbage = move_legacy_finalizers(unreachable.head(), finalizers.head());
            let mut uncollectable = garbage.legacy;
            if garbage.legacy > 0 {
                uncollectable += move_legacy_finalizer_reachable(finalizers.head());
            }
            gc_list::validate(finalizers.head(), gc_list::Collecting::No);
            gc_list::validate(unreachable.head(), gc_list::Collecting::Yes);

            if garbage.weakly_referenced {
                collection.collected += self.handle_weakrefs(unreachable.head(), old);
            }
            // Only a finalizer can make garbage reachable again (a weakref callback is handed
            // reachable objects only), so without one the re-scan would find nothing to save.
            let final_unreachable = gc_list::TempList::new();
            let collectable = if garbage.finalizable && self.finalize_garbage(unreachable.head()) {
                self.handle_resurrected_objects(unreachable.head(), final_unreachable.head(), old);
                collection.collected += gc_list::size(final_unreachable.head());
                final_unreachable.head()
            } else {
                collection.collected += scan.unreachable - uncollectable;
                unreachable.head()
            };
            self.delete_garbage(collectable, old);

            collection.uncollectable = uncollectable;
            self.handle_legacy_finalizers(finalizers.head(), old);
        }
        if generation == GENERATIONS - 1 {
            // CPython empties its free lists at every full collection (`clear_freelists`).
            self.gc.free_lists.clear();
        }
        collection
    }
}

/// Phase 2 (`update_refs`): each object's `gc_refs` starts as its refcount, and it is marked as
/// being collected. Returns the number of objects.
///
/// # Safety
/// `list` is a live list of live containers.
unsafe fn update_refs(list: NonNull<GcHead>) -> u64 {
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
/// As [`update_refs`], which must have run on `list`.
unsafe fn subtract_refs(list: NonNull<GcHead>) {
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

/// Which containers phase 4 stops tracking when it finds them reachable: tuples on every
/// collection (`untrack_tuples`), dicts on full ones (`untrack_dicts`, 3.11).
#[derive(Clone, Copy)]
struct Untrack {
    tuples: bool,
    dicts: bool,
}

/// What phase 4 found.
struct Scan {
    /// Objects left in the unreachable list.
    unreachable: u64,
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
    unsafe fn move_unreachable(&self, young: NonNull<GcHead>, unreachable: NonNull<GcHead>, untrack: Untrack) -> Scan {
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

/// What the garbage holds, learnt in the walk of phase 6, so later phases with nothing to do
/// are skipped.
struct GarbageTraits {
    /// Objects with a legacy finalizer (moved to the uncollectable list).
    legacy: u64,
    /// Some object is a weakref or is weakly referenced (phase 7 has work).
    weakly_referenced: bool,
    /// Some object has a finalizer that has not run (phase 8 has work).
    finalizable: bool,
}

/// Phase 6 (`move_legacy_finalizers`): ends the tentative state of the garbage, and takes out the
/// objects with a legacy finalizer, which the collector may not free.
///
/// # Safety
/// `unreachable` holds the garbage; `finalizers` is a live, empty list.
unsafe fn move_legacy_finalizers(unreachable: NonNull<GcHead>, finalizers: NonNull<GcHead>) -> GarbageTraits {
    let mut traits = GarbageTraits { legacy: 0, weakly_referenced: false, finalizable: false };
    // SAFETY: forwarded. Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
    unsafe {
        gc_list::for_each(unreachable, |obj| {
            (*obj).flags &= !flags::UNREACHABLE;
            if (*obj).flags & flags::LEGACY_FINALIZER != 0 {
                (*obj).flags &= !flags::COLLECTING;
                gc_list::remove(obj);
                gc_list::append(finalizers, obj);
                traits.legacy += 1;
                return;
            }
            traits.finalizable |= needs_finalizing(obj);
            traits.weakly_referenced |= match (*obj).kind {
                Kind::Weakref => true,
                Kind::Instance => !(*object::body::<InstanceBody>(obj)).weaklist.is_null(),
                _ => false,
            };
        });
    }
    traits
}

/// Whether `obj` has a finalizer that has not run yet.
///
/// # Safety
/// `obj` is a live object.
unsafe fn needs_finalizing(obj: ObjPtr) -> bool {
    // SAFETY: forwarded. Test: collector::resurrecting_finalizer_runs_once.
    unsafe { (*obj).flags & (flags::HAS_FINALIZER | flags::FINALIZED) == flags::HAS_FINALIZER }
}

/// Phase 6, continued (`move_legacy_finalizer_reachable`): everything the uncollectable objects
/// reach is uncollectable too. The list grows while it is walked: an explicit worklist. Returns
/// how many objects it added.
///
/// # Safety
/// `finalizers` holds objects taken out of the garbage.
unsafe fn move_legacy_finalizer_reachable(finalizers: NonNull<GcHead>) -> u64 {
    let mut moved = 0;
    // SAFETY: forwarded; appended objects are visited when the walk reaches them.
    // Test: collector::legacy_finalizer_makes_a_cycle_uncollectable.
    unsafe {
        let mut node = (*finalizers.as_ptr()).next;
        while node != finalizers.as_ptr() {
            object::for_each_reference(object::from_gc_head(node), |child| {
                if (*child).flags & flags::COLLECTING != 0 {
                    (*child).flags &= !flags::COLLECTING;
                    gc_list::remove(child);
                    gc_list::append(finalizers, child);
                    moved += 1;
                }
            });
            node = (*node).next;
        }
    }
    moved
}

/// Phases 6 (end) to 10: the ones that run user code and free.
impl Heap {
    /// Step 6, last part (`handle_legacy_finalizers`): objects with a legacy finalizer go to
    /// `garbage`; all the uncollectable objects move to `old`.
    ///
    /// # Safety
    /// `finalizers` holds the uncollectable set.
    unsafe fn handle_legacy_finalizers(&self, finalizers: NonNull<GcHead>, old: NonNull<GcHead>) {
        // SAFETY: forwarded; `garbage` holds a counted reference to each object it lists.
        // Test: collector::legacy_finalizer_makes_a_cycle_uncollectable.
        unsafe {
            gc_list::for_each(finalizers, |obj| {
                if (*obj).flags & flags::LEGACY_FINALIZER != 0 {
                    self.incref(obj);
                    self.gc.garbage.borrow_mut().push(obj);
                }
            });
            gc_list::merge(finalizers, old);
        }
    }

    /// Step 7 (`handle_weakrefs`): clears every weakref that is garbage or points at garbage, then
    /// runs the callbacks of the cleared weakrefs that are not themselves garbage. Returns how
    /// many of those weakrefs their own callback freed (they count as collected, as in CPython).
    ///
    /// # Safety
    /// `unreachable` holds the garbage (COLLECTING set); `old` is a live generation list.
    unsafe fn handle_weakrefs(&self, unreachable: NonNull<GcHead>, old: NonNull<GcHead>) -> u64 {
        let callbacks_due = gc_list::TempList::new();
        // SAFETY: forwarded; weakref lists link live weakrefs (each unlinks itself when freed).
        // Test: collector::weakref_callback_runs_once_for_a_live_weakref_to_garbage.
        unsafe {
            gc_list::for_each(unreachable, |obj| {
                if (*obj).kind == Kind::Weakref {
                    // A weakref that is garbage is cleared first; its callback never runs (bpo-38006).
                    self.unlink_weakref(obj);
                }
                if !(*obj).kind.is_weakly_referenceable() {
                    return;
                }
                for weak in self.take_weakrefs_to(obj) {
                    let body = object::body::<WeakrefBody>(weak);
                    if (*body).callback == 0 || (*weak).flags & flags::COLLECTING != 0 {
                        continue;
                    }
                    self.incref(weak);
                    gc_list::remove(weak);
                    gc_list::append(callbacks_due.head(), weak);
                }
            });
            let mut freed_by_callback = 0;
            while let Some(weak) = gc_list::first(callbacks_due.head()) {
                self.invoke_weakref_callback(self.handle(weak)); // drops our reference
                if gc_list::first(callbacks_due.head()) == Some(weak) {
                    gc_list::remove(weak);
                    gc_list::append(old, weak);
                } else {
                    freed_by_callback += 1;
                }
            }
            freed_by_callback
        }
    }

    /// Step 8 (`finalize_garbage`): runs each garbage object's finalizer, at most once in the
    /// object's life (PEP 442). A finalizer may resurrect its object. Returns whether any ran.
    ///
    /// # Safety
    /// `unreachable` holds the garbage.
    unsafe fn finalize_garbage(&self, unreachable: NonNull<GcHead>) -> bool {
        let mut ran = false;
        let seen = gc_list::TempList::new();
        // SAFETY: forwarded; an object freed while its finalizer runs leaves `seen` by itself.
        // Test: collector::resurrecting_finalizer_runs_once.
        unsafe {
            while let Some(obj) = gc_list::first(unreachable) {
                gc_list::remove(obj);
                gc_list::append(seen.head(), obj);
                if needs_finalizing(obj) {
                    (*obj).flags |= flags::FINALIZED;
                    self.incref(obj);
                    self.invoke_finalizer(self.handle(obj));
                    ran = true;
                }
            }
            gc_list::merge(seen.head(), unreachable);
        }
        ran
    }

    /// Step 9 (`handle_resurrected_objects`): finds, among the garbage, what a finalizer or
    /// callback made reachable again (and all it reaches), and moves it to `old`; the rest goes to
    /// `still_unreachable`.
    ///
    /// # Safety
    /// `unreachable` holds the former garbage; the other two are live lists.
    unsafe fn handle_resurrected_objects(
        &self,
        unreachable: NonNull<GcHead>,
        still_unreachable: NonNull<GcHead>,
        old: NonNull<GcHead>,
    ) {
        // SAFETY: forwarded. Test: collector::resurrecting_finalizer_runs_once.
        unsafe {
            update_refs(unreachable);
            subtract_refs(unreachable);
            self.move_unreachable(unreachable, still_unreachable, Untrack { tuples: false, dicts: false });
            gc_list::for_each(still_unreachable, |obj| (*obj).flags &= !flags::UNREACHABLE);
            gc_list::merge(unreachable, old);
        }
    }

    /// Step 10 (`delete_garbage`): breaks every cycle by clearing each object's references
    /// (`tp_clear`); refcounting then frees them. An object that survives its clearing moves
    /// to `old`.
    ///
    /// # Safety
    /// `collectable` holds garbage with no reference from outside it.
    unsafe fn delete_garbage(&self, collectable: NonNull<GcHead>, old: NonNull<GcHead>) {
        // SAFETY: forwarded; we hold a reference on `obj` while clearing, so it is freed (and
        // unlinked) only by our decref, never under our feet.
        // Test: collector::a_dict_cleared_by_the_collector_but_kept_alive_stays_consistent.
        unsafe {
            while let Some(obj) = gc_list::first(collectable) {
                self.incref(obj);
                self.clear_references(obj);
                self.decref(obj);
                if gc_list::first(collectable) == Some(obj) {
                    (*obj).flags &= !flags::COLLECTING;
                    gc_list::remove(obj);
                    gc_list::append(old, obj);
                }
            }
        }
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
