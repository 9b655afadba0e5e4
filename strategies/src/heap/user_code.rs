//! User code the heap calls: finalizers (`__del__`, PEP 442 and legacy) and weakref callbacks.
//! They are queued while a cascade or a collection runs and run at fixed points afterwards,
//! never while a Rust borrow of heap state is held, under `catch_unwind` (a panic is reported
//! and ignored, as CPython reports "Exception ignored in ..."). Both queues drain one level
//! deep: a drain that falls due inside a running drain is left to it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use super::{CallbackFn, FinalizerFn, Handle, Heap};
use crate::object::{self, ObjPtr, WeakrefBody, flags};

/// Registered user code and the queues of what is due.
#[derive(Default)]
pub(super) struct UserCode {
    pub(super) callbacks: RefCell<Vec<Rc<CallbackFn>>>,
    pub(super) finalizers: RefCell<Vec<Rc<FinalizerFn>>>,
    /// Objects whose refcount reached zero and whose finalizer is due (each holding +1).
    pub(super) finalizers_due: Queue,
    /// Weakrefs (each holding +1) whose callbacks are due.
    pub(super) callbacks_due: Queue,
    /// Finalizers and callbacks running now (nested ones counted): no cap stop inside them.
    pub(super) depth: Cell<u32>,
    /// Panics in finalizers and callbacks, reported and ignored (CPython's unraisable exceptions).
    pub(super) ignored_panics: Cell<u64>,
}

/// Objects (each holding +1) whose user code is due, and whether a drain is running.
#[derive(Default)]
pub(super) struct Queue {
    items: RefCell<VecDeque<ObjPtr>>,
    draining: Cell<bool>,
}

impl Queue {
    pub(super) fn push(&self, obj: ObjPtr) {
        self.items.borrow_mut().push_back(obj);
    }
}

impl Heap {
    /// A dying object whose finalizer has not run yet is kept alive (refcount 1, owned by the
    /// queue) until its finalizer has run, as `subtype_dealloc` resurrects it for `tp_finalize`.
    pub(super) fn defer_to_finalizer(&self, obj: ObjPtr) -> bool {
        // SAFETY: `obj` is alive (refcount zero, not yet freed).
        // Test: collector::finalizer_runs_when_refcount_frees_the_object.
        unsafe {
            if (*obj).flags & (flags::HAS_FINALIZER | flags::FINALIZED) != flags::HAS_FINALIZER {
                return false;
            }
            (*obj).flags |= flags::FINALIZED;
            (*obj).refcnt = 1;
        }
        self.user_code.finalizers_due.push(obj);
        true
    }

    /// Runs every queued finalizer (see [`Heap::drain`]).
    pub(super) fn run_pending_finalizers(&self) {
        self.drain(&self.user_code.finalizers_due, Heap::invoke_finalizer);
    }

    /// Runs every queued weakref callback (see [`Heap::drain`]).
    pub(super) fn run_pending_callbacks(&self) {
        self.drain(&self.user_code.callbacks_due, Heap::invoke_weakref_callback);
    }

    /// Runs `run` on every object of `queue`, handing it the queue's +1 as a handle. Freeing what
    /// user code leaves behind can queue more and drain again; that inner drain returns at once
    /// and this loop runs what it queued, so the depth stays one however many are due (nested
    /// drains overflowed the stack with 200,000 callbacks; test:
    /// `object_model::many_callbacks_due_at_once_run_without_nesting`).
    pub(super) fn drain(&self, queue: &Queue, run: impl for<'h> Fn(&'h Heap, Handle<'h>)) {
        if queue.draining.replace(true) {
            return;
        }
        loop {
            // Popped in its own statement: the queue's borrow must end before user code runs.
            let Some(obj) = queue.items.borrow_mut().pop_front() else { break };
            run(self, self.handle(obj));
        }
        queue.draining.set(false);
    }

    /// Runs `obj`'s finalizer, then drops the handle (which frees it unless it was resurrected).
    pub(super) fn invoke_finalizer(&self, obj: Handle<'_>) {
        if self.tearing_down.get() {
            return;
        }
        // SAFETY: the handle keeps the object alive; `finalizer` indexes the table (set_finalizer).
        // Test: collector::finalizer_runs_when_refcount_frees_the_object.
        let id = unsafe { (*obj.ptr()).finalizer } - 1;
        let finalizer = Rc::clone(&self.user_code.finalizers.borrow()[id as usize]);
        self.run_user_code("a finalizer", || finalizer(self, &obj));
    }

    /// Runs a cleared weakref's callback with its argument, then drops the handle.
    pub(super) fn invoke_weakref_callback(&self, weak: Handle<'_>) {
        // SAFETY: `weak` is alive (the handle holds it); its body is a WeakrefBody with a callback.
        // Test: object_model::weakref_callback_runs_once.
        let (id, arg) = unsafe {
            let body = object::body::<WeakrefBody>(weak.ptr());
            ((*body).callback - 1, (*body).callback_arg)
        };
        let callback = Rc::clone(&self.user_code.callbacks.borrow()[id as usize]);
        let arg = (!arg.is_null()).then(|| {
            self.incref(arg);
            self.handle(arg)
        });
        self.run_user_code("a weakref callback", || callback(self, &weak, arg.as_ref()));
    }

    /// Runs a finalizer or a weakref callback. A panic in it is reported and ignored, as CPython
    /// reports an exception raised in `__del__` or in a callback ("Exception ignored in ...") and
    /// carries on: it must not unwind through a refcount cascade or a collection, which would
    /// leave objects half freed and GC lists pointing at freed sentinels.
    pub(super) fn run_user_code(&self, what: &str, user_code: impl FnOnce()) {
        self.user_code.depth.set(self.user_code.depth.get() + 1);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(user_code));
        self.user_code.depth.set(self.user_code.depth.get() - 1);
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            eprintln!("exception ignored in {what}: {message}");
            self.user_code.ignored_panics.set(self.user_code.ignored_panics.get() + 1);
        }
    }
}
