//! [`Local`]: a handle the heap can find, standing for a local variable of the program's
//! outermost frame.
//!
//! CPython 3.14's incremental collector marks from the interpreter's roots, the frames' locals
//! among them (`mark_stacks`). The model's handles live in Rust locals and vectors the heap cannot
//! enumerate, so a workload hands the heap the few handles that hold its long-lived data
//! ([`Heap::local`]). A `Local` is its handle (it derefs to it) and changes nothing else: no
//! reference count, no allocation, no collection. The incremental collector's mark starts from
//! the registered objects, then finds what other handles hold by subtraction over what that
//! did not reach; the objects marked are the same either way, so registering only makes the mark
//! cheaper (`incremental::locals_make_the_mark_cheaper_not_different`). Under the other
//! collectors nothing is registered: a `Local` costs them one branch.

use std::cell::RefCell;
use std::ops::Deref;
use std::ptr;

use super::{Handle, Heap};
use crate::object::ObjPtr;
use crate::strategy::CollectorKind;

/// The slot of a `Local` the heap does not keep (its collector does not mark from locals).
const UNREGISTERED: usize = usize::MAX;

/// A handle registered with its heap as one of the program's locals; unregistered when dropped.
pub struct Local<'h> {
    handle: Handle<'h>,
    slot: usize,
}

impl<'h> Deref for Local<'h> {
    type Target = Handle<'h>;

    fn deref(&self) -> &Handle<'h> {
        &self.handle
    }
}

impl Drop for Local<'_> {
    fn drop(&mut self) {
        if self.slot == UNREGISTERED {
            return;
        }
        let locals = &self.handle.heap.locals;
        locals.slots.borrow_mut()[self.slot] = ptr::null_mut();
        locals.free.borrow_mut().push(self.slot);
    }
}

/// The registered locals: one slot per live [`Local`] (null when free), reused.
#[derive(Default)]
pub(super) struct Locals {
    slots: RefCell<Vec<ObjPtr>>,
    free: RefCell<Vec<usize>>,
}

impl Heap {
    /// Registers `handle` as a local of the program's outermost frame, for as long as the
    /// returned [`Local`] lives (see the module doc).
    pub fn local<'h>(&'h self, handle: Handle<'h>) -> Local<'h> {
        let obj = self.own(&handle);
        if self.mode.collector != CollectorKind::Incremental {
            return Local { handle, slot: UNREGISTERED };
        }
        let mut slots = self.locals.slots.borrow_mut();
        let slot = match self.locals.free.borrow_mut().pop() {
            Some(slot) => {
                slots[slot] = obj;
                slot
            }
            None => {
                slots.push(obj);
                slots.len() - 1
            }
        };
        Local { handle, slot }
    }

    /// The objects the registered locals hold, in registration order (a freed slot reused keeps
    /// its place). Each is alive: its `Local` owns a handle to it.
    pub(super) fn local_roots(&self) -> Vec<ObjPtr> {
        self.locals.slots.borrow().iter().copied().filter(|obj| !obj.is_null()).collect()
    }
}
