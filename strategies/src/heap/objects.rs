//! Making objects: the constructors of the Mutator API (ints from the small-int cache, `()`
//! shared, new dicts untracked as in CPython), the heap's globals, and the registration of
//! finalizers and weakref callbacks.

use std::ptr;
use std::rc::Rc;

use super::weakrefs::Origin;
use super::{CallbackId, FinalizerId, FinalizerKind, Handle, Heap, SMALL_INT_MAX, SMALL_INT_MIN, WeakCallback};
use crate::object::{self, DictBody, InstanceBody, Kind, KindSet, ListBody, ObjPtr, StrBody, WeakrefBody, flags};

impl Heap {
    /// An int; -5..=256 come from the small-int cache, as in CPython.
    pub fn int(&self, value: i64) -> Handle<'_> {
        if (SMALL_INT_MIN..=SMALL_INT_MAX).contains(&value) {
            let cached = self.runtime.small_ints.get().expect("built in new")[(value - SMALL_INT_MIN) as usize];
            self.incref(cached);
            return self.handle(cached);
        }
        self.handle(self.new_int_object(value))
    }

    /// A str atom holding a copy of `text`.
    pub fn str(&self, text: &str) -> Handle<'_> {
        let obj = self.allocate(Kind::Str, text.len());
        // SAFETY: `obj` is a fresh str block of `block_size(Str, len)` bytes: the body, then
        // `len` bytes and a NUL. Test: object_model::atoms_round_trip.
        unsafe {
            body_write(
                obj,
                StrBody {
                    hash: object::str_hash(text.as_bytes()),
                    byte_len: text.len() as u64,
                    state: text.is_ascii() as u64,
                },
            );
            let bytes = object::body::<StrBody>(obj).add(1).cast::<u8>();
            ptr::copy_nonoverlapping(text.as_ptr(), bytes, text.len());
            bytes.add(text.len()).write(0);
        }
        self.handle(obj)
    }

    /// A tuple of the given items (fixed for its lifetime, as in Python).
    #[inline(always)]
    pub fn tuple(&self, items: &[Option<&Handle<'_>>]) -> Handle<'_> {
        if items.is_empty() {
            // CPython's `()` is one shared, untracked object.
            let empty = *self.runtime.empty_tuple.get_or_init(|| self.allocate(Kind::Tuple, 0));
            self.incref(empty);
            return self.handle(empty);
        }
        // Checked before allocating and counted after: a panic (a foreign handle, the heap cap)
        // leaves no half-built tuple and no extra reference behind.
        for item in items.iter().flatten() {
            self.own(item);
        }
        let obj = self.allocate(Kind::Tuple, items.len());
        // SAFETY: fresh tuple: its slots are the `items.len()` pointers after the header.
        // Test: object_model::slots_round_trip.
        let slots = unsafe { object::slots(obj) };
        for (slot, item) in slots.iter_mut().zip(items) {
            *slot = item.map_or(ptr::null_mut(), |h| self.new_reference(h));
        }
        self.track(obj);
        self.handle(obj)
    }

    /// An empty list.
    pub fn list(&self) -> Handle<'_> {
        let obj = self.allocate(Kind::List, 0);
        // SAFETY: fresh list block; its body is a ListBody. Test: object_model::list_insert_remove_match_python.
        unsafe { body_write(obj, ListBody { items: ptr::null_mut(), len: 0, capacity: 0 }) };
        self.track(obj);
        self.handle(obj)
    }

    /// An empty dict.
    pub fn dict(&self) -> Handle<'_> {
        let obj = self.allocate(Kind::Dict, 0);
        // SAFETY: fresh dict block; its body is a DictBody. Test: object_model::dict_grows_and_keeps_order.
        unsafe { body_write(obj, DictBody { used: 0, nentries: 0, capacity: 0, table: ptr::null_mut() }) };
        // Like CPython's, a new dict is untracked until it holds something that may be tracked.
        self.handle(obj)
    }

    /// An instance with `nslots` empty slots (a class with `__slots__` and `__weakref__`).
    #[inline(always)]
    pub fn instance(&self, nslots: usize) -> Handle<'_> {
        let obj = self.allocate(Kind::Instance, nslots);
        // SAFETY: fresh instance block: an InstanceBody, then `nslots` slots. Test: object_model::slots_round_trip.
        unsafe {
            body_write(obj, InstanceBody { weaklist: ptr::null_mut() });
            object::slots(obj).fill(ptr::null_mut());
        }
        self.track(obj);
        self.handle(obj)
    }

    /// A weak reference to `target` (an instance), with an optional callback.
    pub fn weakref(&self, target: &Handle<'_>, callback: Option<WeakCallback<'_, '_>>) -> Handle<'_> {
        if let Some(callback) = &callback {
            assert!((callback.id.0 as usize) < self.user_code.callbacks.borrow().len(), "unknown callback id");
        }
        let obj =
            self.new_weakref_object(self.expect(target, KindSet::of(&[Kind::Instance]), "weakref"), Origin::Program);
        if let Some(callback) = callback {
            // SAFETY: `obj` is the live weakref just made. Test: object_model::weakref_callback_runs_once.
            unsafe {
                let body = object::body::<WeakrefBody>(obj);
                (*body).callback = callback.id.0 as u64 + 1;
                (*body).callback_arg = callback.arg.map_or(ptr::null_mut(), |h| self.new_reference(h));
            }
        }
        self.handle(obj)
    }

    /// Registers a weakref callback; the id can be used for any number of weakrefs.
    pub fn register_callback(
        &self,
        callback: impl for<'h> Fn(&'h Heap, &Handle<'h>, Option<&Handle<'h>>) + 'static,
    ) -> CallbackId {
        let mut callbacks = self.user_code.callbacks.borrow_mut();
        callbacks.push(Rc::new(callback));
        CallbackId(u32::try_from(callbacks.len() - 1).expect("fewer than 2^32 callbacks"))
    }

    /// The heap's globals: a dict that lives until the run ends, like a module's namespace. It is
    /// released before the exit collection and the leak walk, as interpreter shutdown clears
    /// modules.
    pub fn globals(&self) -> Handle<'_> {
        if let Some(&globals) = self.runtime.globals.get() {
            self.incref(globals);
            return self.handle(globals);
        }
        // Allocating can run a collection, and its finalizers may ask for the globals first.
        let dict = self.dict();
        if self.runtime.globals.set(dict.ptr()).is_ok() {
            self.incref(dict.ptr()); // the heap's own reference
            dict
        } else {
            self.globals()
        }
    }

    /// Registers a finalizer; the id can be given to any number of objects.
    pub fn register_finalizer(&self, finalizer: impl for<'h> Fn(&'h Heap, &Handle<'h>) + 'static) -> FinalizerId {
        let mut finalizers = self.user_code.finalizers.borrow_mut();
        finalizers.push(Rc::new(finalizer));
        FinalizerId(u16::try_from(finalizers.len()).expect("fewer than 65535 finalizers") - 1)
    }

    /// Gives an instance a finalizer, run when it dies (by refcount or by collection).
    pub fn set_finalizer(&self, h: &Handle<'_>, id: FinalizerId, kind: FinalizerKind) {
        let obj = self.expect(h, KindSet::of(&[Kind::Instance]), "set_finalizer");
        assert!((id.0 as usize) < self.user_code.finalizers.borrow().len(), "unknown finalizer id");
        // SAFETY: a handle keeps its object alive. Test: collector::finalizer_runs_when_refcount_frees_the_object.
        unsafe {
            (*obj).finalizer = id.0 + 1;
            (*obj).flags |= match kind {
                FinalizerKind::Pep442 => flags::HAS_FINALIZER,
                FinalizerKind::Legacy => flags::HAS_FINALIZER | flags::LEGACY_FINALIZER,
            };
        }
    }

    /// Whether the object's finalizer has run (`gc.is_finalized`).
    pub fn is_finalized(&self, h: &Handle<'_>) -> bool {
        // SAFETY: a handle keeps its object alive. Test: collector::resurrecting_finalizer_runs_once.
        unsafe { (*self.own(h)).flags & flags::FINALIZED != 0 }
    }

    pub(super) fn new_int_object(&self, value: i64) -> ObjPtr {
        let obj = self.allocate(Kind::Int, 0);
        // SAFETY: fresh int block; its body is one i64. Test: object_model::small_ints_are_cached_and_others_are_not.
        unsafe { body_write(obj, value) };
        obj
    }
}

/// Writes a kind's body right after the header.
///
/// # Safety
/// `obj` is a fresh object whose kind's body is a `T`.
pub(super) unsafe fn body_write<T>(obj: ObjPtr, body: T) {
    // SAFETY: forwarded contract; the block has room for the body (`block_size`).
    // Test: object_model::sizes_match_layout.
    unsafe { object::body::<T>(obj).write(body) }
}
