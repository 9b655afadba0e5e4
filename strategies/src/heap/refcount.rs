//! Reference counting: `incref`, `decref`, and the iterative free of everything a dying object
//! alone kept alive (CPython's trashcan: an explicit stack, no recursion, whatever the depth).
//! The cascade is timed at its two ends only; finalizers and weakref callbacks that fell due
//! run once it is over. Under trial deletion every decrement that leaves a container's count
//! above zero also buffers it as a possible root (one predicted branch for the others).
//!
//! Immortal objects (the `immortal` parameter, PEP 683): at `startup_done` every object
//! reachable from the tracked containers and the runtime's own gets an immortal count
//! ([`object::refcount`]), and the tracked ones go to the permanent generation. An increment
//! or decrement then writes nothing to them, at the cost of no extra branch: the increment's
//! one test (saturated: immortal, or an overflow) and the decrement's one test (zero or
//! immortal) each cover both cases. They are never freed while the heap runs, never examined by
//! a collector, and are given a true count back only when the heap is dropped
//! ([`Heap::mortalize`]).

use std::time::Instant;

use super::Heap;
use crate::object::{self, IMMORTAL_REFCNT, InstanceBody, Kind, ObjPtr, flags, refcount};

impl Heap {
    #[inline]
    pub(super) fn incref(&self, obj: ObjPtr) {
        // SAFETY: callers hold a reference to `obj`, so it is alive.
        // Tests: object_model::refcounts_balance, refcount::tests::immortal_headers_are_never_written.
        unsafe {
            let count = (*obj).refcnt;
            if count >= refcount::SATURATED {
                saturated(count);
                return;
            }
            (*obj).refcnt = count + 1;
        }
    }

    #[inline]
    pub(super) fn decref(&self, obj: ObjPtr) {
        // SAFETY: callers give up a reference they own, so `obj` is alive and refcnt >= 1.
        // Tests: object_model::refcounts_balance, refcount::tests::immortal_headers_are_never_written.
        unsafe {
            debug_assert!((*obj).refcnt > 0, "decrement of a dead object");
            let new = (*obj).refcnt.wrapping_sub(1);
            if refcount::zero_or_immortal(new) {
                if new == 0 {
                    (*obj).refcnt = 0;
                    self.release(obj);
                }
                return;
            }
            (*obj).refcnt = new;
        }
        if self.mode.buffers_roots {
            self.possible_root(obj);
        }
    }

    /// A decrement left `obj`'s count above zero: under trial deletion it may be the last
    /// external reference to a garbage cycle, so `obj` is buffered as a possible root.
    #[inline]
    fn possible_root(&self, obj: ObjPtr) {
        // SAFETY: `obj` is alive (its count is above zero).
        // Test: collector::trial_deletion_collects_a_cycle_once_the_buffer_is_full.
        unsafe { self.roots.buffer(obj) };
    }

    /// Frees `obj`, whose refcount just reached zero, and everything that only it kept alive.
    #[inline(never)]
    pub(super) fn release(&self, obj: ObjPtr) {
        // SAFETY: `obj`'s refcount is zero, so nobody else refers to it.
        // Test: object_model::ten_million_chain_frees_iteratively.
        if unsafe { !(*obj).kind.is_container() } {
            self.free_object(obj); // an atom holds no references: no cascade, no clock
            return;
        }
        // Inside a collection, freeing is part of the collection's pause: no clock of its own.
        // Under `nogc` a cascade returns nothing, and with recording off nothing is timed.
        let start = (self.mode.time_cascades && !self.gc.is_collecting()).then(Instant::now);
        let mut stack = std::mem::take(&mut *self.cascade_stack.borrow_mut());
        stack.push(obj);
        let mut freed = 0u64;
        let buffers_roots = self.mode.buffers_roots;
        while let Some(dead) = stack.pop() {
            // SAFETY: `dead` has refcount zero and is not yet freed.
            // Test: collector::finalizer_runs_when_refcount_frees_the_object.
            if unsafe { has_last_rites(dead) } {
                if self.defer_to_finalizer(dead) {
                    continue;
                }
                self.clear_weakrefs_to(dead);
            }
            // SAFETY: `dead` has refcount zero and is not yet freed; its references are live.
            // Test: object_model::ten_million_chain_frees_iteratively.
            unsafe {
                object::for_each_reference(dead, |child| {
                    let new = (*child).refcnt.wrapping_sub(1);
                    if refcount::zero_or_immortal(new) {
                        if new == 0 {
                            (*child).refcnt = 0;
                            stack.push(child);
                        }
                        return;
                    }
                    (*child).refcnt = new;
                    if buffers_roots {
                        self.roots.buffer(child);
                    }
                });
            }
            self.free_object(dead);
            freed += 1;
        }
        *self.cascade_stack.borrow_mut() = stack;
        if let Some(start) = start {
            self.recorder.borrow_mut().record_cascade(start, Instant::now(), freed);
        }
        self.run_pending_finalizers();
        self.run_pending_callbacks();
    }

    /// Makes every object reachable from the tracked containers and the runtime's own objects
    /// immortal, and freezes the tracked ones (they move to the permanent generation). Objects
    /// only the workload's handles hold (an atom, an untracked tuple) stay mortal. The runtime
    /// keeps a list of them, for the leak report and the teardown.
    pub(super) fn immortalize(&self) {
        self.freeze();
        // SAFETY: outside a collection the GC lists hold live containers, and the references of
        // live objects are live. Test: collector_oracle::immortal_objects_under_every_collector.
        let mut immortal = self.runtime.immortal.borrow_mut();
        unsafe {
            let mut stack = self.tracked_objects();
            stack.extend(self.runtime_objects());
            while let Some(obj) = stack.pop() {
                if object::is_immortal(obj) {
                    continue;
                }
                (*obj).refcnt = IMMORTAL_REFCNT;
                immortal.push(obj);
                object::for_each_reference(obj, |child| stack.push(child));
            }
        }
    }
}

/// Whether `obj`'s death needs more than freeing: a finalizer (due, or run already), or
/// weakrefs to clear. Most deaths need neither; they skip both steps after one flag test and,
/// for instances, one null test of the weaklist.
///
/// # Safety
/// `obj` names an object not yet freed.
#[inline]
unsafe fn has_last_rites(obj: ObjPtr) -> bool {
    // SAFETY: forwarded contract; an instance's body starts with its weaklist.
    // Test: object_model::weakref_dies_with_target.
    unsafe {
        (*obj).flags & flags::HAS_FINALIZER != 0
            || ((*obj).kind == Kind::Instance && !(*object::body::<InstanceBody>(obj)).weaklist.is_null())
    }
}

/// An increment found a saturated count: an immortal object's (nothing to write), or a
/// mortal count at its limit.
#[cold]
#[inline(never)]
fn saturated(count: u32) {
    assert!(refcount::is_immortal(count), "refcount overflow");
}

#[cfg(test)]
mod tests {
    use crate::object::{self, Header};
    use crate::{Handle, Heap, HeapConfig, strategy};

    fn heap(strategy_name: &str, immortal: &str) -> Heap {
        let given = [("immortal".to_string(), immortal.to_string())].into();
        Heap::new(HeapConfig::default(), strategy::find(strategy_name).unwrap().build(&given).unwrap())
    }

    /// The 16 header bytes of `h`'s object.
    fn header(heap: &Heap, h: &Handle<'_>) -> [u8; size_of::<Header>()] {
        let obj = heap.own(h);
        // SAFETY: the handle keeps its object alive; a header is plain bytes.
        // Test: this one.
        unsafe { obj.cast::<[u8; size_of::<Header>()]>().read() }
    }

    /// Clones, drops, stores and removes references to `h` many times, as a request that reads
    /// old objects would.
    fn touch<'h>(heap: &'h Heap, h: &Handle<'h>) {
        let holder = heap.list();
        for _ in 0..1000 {
            let copy = h.clone();
            heap.list_append(&holder, &copy);
            drop(copy);
        }
        while heap.len(&holder) > 0 {
            drop(heap.list_remove(&holder, 0));
        }
    }

    #[test]
    fn immortal_headers_are_never_written() {
        for name in ["refcount", "generational", "trial-deletion"] {
            let heap = heap(name, "true");
            let old = heap.list();
            let item = heap.instance(1);
            heap.list_append(&old, &item);
            heap.set(&item, 0, Some(&heap.str("old")));
            heap.startup_done();
            for h in [&old, &item, &heap.get(&item, 0).unwrap()] {
                let before = header(&heap, h);
                // SAFETY: the handle keeps its object alive. Test: this one.
                assert!(unsafe { object::is_immortal(heap.own(h)) }, "{name}");
                touch(&heap, h);
                heap.collect(2);
                assert_eq!(header(&heap, h), before, "{name}: no write reaches an immortal header");
            }
            let young = heap.list();
            let before = header(&heap, &young);
            let copy = young.clone();
            assert_ne!(header(&heap, &young), before, "{name}: a mortal header is written");
            drop(copy);
            drop((old, item, young));
            let report = heap.finish();
            assert_eq!((report.leaked.immortal_objects, report.leaked.objects), (3, 0), "{name}");
        }
    }

    #[test]
    fn without_the_option_nothing_is_immortal() {
        let heap = heap("refcount", "false");
        let old = heap.list();
        heap.startup_done();
        // SAFETY: the handle keeps its object alive. Test: this one.
        assert!(unsafe { !object::is_immortal(heap.own(&old)) });
        drop(old);
        assert_eq!(heap.finish().leaked.immortal_objects, 0);
    }

    #[test]
    fn a_mortal_count_stops_short_of_the_immortal_range() {
        let heap = heap("refcount", "false");
        let h = heap.list();
        let obj = heap.own(&h);
        // SAFETY: the handle keeps its object alive; the count is put back before it is dropped.
        // Test: this one.
        unsafe { (*obj).refcnt = object::refcount::SATURATED };
        let overflow = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| std::mem::forget(h.clone())));
        // SAFETY: as above.
        unsafe {
            assert_eq!((*obj).refcnt, object::refcount::SATURATED, "nothing written");
            (*obj).refcnt = 1;
        }
        assert!(overflow.is_err(), "an increment past the mortal range is refused");
    }
}
