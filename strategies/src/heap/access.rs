//! Reading and writing objects through handles: slots, list items, dict entries, weakref
//! targets, and back edges, which are followed transparently when stored as weakrefs.

use std::ptr;

use super::{Handle, Heap};
use crate::dict;
use crate::dict::Blocks;
use crate::object::{self, DictBody, Kind, KindSet, ListBody, ObjPtr, StrBody, WeakrefBody, flags};

/// Kinds whose slots `get` reads: tuples, instances, lists.
const READABLE_SLOTS: KindSet = KindSet::of(&[Kind::Tuple, Kind::Instance, Kind::List]);
/// Kinds whose slots `set` writes: instances and lists (tuples are immutable).
const WRITABLE_SLOTS: KindSet = KindSet::of(&[Kind::Instance, Kind::List]);
use crate::strategy::BackEdges;

impl Heap {
    pub fn kind(&self, h: &Handle<'_>) -> Kind {
        // SAFETY: a handle keeps its object alive. Test: object_model::kinds_are_checked.
        unsafe { (*self.own(h)).kind }
    }

    /// Slots of a tuple or instance, items of a list, entries of a dict, bytes of a str.
    pub fn len(&self, h: &Handle<'_>) -> usize {
        let obj = self.own(h);
        // SAFETY: a handle keeps its object alive; each kind is read through its own layout.
        // Test: object_model::list_insert_remove_match_python.
        unsafe {
            match (*obj).kind {
                Kind::Tuple | Kind::Instance | Kind::Str => (*obj).len as usize,
                Kind::List => (*object::body::<ListBody>(obj)).len,
                Kind::Dict => (*object::body::<DictBody>(obj)).used,
                kind => panic!("len() of a {}", kind.name()),
            }
        }
    }

    #[inline]
    pub fn int_value(&self, h: &Handle<'_>) -> i64 {
        let obj = self.expect(h, KindSet::of(&[Kind::Int]), "int_value");
        // SAFETY: a live int's body is its i64 value. Test: object_model::atoms_round_trip.
        unsafe { *object::body::<i64>(obj) }
    }

    pub fn str_value(&self, h: &Handle<'_>) -> String {
        let obj = self.expect(h, KindSet::of(&[Kind::Str]), "str_value");
        // SAFETY: a live str holds `len` valid UTF-8 bytes after its body (copied from a &str).
        // Test: object_model::atoms_round_trip.
        unsafe {
            let bytes = object::body::<StrBody>(obj).add(1).cast::<u8>();
            let slice = std::slice::from_raw_parts(bytes, (*obj).len as usize);
            String::from_utf8_unchecked(slice.to_vec())
        }
    }

    /// The object in slot `index` of a tuple, instance or list; `None` if the slot is empty.
    /// A back edge is followed to its target; a dead back edge panics (a workload bug).
    #[inline(always)]
    pub fn get<'h>(&'h self, h: &Handle<'h>, index: usize) -> Option<Handle<'h>> {
        let obj = self.expect(h, READABLE_SLOTS, "get");
        // SAFETY: a handle keeps `obj` alive; slots of a live object are valid pointers or null.
        // Test: object_model::slots_round_trip.
        let value = unsafe { *slot_at(obj, index) };
        self.follow(value, obj, index)
    }

    /// Whether handle `h`'s slot `index` holds a reference (a back edge counts even if dead).
    pub fn is_set(&self, h: &Handle<'_>, index: usize) -> bool {
        let obj = self.expect(h, READABLE_SLOTS, "is_set");
        // SAFETY: as in `get`. Test: object_model::slots_are_bounds_checked.
        unsafe { !(*slot_at(obj, index)).is_null() }
    }

    /// The target of a weakref, if it is still alive.
    pub fn upgrade<'h>(&'h self, weakref: &Handle<'h>) -> Option<Handle<'h>> {
        let obj = self.expect(weakref, KindSet::of(&[Kind::Weakref]), "upgrade");
        // SAFETY: a live weakref's target is null or a live object (cleared when it dies).
        // Test: object_model::weakref_dies_with_target.
        let target = unsafe { (*object::body::<WeakrefBody>(obj)).target };
        (!target.is_null()).then(|| {
            self.incref(target);
            self.handle(target)
        })
    }

    // ----- writing --------------------------------------------------------------------

    /// Stores `value` (or clears the slot) in an instance or list slot.
    #[inline(always)]
    pub fn set(&self, h: &Handle<'_>, index: usize, value: Option<&Handle<'_>>) {
        let obj = self.expect(h, WRITABLE_SLOTS, "set");
        let new = value.map_or(ptr::null_mut(), |v| self.new_reference(v));
        self.replace_slot(obj, index, new);
    }

    /// Stores an edge that closes a cycle (a parent pointer, a ring closer). Strong strategies
    /// store it like [`Heap::set`]; [`BackEdges::Weak`] stores a weakref to `target` instead,
    /// shared by every back edge to `target` as CPython shares `weakref.ref(target)`.
    /// Invariant for workloads: a back edge never is the only thing keeping its target alive.
    pub fn set_back_edge(&self, h: &Handle<'_>, index: usize, target: &Handle<'_>) {
        let obj = self.expect(h, WRITABLE_SLOTS, "set_back_edge");
        let new = match self.mode.back_edges {
            BackEdges::Strong => self.new_reference(target),
            BackEdges::Weak => {
                self.back_edge_weakref(self.expect(target, KindSet::of(&[Kind::Instance]), "a back edge's target"))
            }
        };
        self.replace_slot(obj, index, new);
    }

    pub fn list_append(&self, list: &Handle<'_>, value: &Handle<'_>) {
        let len = self.len(list);
        self.list_insert(list, len, value);
    }

    /// Inserts before `index` (`index == len` appends), like `list.insert`.
    pub fn list_insert(&self, list: &Handle<'_>, index: usize, value: &Handle<'_>) {
        let obj = self.expect(list, KindSet::of(&[Kind::List]), "list_insert");
        // SAFETY: a live list's body is a ListBody. Test: object_model::list_insert_remove_match_python.
        let len = unsafe { (*object::body::<ListBody>(obj)).len };
        assert!(index <= len, "list_insert at {index} in a list of length {len}");
        // Grown first, counted after: if growing stops at the heap cap, nothing has changed.
        let new = self.own(value);
        self.resize_list(obj, len + 1);
        self.incref(new);
        // SAFETY: after the resize the list has `len + 1` slots; the last one is free.
        // Test: object_model::list_insert_remove_match_python.
        let slots = unsafe { object::slots(obj) };
        slots.copy_within(index..len, index + 1);
        slots[index] = new;
    }

    /// Removes and returns the item at `index`, like `list.pop(index)`.
    pub fn list_remove<'h>(&'h self, list: &Handle<'h>, index: usize) -> Option<Handle<'h>> {
        let obj = self.expect(list, KindSet::of(&[Kind::List]), "list_remove");
        // SAFETY: a live list's slots are its `len` items. Test: object_model::list_insert_remove_match_python.
        let slots = unsafe { object::slots(obj) };
        let len = slots.len();
        assert!(index < len, "list_remove at {index} in a list of length {len}");
        let removed = slots[index];
        // Followed first: a dead back edge panics with the list unchanged.
        let result = self.follow(removed, obj, index);
        slots.copy_within(index + 1..len, index);
        self.resize_list(obj, len - 1);
        if !removed.is_null() {
            self.decref(removed);
        }
        result
    }

    pub fn dict_set(&self, d: &Handle<'_>, key: u64, value: &Handle<'_>) {
        let obj = self.expect(d, KindSet::of(&[Kind::Dict]), "dict_set");
        // Stored first, counted after: if the table's growth stops at the heap cap, the dict is
        // unchanged and no reference was taken. Nothing runs between the two.
        let new = self.own(value);
        // CPython's MAINTAIN_TRACKING: a dict untracked by a full collection is tracked again as
        // soon as it holds something that could be part of a cycle.
        // SAFETY: both objects are alive (handles). Test: collector::new_dicts_are_untracked_like_cpython.
        unsafe {
            if !object::is_tracked(obj) && object::may_be_tracked(new) {
                self.track(obj);
            }
        }
        let old = dict::insert(obj, key, new, self);
        self.incref(new);
        if !old.is_null() {
            self.decref(old);
        }
    }

    pub fn dict_get<'h>(&'h self, d: &Handle<'h>, key: u64) -> Option<Handle<'h>> {
        let obj = self.expect(d, KindSet::of(&[Kind::Dict]), "dict_get");
        let value = dict::lookup(obj, key);
        (!value.is_null()).then(|| {
            self.incref(value);
            self.handle(value)
        })
    }

    /// Removes `key`, returning its value if it was present.
    pub fn dict_remove<'h>(&'h self, d: &Handle<'h>, key: u64) -> Option<Handle<'h>> {
        let obj = self.expect(d, KindSet::of(&[Kind::Dict]), "dict_remove");
        let value = dict::remove(obj, key);
        // The dict's reference is handed to the returned handle.
        (!value.is_null()).then(|| self.handle(value))
    }

    /// Keys in insertion order, as Python iterates a dict.
    pub fn dict_keys(&self, d: &Handle<'_>) -> Vec<u64> {
        let obj = self.expect(d, KindSet::of(&[Kind::Dict]), "dict_keys");
        // SAFETY: a live dict's entries are valid; deleted ones have a null value.
        // Test: object_model::dict_grows_and_keeps_order.
        unsafe { object::dict_entries(obj).iter().filter(|e| !e.value.is_null()).map(|e| e.key).collect() }
    }

    /// Grows or shrinks a list's items block for `new_len` items, with CPython's over-allocation
    /// (`list_resize`), and sets its length. New slots are null.
    pub(super) fn resize_list(&self, obj: ObjPtr, new_len: usize) {
        // SAFETY: `obj` is a live list; its items block has `capacity` slots, `len` in use.
        // Test: object_model::list_insert_remove_match_python.
        unsafe {
            let list = object::body::<ListBody>(obj);
            let (len, capacity) = ((*list).len, (*list).capacity);
            if new_len <= capacity && new_len >= capacity / 2 {
                for i in len..new_len {
                    (*list).items.add(i).write(ptr::null_mut());
                }
                (*list).len = new_len;
                return;
            }
            let mut new_capacity = (new_len + (new_len >> 3) + 6) & !3;
            if new_len.saturating_sub(len) > new_capacity - new_len {
                new_capacity = (new_len + 3) & !3;
            }
            if new_len == 0 {
                new_capacity = 0;
            }
            if new_len > len {
                // Growing (an insert): nothing has changed yet, so the cap may stop it here.
                self.admit(object::list_items_size(new_capacity));
            }
            let items = if new_capacity == 0 {
                ptr::null_mut()
            } else {
                self.alloc_bytes(object::list_items_size(new_capacity)).cast::<ObjPtr>()
            };
            let kept = len.min(new_len);
            if kept > 0 {
                ptr::copy_nonoverlapping((*list).items, items, kept);
            }
            for i in kept..new_len {
                items.add(i).write(ptr::null_mut());
            }
            if capacity > 0 {
                self.free_bytes((*list).items.cast(), object::list_items_size(capacity));
            }
            *list = ListBody { items, len: new_len, capacity: new_capacity };
        }
    }

    #[inline]
    pub(super) fn replace_slot(&self, obj: ObjPtr, index: usize, new: ObjPtr) {
        // SAFETY: `obj` is alive (the caller holds a handle); `slot_at` checks the bounds.
        // Test: object_model::refcounts_balance.
        let old = unsafe {
            let slot = slot_at(obj, index);
            std::mem::replace(&mut *slot, new)
        };
        if !old.is_null() {
            self.decref(old);
        }
    }

    /// Turns a slot value into a handle, following a back edge stored as a weakref.
    #[inline]
    pub(super) fn follow<'h>(&'h self, value: ObjPtr, holder: ObjPtr, index: usize) -> Option<Handle<'h>> {
        if value.is_null() {
            return None;
        }
        // SAFETY: `value` is held by a live slot, so it is alive.
        // Test: object_model::following_a_dead_back_edge_panics.
        let target = unsafe {
            if (*value).kind == Kind::Weakref && (*value).flags & flags::BACK_EDGE != 0 {
                let target = (*object::body::<WeakrefBody>(value)).target;
                if target.is_null() {
                    dead_back_edge(index, (*holder).kind);
                }
                target
            } else {
                value
            }
        };
        self.incref(target);
        Some(self.handle(target))
    }
}

/// The slot `index` of a tuple, instance or list, bounds-checked.
///
/// # Safety
/// `obj` names a live tuple, instance or list.
#[inline]
pub(super) unsafe fn slot_at(obj: ObjPtr, index: usize) -> *mut ObjPtr {
    // SAFETY: forwarded contract. Test: object_model::slots_are_bounds_checked.
    let slots = unsafe { object::slots(obj) };
    if index >= slots.len() {
        // SAFETY: forwarded contract. Test: object_model::slots_are_bounds_checked.
        slot_out_of_range(index, unsafe { (*obj).kind }, slots.len());
    }
    &mut slots[index]
}

#[cold]
#[inline(never)]
fn dead_back_edge(index: usize, holder: Kind) -> ! {
    panic!(
        "dead back edge in slot {index} of a {}: workload invariant broken — a back edge must \
         never be the only reference keeping its target alive (under the `weakref` strategy back \
         edges are weak, so the target has been freed)",
        holder.name()
    )
}

#[cold]
#[inline(never)]
fn slot_out_of_range(index: usize, kind: Kind, len: usize) -> ! {
    panic!("slot {index} out of range for a {} of length {len}", kind.name())
}
