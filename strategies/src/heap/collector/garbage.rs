//! What every collector does with the garbage it found (CPython's `gc_collect_main` from
//! `move_legacy_finalizers` on): phases 6 to 10 of the generational collector, shared so that
//! every collector treats legacy finalizers, weakrefs and their callbacks, PEP 442 finalizers,
//! resurrection and `tp_clear` alike.

use std::ptr::NonNull;

use super::generational::{Untrack, subtract_refs, update_refs};
use crate::heap::{Heap, gc_list};
use crate::object::{self, GcHead, InstanceBody, Kind, ObjPtr, WeakrefBody, flags};

/// What became of the garbage.
pub(super) struct Disposal {
    /// CPython's `m`: garbage freed (and weakrefs freed by their own callbacks).
    pub(super) collected: u64,
    /// CPython's `n`: objects kept alive by legacy finalizers, now in `garbage`.
    pub(super) uncollectable: u64,
}

impl Heap {
    /// Phases 6 to 10 on the garbage a collector found. Survivors (the uncollectable, weakrefs
    /// whose callbacks ran, resurrected objects) move to `old`.
    ///
    /// # Safety
    /// `unreachable` holds `found` tracked containers, each COLLECTING and UNREACHABLE (as
    /// `move_unreachable` leaves them), referred to from nowhere outside the list; no other
    /// object is COLLECTING; `old` is a live list.
    pub(super) unsafe fn dispose_of_garbage(
        &self,
        unreachable: NonNull<GcHead>,
        found: u64,
        old: NonNull<GcHead>,
    ) -> Disposal {
        let finalizers = gc_list::TempList::new();
        let mut collected = 0;
        // SAFETY: forwarded; each phase keeps the lists well formed for the next.
        // Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
        unsafe {
            let garbage = move_legacy_finalizers(unreachable, finalizers.head());
            let mut uncollectable = garbage.legacy;
            if garbage.legacy > 0 {
                uncollectable += move_legacy_finalizer_reachable(finalizers.head());
            }
            gc_list::validate(finalizers.head(), gc_list::Collecting::No);
            gc_list::validate(unreachable, gc_list::Collecting::Yes);

            if garbage.weakly_referenced {
                collected += self.handle_weakrefs(unreachable, old);
            }
            // Only a finalizer can make garbage reachable again (a weakref callback is handed
            // reachable objects only), so without one the re-scan would find nothing to save.
            let final_unreachable = gc_list::TempList::new();
            let collectable = if garbage.finalizable && self.finalize_garbage(unreachable) {
                self.handle_resurrected_objects(unreachable, final_unreachable.head(), old);
                collected += gc_list::size(final_unreachable.head());
                final_unreachable.head()
            } else {
                collected += found - uncollectable;
                unreachable
            };
            self.delete_garbage(collectable, old);
            self.handle_legacy_finalizers(finalizers.head(), old);
            Disposal { collected, uncollectable }
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
                    self.gc.garbage().borrow_mut().push(obj);
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
