//! Weak references: objects (tracked containers, as in CPython) linked into their target's
//! weakref list. When a target dies its weakrefs are cleared; callbacks of weakrefs that are
//! still alive are queued and run once the cascade is over, each exactly once. Back edges under
//! [`crate::BackEdges::Weak`] are weakrefs flagged `BACK_EDGE`, made by the runtime.

use std::ptr;

use super::Heap;
use super::objects::body_write;
use crate::object::{self, InstanceBody, Kind, ObjPtr, WeakrefBody, flags};

/// Who asked for an object: the program, or the runtime on its behalf (not counted).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    Program,
    /// A weakref standing for a back edge under [`BackEdges::Weak`].
    BackEdge,
}

impl Heap {
    /// A counted reference to the weakref standing for a back edge to `target`: its existing one,
    /// or a new one. CPython's `weakref.ref(target)` without a callback returns the target's
    /// existing basic reference (`get_basic_refs`), so two children's `ref(parent)` are one object.
    pub(super) fn back_edge_weakref(&self, target: ObjPtr) -> ObjPtr {
        // SAFETY: `target` is a live instance; its weaklist links live weakrefs.
        // Test: object_model::weak_back_edges_to_one_target_share_a_weakref.
        unsafe {
            let mut weak = (*object::body::<InstanceBody>(target)).weaklist;
            while !weak.is_null() {
                if (*weak).flags & flags::BACK_EDGE != 0 {
                    self.incref(weak);
                    return weak;
                }
                weak = (*object::body::<WeakrefBody>(weak)).next;
            }
            let weak = self.new_weakref_object(target, Origin::BackEdge);
            (*weak).flags |= flags::BACK_EDGE;
            weak
        }
    }

    pub(super) fn new_weakref_object(&self, target: ObjPtr, origin: Origin) -> ObjPtr {
        let obj = match origin {
            Origin::Program => self.allocate(Kind::Weakref, 0),
            Origin::BackEdge => self.allocate_uncounted(Kind::Weakref, 0),
        };
        // SAFETY: `obj` is a fresh weakref block and `target` a live instance; the new weakref
        // goes to the front of the target's weaklist. Test: object_model::weakref_dies_with_target.
        unsafe {
            let list = object::body::<InstanceBody>(target);
            let head = (*list).weaklist;
            body_write(
                obj,
                WeakrefBody { target, callback: 0, callback_arg: ptr::null_mut(), prev: ptr::null_mut(), next: head },
            );
            if !head.is_null() {
                (*object::body::<WeakrefBody>(head)).prev = obj;
            }
            (*list).weaklist = obj;
        }
        self.track(obj);
        obj
    }

    /// Clears every weakref to `obj` and queues the callbacks of those that are still alive
    /// (CPython's `PyObject_ClearWeakRefs`: a weakref dying in the same cascade gets none).
    pub(super) fn clear_weakrefs_to(&self, obj: ObjPtr) {
        for weak in self.take_weakrefs_to(obj) {
            // SAFETY: `take_weakrefs_to` returns live weakrefs. Test: object_model::weakref_callback_runs_once.
            unsafe {
                if (*object::body::<WeakrefBody>(weak)).callback != 0 && (*weak).refcnt > 0 && !self.tearing_down.get()
                {
                    self.incref(weak);
                    self.user_code.callbacks_due.push(weak);
                }
            }
        }
    }

    /// Detaches and clears every weakref to `obj` (an instance; other kinds have none).
    pub(super) fn take_weakrefs_to(&self, obj: ObjPtr) -> Vec<ObjPtr> {
        let mut cleared = Vec::new();
        // SAFETY: `obj` is alive; its weaklist holds live weakrefs, each of which unlinks itself
        // when it is freed. Test: object_model::weakref_dies_with_target.
        unsafe {
            if (*obj).kind != Kind::Instance {
                return cleared;
            }
            let list = object::body::<InstanceBody>(obj);
            let mut weak = std::mem::replace(&mut (*list).weaklist, ptr::null_mut());
            while !weak.is_null() {
                let body = object::body::<WeakrefBody>(weak);
                let next = (*body).next;
                (*body).target = ptr::null_mut();
                (*body).prev = ptr::null_mut();
                (*body).next = ptr::null_mut();
                cleared.push(weak);
                weak = next;
            }
        }
        cleared
    }
    /// Takes a weakref out of its target's weakref list (if the target is still alive).
    pub(super) fn unlink_weakref(&self, weak: ObjPtr) {
        // SAFETY: a weakref with a non-null target is in that live target's doubly linked list.
        // Test: object_model::weakref_dies_with_target.
        unsafe {
            let body = object::body::<WeakrefBody>(weak);
            let target = (*body).target;
            if target.is_null() {
                return;
            }
            let (prev, next) = ((*body).prev, (*body).next);
            if prev.is_null() {
                (*object::body::<InstanceBody>(target)).weaklist = next;
            } else {
                (*object::body::<WeakrefBody>(prev)).next = next;
            }
            if !next.is_null() {
                (*object::body::<WeakrefBody>(next)).prev = prev;
            }
            (*body).target = ptr::null_mut();
        }
    }
}
