//! The dict table, after CPython's compact dict (3.6+): a sparse array of `i32` indices into a
//! dense array of entries kept in insertion order, so iteration order is Python's.
//!
//! ```text
//!  table block:  [ indices: i32 × capacity ][ entries: (key, value) × capacity·2/3 ]
//!                   -1 empty, -2 deleted,        appended in insertion order; a deleted
//!                   n >= 0 → entries[n]          entry keeps its place with a null value
//! ```
//!
//! Lookup probes the indices with CPython's perturbed sequence `i = 5i + perturb + 1`. When the
//! entries array is full (deleted entries count) the table is rebuilt at a size for
//! `3 × used` entries (CPython's `GROWTH_RATE`), which also drops the deleted entries.

use crate::object::{self, DictBody, DictEntry, ObjPtr};
use std::ptr;

const EMPTY: i32 = -1;
const DELETED: i32 = -2;
const MIN_CAPACITY: usize = 8;

/// Where tables come from: the heap's allocator, with its live-bytes accounting.
pub(crate) trait Blocks {
    /// Called before a table grows, while the dict is unchanged: may stop the workload there
    /// (the heap cap), by panicking.
    fn admit(&self, size: usize);
    fn alloc_bytes(&self, size: usize) -> *mut u8;
    fn free_bytes(&self, block: *mut u8, size: usize);
}

/// The value stored under `key`, or null.
pub(crate) fn lookup(dict: ObjPtr, key: u64) -> ObjPtr {
    // SAFETY (all functions here): `dict` names a live dict object, which the caller proves by
    // holding a handle to it; the table accessors then check its capacity.
    // Test: object_model::dict_grows_and_keeps_order.
    unsafe {
        if (*object::body::<DictBody>(dict)).capacity == 0 {
            return ptr::null_mut();
        }
        let (indices, entries) = object::dict_table(dict);
        match probe(indices, entries, key) {
            Probe::Found { entry, .. } => entries[entry].value,
            Probe::Vacant { .. } => ptr::null_mut(),
        }
    }
}

/// Stores `value` (an owned reference) under `key`; returns the old value's reference, or null.
pub(crate) fn insert(dict: ObjPtr, key: u64, value: ObjPtr, blocks: &impl Blocks) -> ObjPtr {
    // SAFETY: see `lookup`. Test: object_model::dict_grows_and_keeps_order.
    unsafe {
        let body = object::body::<DictBody>(dict);
        if (*body).capacity == 0 {
            rebuild(dict, MIN_CAPACITY, blocks);
        }
        let (indices, entries) = object::dict_table(dict);
        if let Probe::Found { entry, .. } = probe(indices, entries, key) {
            return std::mem::replace(&mut entries[entry].value, value);
        }
        if (*body).nentries == object::usable_entries((*body).capacity) {
            rebuild(dict, capacity_for((*body).used * 3), blocks);
        }
        let (indices, entries) = object::dict_table(dict);
        let Probe::Vacant { slot } = probe(indices, entries, key) else {
            unreachable!("the key was absent before the rebuild")
        };
        let entry = (*body).nentries;
        entries[entry] = DictEntry { key, value };
        indices[slot] = entry as i32;
        (*body).nentries += 1;
        (*body).used += 1;
        ptr::null_mut()
    }
}

/// Removes `key`; returns its value's reference (now the caller's), or null if absent.
pub(crate) fn remove(dict: ObjPtr, key: u64) -> ObjPtr {
    // SAFETY: see `lookup`. Test: object_model::dict_grows_and_keeps_order.
    unsafe {
        let body = object::body::<DictBody>(dict);
        if (*body).capacity == 0 {
            return ptr::null_mut();
        }
        let (indices, entries) = object::dict_table(dict);
        match probe(indices, entries, key) {
            Probe::Found { slot, entry } => {
                indices[slot] = DELETED;
                (*body).used -= 1;
                std::mem::replace(&mut entries[entry].value, ptr::null_mut())
            }
            Probe::Vacant { .. } => ptr::null_mut(),
        }
    }
}

/// Takes the value out of entry number `entry` (in insertion order, deleted ones included),
/// deleting its key as `remove` does; `None` past the last entry. Used to clear a dict entry by
/// entry (`tp_clear`) while releases in between may change the dict.
pub(crate) fn take_entry(dict: ObjPtr, entry: usize) -> Option<ObjPtr> {
    // SAFETY: see `lookup`. Test: object_model::dict_grows_and_keeps_order.
    unsafe {
        let key = object::dict_entries(dict).get(entry)?.key;
        if object::dict_entries(dict)[entry].value.is_null() {
            return Some(ptr::null_mut());
        }
        Some(remove(dict, key))
    }
}

enum Probe {
    /// `indices[slot] == entry` and `entries[entry]` holds the key.
    Found { slot: usize, entry: usize },
    /// The key is absent; `slot` is the first empty or deleted index slot on its probe path.
    Vacant { slot: usize },
}

fn probe(indices: &[i32], entries: &[DictEntry], key: u64) -> Probe {
    let mask = indices.len() - 1;
    let hash = mix(key);
    let mut perturb = hash;
    let mut slot = hash as usize & mask;
    let mut vacant = None;
    loop {
        match indices[slot] {
            EMPTY => return Probe::Vacant { slot: vacant.unwrap_or(slot) },
            DELETED => {
                vacant.get_or_insert(slot);
            }
            ix if entries[ix as usize].key == key => return Probe::Found { slot, entry: ix as usize },
            _ => {}
        }
        perturb >>= 5;
        slot = (slot * 5 + perturb as usize + 1) & mask;
    }
}

/// The smallest power-of-two capacity whose usable entries exceed `entries`.
fn capacity_for(entries: usize) -> usize {
    let mut capacity = MIN_CAPACITY;
    while object::usable_entries(capacity) <= entries {
        capacity *= 2;
    }
    capacity
}

/// Moves the live entries, in order, into a new table of `capacity` index slots.
///
/// # Safety
/// `dict` names a live dict.
unsafe fn rebuild(dict: ObjPtr, capacity: usize, blocks: &impl Blocks) {
    blocks.admit(object::dict_table_size(capacity));
    // SAFETY: the new table is written whole before the body points at it; the old table is
    // read (live entries only) and then returned with the size it was allocated with.
    // Test: object_model::dict_grows_and_keeps_order.
    unsafe {
        let body = object::body::<DictBody>(dict);
        let old = *body;
        let live: Vec<DictEntry> = object::dict_entries(dict)
            .iter()
            .filter(|e| !e.value.is_null())
            .map(|e| DictEntry { key: e.key, value: e.value })
            .collect();
        *body = DictBody {
            used: live.len(),
            nentries: live.len(),
            capacity,
            table: blocks.alloc_bytes(object::dict_table_size(capacity)),
        };
        let (indices, entries) = object::dict_table(dict);
        indices.fill(EMPTY);
        for (n, entry) in live.into_iter().enumerate() {
            let Probe::Vacant { slot } = probe(indices, entries, entry.key) else { unreachable!("keys are unique") };
            indices[slot] = n as i32;
            entries[n] = entry;
        }
        if old.capacity > 0 {
            blocks.free_bytes(old.table, object::dict_table_size(old.capacity));
        }
    }
}

/// splitmix64's finaliser: spreads integer keys over the index slots.
fn mix(key: u64) -> u64 {
    let mut z = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
