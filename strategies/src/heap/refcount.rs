//! Reference counting: `incref`, `decref`, and the iterative free of everything a dying object
//! alone kept alive (CPython's trashcan: an explicit stack, no recursion, whatever the depth).
//! The cascade is timed at its two ends only; finalizers and weakref callbacks that fell due
//! run once it is over. Under trial deletion every decrement that leaves a container's count
//! above zero also buffers it as a possible root (one predicted branch for the others).

use std::time::Instant;

use super::Heap;
use crate::object::{self, ObjPtr};

impl Heap {
    #[inline]
    pub(super) fn incref(&self, obj: ObjPtr) {
        // SAFETY: callers hold a reference to `obj`, so it is alive. Test: object_model::refcounts_balance.
        unsafe { (*obj).refcnt = (*obj).refcnt.checked_add(1).expect("refcount overflow") };
    }

    #[inline]
    pub(super) fn decref(&self, obj: ObjPtr) {
        // SAFETY: callers give up a reference they own, so `obj` is alive and refcnt >= 1.
        // Test: object_model::refcounts_balance.
        let now_zero = unsafe {
            (*obj).refcnt -= 1;
            (*obj).refcnt == 0
        };
        if now_zero {
            self.release(obj);
        } else if self.mode.buffers_roots {
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
            if self.defer_to_finalizer(dead) {
                continue;
            }
            self.clear_weakrefs_to(dead);
            // SAFETY: `dead` has refcount zero and is not yet freed; its references are live.
            // Test: object_model::ten_million_chain_frees_iteratively.
            unsafe {
                object::for_each_reference(dead, |child| {
                    (*child).refcnt -= 1;
                    if (*child).refcnt == 0 {
                        stack.push(child);
                    } else if buffers_roots {
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
}
