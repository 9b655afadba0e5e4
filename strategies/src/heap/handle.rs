//! [`Handle`]: a strong reference owned by workload code (`Py_INCREF` on clone, `Py_DECREF` on
//! drop). It borrows its [`Heap`], so no handle outlives the heap; every operation checks that
//! the handle belongs to this heap and that its object has the kind the operation needs.

use std::fmt;
use std::ptr::{self, NonNull};

use super::Heap;
use crate::object::{Header, Kind, KindSet, ObjPtr};

/// A strong reference to a live object of one heap.
pub struct Handle<'h> {
    obj: NonNull<Header>,
    pub(super) heap: &'h Heap,
}

impl Handle<'_> {
    pub(super) fn ptr(&self) -> ObjPtr {
        self.obj.as_ptr()
    }
}

impl Clone for Handle<'_> {
    fn clone(&self) -> Self {
        self.heap.incref(self.ptr());
        Handle { obj: self.obj, heap: self.heap }
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        self.heap.decref(self.ptr());
    }
}

/// Identity, like Python's `is`.
impl PartialEq for Handle<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.obj == other.obj
    }
}
impl Eq for Handle<'_> {}

impl fmt::Debug for Handle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({})", self.heap.kind(self).name())
    }
}

/// Turning raw objects into handles and back.
impl Heap {
    #[inline]
    pub(super) fn handle(&self, obj: ObjPtr) -> Handle<'_> {
        // Invariant: every caller passes a live object whose
        // refcount already includes the reference this handle now owns.
        Handle { obj: NonNull::new(obj).expect("handles never hold null"), heap: self }
    }

    /// The object behind `h`, after checking that `h` belongs to this heap.
    #[inline]
    pub(super) fn own(&self, h: &Handle<'_>) -> ObjPtr {
        if !ptr::eq(h.heap, self) {
            foreign_handle();
        }
        h.ptr()
    }

    /// The object behind `h`, after checking that it belongs to this heap and that its kind is
    /// one of `kinds` (one AND; the message is built only on failure, out of line).
    #[inline]
    pub(super) fn expect(&self, h: &Handle<'_>, kinds: KindSet, operation: &'static str) -> ObjPtr {
        let obj = self.own(h);
        // SAFETY: a handle keeps its object alive. Test: object_model::kinds_are_checked.
        let kind = unsafe { (*obj).kind };
        if !kinds.contains(kind) {
            wrong_kind(operation, kinds, kind);
        }
        obj
    }

    /// A new counted reference to `h`'s object, for storing in a slot.
    pub(super) fn new_reference(&self, h: &Handle<'_>) -> ObjPtr {
        let obj = self.own(h);
        self.incref(obj);
        obj
    }
}

#[cold]
#[inline(never)]
fn foreign_handle() -> ! {
    panic!("a handle from another heap was passed to this one")
}

#[cold]
#[inline(never)]
fn wrong_kind(operation: &str, kinds: KindSet, kind: Kind) -> ! {
    let names: Vec<&str> = kinds.kinds().map(Kind::name).collect();
    panic!("{operation}: expected a {}, got a {}", names.join(" or a "), kind.name())
}
