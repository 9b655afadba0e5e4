//! Object layout: what a block from the allocator looks like once it holds an object.
//!
//! ```text
//!  container kinds (tuple, list, dict, instance, weakref)     atoms (int, str)
//!  block ─► ┌──────────────────────────────┐                block ─► ┌──────────────────┐
//!           │ GcHead: next, prev (16 B)    │  links in the           │ Header (16 B)    │
//!  ObjPtr ─►├──────────────────────────────┤  tracked list  ObjPtr ─►│ refcnt gc_refs   │
//!           │ Header: refcnt, gc_refs,     │                         │ kind flags len   │
//!           │   kind, flags, len (16 B)    │                         ├──────────────────┤
//!           ├──────────────────────────────┤                         │ payload          │
//!           │ payload (per kind, below)    │                         └──────────────────┘
//!           └──────────────────────────────┘
//! ```
//!
//! An object is named by a pointer to its [`Header`] (like CPython's `PyObject *`); the GC head,
//! when present, sits just before it (like `PyGC_Head`). CPython keeps `gc_refs` in spare bits
//! of the GC head's `prev` pointer; we give it its own field in the header instead of packing
//! flags into pointer bits, which keeps the header at CPython's 16 bytes.
//!
//! Sizes (bytes, 64-bit, GC head included) beside CPython 3.11's `sys.getsizeof`:
//!
//! | kind     | ours            | CPython 3.11                 | notes                             |
//! |----------|-----------------|------------------------------|-----------------------------------|
//! | int      | 24              | 28                           | one i64; both use a 32-byte block |
//! | str      | 41 + n          | 49 + n (3.12+: 41 + n)       | hash, length, state, bytes, NUL   |
//! | tuple    | 32 + 8n         | 40 + 8n                      | length lives in the header        |
//! | list     | 56 + 8·capacity | 56 + 8·capacity              | items array is a separate block   |
//! | dict     | 64 + table      | 64 + keys table              | insertion-ordered, like CPython   |
//! | instance | 40 + 8n         | 40 + 8n (`__slots__` + `__weakref__`) | weakref list head + slots |
//! | weakref  | 72              | 80                           | no cached hash, no vectorcall     |
//!
//! The functions here are the only code that computes addresses inside an object. Each is
//! `unsafe` with one contract: the pointer names a live object of the kind it is used for.

use std::mem::size_of;
use std::ptr::{self, NonNull};

/// A possibly-null reference to an object, as stored in slots.
pub(crate) type ObjPtr = *mut Header;

/// What an object is. Atoms are never tracked by the cycle collector; containers always are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    Int,
    Str,
    Tuple,
    List,
    Dict,
    Instance,
    Weakref,
}

impl Kind {
    /// Every kind, in declaration order (`kind as usize` indexes it).
    pub const ALL: [Kind; 7] =
        [Kind::Int, Kind::Str, Kind::Tuple, Kind::List, Kind::Dict, Kind::Instance, Kind::Weakref];

    /// Containers can refer to other objects, carry a GC head and are tracked.
    #[inline]
    pub fn is_container(self) -> bool {
        !matches!(self, Kind::Int | Kind::Str)
    }

    /// Only instances can be the target of a weak reference (as with `__weakref__` in
    /// `__slots__`; CPython's int, str, tuple, list and dict cannot be weakly referenced).
    pub fn is_weakly_referenceable(self) -> bool {
        matches!(self, Kind::Instance)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Int => "int",
            Kind::Str => "str",
            Kind::Tuple => "tuple",
            Kind::List => "list",
            Kind::Dict => "dict",
            Kind::Instance => "instance",
            Kind::Weakref => "weakref",
        }
    }
}

/// A set of kinds, one bit per kind: the kind checks of the Mutator API test membership with
/// one AND instead of scanning a slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KindSet(u8);

const _: () = assert!(Kind::ALL.len() <= u8::BITS as usize, "a KindSet has one bit per kind");

impl KindSet {
    /// The set of `kinds` (evaluated at compile time where the slice is a constant).
    pub const fn of(kinds: &[Kind]) -> KindSet {
        let mut bits = 0;
        let mut i = 0;
        while i < kinds.len() {
            bits |= 1 << kinds[i] as u8;
            i += 1;
        }
        KindSet(bits)
    }

    #[inline]
    pub fn contains(self, kind: Kind) -> bool {
        self.0 & (1 << kind as u8) != 0
    }

    /// The kinds in the set, in declaration order.
    pub fn kinds(self) -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(move |&kind| self.contains(kind))
    }
}

/// Links of a tracked container in a doubly linked, circular GC list (the list head is a
/// sentinel `GcHead` that is not part of any object).
#[repr(C)]
pub(crate) struct GcHead {
    pub next: *mut GcHead,
    pub prev: *mut GcHead,
}

/// The header every object starts with.
#[repr(C)]
pub(crate) struct Header {
    /// Strong references: handles held by workloads plus references from slots; or
    /// [`IMMORTAL_REFCNT`] (see [`refcount`]).
    pub refcnt: u32,
    /// Scratch space for the cycle collector (CPython's `gc_refs`).
    pub gc_refs: u32,
    pub kind: Kind,
    pub flags: u8,
    /// Index + 1 into the heap's finalizer table; 0 means no finalizer.
    pub finalizer: u16,
    /// Slot count (tuple, instance) or byte length (str); 0 for the other kinds.
    pub len: u32,
}

/// Immortal objects (PEP 683, CPython 3.12+): a count with its high bit set, which no mortal
/// count reaches (an increment that would is an overflow, refused). Increments and decrements
/// test the count once, as they already did (overflow, zero), and write nothing to an immortal
/// object, so after `fork()` its page stays shared. As in CPython, the value sits in the middle
/// of the immortal range, far from both ends.
pub(crate) mod refcount {
    /// The count of an immortal object (CPython 3.12 uses `UINT_MAX >> 2` with a 32-bit test).
    pub const IMMORTAL_REFCNT: u32 = 0xC000_0000;
    /// Counts at or above this are immortal, or one increment from overflowing into that range:
    /// the one branch of an increment.
    pub const SATURATED: u32 = IMMORTAL_BIT - 1;
    const IMMORTAL_BIT: u32 = 1 << 31;

    /// Whether `count` is an immortal object's.
    #[inline]
    pub fn is_immortal(count: u32) -> bool {
        count & IMMORTAL_BIT != 0
    }

    /// Whether a decrement that leaves `new` needs more than a write: `new` is zero (the object
    /// dies) or the object is immortal (nothing is written). One test: `new` is not positive as
    /// a signed number.
    #[inline]
    pub fn zero_or_immortal(new: u32) -> bool {
        (new as i32) <= 0
    }
}

pub(crate) use refcount::IMMORTAL_REFCNT;

/// Whether `obj` is immortal.
///
/// # Safety
/// `obj` must name a live object.
#[inline]
pub(crate) unsafe fn is_immortal(obj: ObjPtr) -> bool {
    // SAFETY: forwarded contract. Test: refcount::tests::immortal_headers_are_never_written.
    refcount::is_immortal(unsafe { (*obj).refcnt })
}

/// Header flags.
pub(crate) mod flags {
    /// A weakref object that stands for a back edge stored weakly (`back-edges=weak`).
    pub const BACK_EDGE: u8 = 1 << 0;
    /// In the set being collected (CPython's `PREV_MASK_COLLECTING`).
    pub const COLLECTING: u8 = 1 << 1;
    /// Moved to the tentatively unreachable list by `move_unreachable` (`NEXT_MASK_UNREACHABLE`).
    pub const UNREACHABLE: u8 = 1 << 2;
    /// Has a finalizer (`tp_finalize`, PEP 442), run at most once.
    pub const HAS_FINALIZER: u8 = 1 << 3;
    /// Its finalizer has run (CPython keeps this bit in the GC head).
    pub const FINALIZED: u8 = 1 << 4;
    /// Has a legacy finalizer (`tp_del`): the collector will not free it, and puts it in `garbage`.
    pub const LEGACY_FINALIZER: u8 = 1 << 5;
    /// In trial deletion's buffer of possible roots (Bacon and Rajan's "buffered"; its index in
    /// the buffer is in `gc_refs` while it waits there).
    pub const BUFFERED: u8 = 1 << 6;
    /// Decided by trial deletion's scan: with UNREACHABLE white (garbage), without it black.
    pub const SCANNED: u8 = 1 << 7;
    /// The incremental collector's space bit (CPython 3.14's `_PyGC_NEXT_MASK_OLD_SPACE_1`):
    /// the object is in old space 1, else 0. It shares SCANNED's bit: a heap runs one collector,
    /// and SCANNED is set only inside a trial-deletion collection, this only under `incremental`.
    pub const OLD_SPACE_1: u8 = SCANNED;
}

const GC_HEAD_SIZE: usize = size_of::<GcHead>();
const HEADER_SIZE: usize = size_of::<Header>();
const _: () = assert!(GC_HEAD_SIZE == 16 && HEADER_SIZE == 16);

#[repr(C)]
pub(crate) struct StrBody {
    pub hash: u64,
    pub byte_len: u64,
    /// CPython's `state` word (interned, kind, compact, ascii); we keep the ascii bit.
    pub state: u64,
}

#[repr(C)]
pub(crate) struct ListBody {
    pub items: *mut ObjPtr,
    pub len: usize,
    pub capacity: usize,
}

#[derive(Clone, Copy)]
#[repr(C)]
pub(crate) struct DictBody {
    /// Live entries.
    pub used: usize,
    /// Entry slots consumed, deleted ones included (CPython's `dk_nentries`).
    pub nentries: usize,
    /// Number of index slots; 0 while no table has been allocated.
    pub capacity: usize,
    pub table: *mut u8,
}

#[repr(C)]
pub(crate) struct InstanceBody {
    /// First weakref pointing here (CPython's `tp_weaklistoffset` slot).
    pub weaklist: ObjPtr,
}

#[repr(C)]
pub(crate) struct WeakrefBody {
    /// The referent, or null once it has died. Not a counted reference.
    pub target: ObjPtr,
    /// Index + 1 into the heap's callback table; 0 means no callback.
    pub callback: u64,
    /// A counted reference passed to the callback (the callback's "closure").
    pub callback_arg: ObjPtr,
    /// Neighbours in the target's list of weakrefs.
    pub prev: ObjPtr,
    pub next: ObjPtr,
}

/// One entry of a dict table: the key and a counted reference to the value (null if deleted).
#[repr(C)]
pub(crate) struct DictEntry {
    pub key: u64,
    pub value: ObjPtr,
}

/// The size of a kind's own block as `fixed + len * per_len` bytes: GC head, header and body,
/// then its slots (tuple, instance) or bytes and NUL (str).
const fn block_layout(kind: Kind) -> (usize, usize) {
    let gc = if matches!(kind, Kind::Int | Kind::Str) { 0 } else { GC_HEAD_SIZE };
    let (payload, per_len) = match kind {
        Kind::Int => (size_of::<i64>(), 0),
        Kind::Str => (size_of::<StrBody>() + 1, 1),
        Kind::Tuple => (0, size_of::<ObjPtr>()),
        Kind::List => (size_of::<ListBody>(), 0),
        Kind::Dict => (size_of::<DictBody>(), 0),
        Kind::Instance => (size_of::<InstanceBody>(), size_of::<ObjPtr>()),
        Kind::Weakref => (size_of::<WeakrefBody>(), 0),
    };
    (gc + HEADER_SIZE + payload, per_len)
}

/// [`block_layout`] of every kind, indexed by `kind as usize`: a block's size is one load, one
/// multiply and one add, on the allocation and free paths alike.
const BLOCK_LAYOUTS: [(usize, usize); Kind::ALL.len()] = {
    let mut table = [(0, 0); Kind::ALL.len()];
    let mut i = 0;
    while i < table.len() {
        table[i] = block_layout(Kind::ALL[i]);
        i += 1;
    }
    table
};

/// Bytes of the object's own block for `kind` with `len` slots or bytes.
#[inline]
pub(crate) fn block_size(kind: Kind, len: usize) -> usize {
    let (fixed, per_len) = BLOCK_LAYOUTS[kind as usize];
    fixed + len * per_len
}

/// Bytes of a list's separate items block for `capacity` items.
pub(crate) fn list_items_size(capacity: usize) -> usize {
    capacity * size_of::<ObjPtr>()
}

/// Bytes of a dict table with `capacity` index slots (a power of two): `i32` indices, then
/// room for `usable_entries(capacity)` entries, as CPython's `PyDictKeysObject` lays them out.
pub(crate) fn dict_table_size(capacity: usize) -> usize {
    capacity * size_of::<i32>() + usable_entries(capacity) * size_of::<DictEntry>()
}

/// Entries a table of `capacity` index slots can hold before it must grow (2/3 load).
pub(crate) fn usable_entries(capacity: usize) -> usize {
    capacity * 2 / 3
}

/// Writes a fresh header (refcount 1) into `block` and returns the object pointer.
///
/// # Safety
/// `block` must be a writable block of at least `block_size(kind, len)` bytes, aligned to 16.
pub(crate) unsafe fn init_header(block: NonNull<u8>, kind: Kind, len: usize) -> NonNull<Header> {
    let gc = if kind.is_container() { GC_HEAD_SIZE } else { 0 };
    let len = u32::try_from(len).expect("object length fits in u32");
    // SAFETY: the caller gives a block of at least `gc + HEADER_SIZE` bytes; the header starts
    // `gc` bytes in, which keeps it 16-aligned. Test: object_model::sizes_match_layout.
    unsafe {
        if gc > 0 {
            block.as_ptr().cast::<GcHead>().write(GcHead { next: ptr::null_mut(), prev: ptr::null_mut() });
        }
        let obj = block.as_ptr().add(gc).cast::<Header>();
        obj.write(Header { refcnt: 1, gc_refs: 0, kind, flags: 0, finalizer: 0, len });
        NonNull::new_unchecked(obj)
    }
}

/// The start of the block that holds `obj` (its GC head, for containers).
///
/// # Safety
/// `obj` must name a live object.
pub(crate) unsafe fn block_start(obj: ObjPtr) -> NonNull<u8> {
    // SAFETY: containers were laid out by `init_header` with the GC head just before the header.
    // Test: object_model::sizes_match_layout.
    unsafe {
        let gc = if (*obj).kind.is_container() { GC_HEAD_SIZE } else { 0 };
        NonNull::new_unchecked(obj.cast::<u8>().sub(gc))
    }
}

/// The object's own block size, read back from its header.
///
/// # Safety
/// `obj` must name a live object.
pub(crate) unsafe fn own_block_size(obj: ObjPtr) -> usize {
    // SAFETY: the header of a live object is initialised. Test: object_model::sizes_match_layout.
    unsafe { block_size((*obj).kind, (*obj).len as usize) }
}

/// The GC head of a container.
///
/// # Safety
/// `obj` must name a live container.
pub(crate) unsafe fn gc_head(obj: ObjPtr) -> *mut GcHead {
    // SAFETY: containers carry their GC head immediately before the header. Test: object_model::sizes_match_layout.
    unsafe { obj.cast::<GcHead>().sub(1) }
}

/// Where a dead object that `nogc` keeps (its block never returned to the allocator) links to
/// the next one, forming the heap's graveyard: the GC head's `prev` word for containers (they are
/// untracked once dead, so `next` stays null and [`is_tracked`] false), the first payload word for
/// atoms (an int's value, a str's hash: neither is needed to free the block). The words that
/// freeing reads (kind, length, a list's items, a dict's table) are left alone.
///
/// # Safety
/// `obj` must name a dead object whose block has not been returned; a container must be untracked.
pub(crate) unsafe fn graveyard_link(obj: ObjPtr) -> *mut ObjPtr {
    // SAFETY: the block is still ours (never returned); a container has its GC head before the
    // header, an atom at least 8 payload bytes (int: the value; str: the hash), 8-aligned.
    // Test: object_model::nogc_keeps_dead_blocks_until_teardown (under valgrind in CI).
    unsafe {
        if (*obj).kind.is_container() { (&raw mut (*gc_head(obj)).prev).cast::<ObjPtr>() } else { body::<ObjPtr>(obj) }
    }
}

/// The container whose GC head is `gc`.
///
/// # Safety
/// `gc` must be the GC head of a live container (not a list sentinel).
pub(crate) unsafe fn from_gc_head(gc: *mut GcHead) -> ObjPtr {
    // SAFETY: the header follows the GC head in the same block.
    // Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
    unsafe { gc.add(1).cast::<Header>() }
}

/// The payload that follows the header, viewed as `T`.
///
/// # Safety
/// `obj` must name a live object whose kind's payload starts with a `T`.
pub(crate) unsafe fn body<T>(obj: ObjPtr) -> *mut T {
    // SAFETY: the payload starts right after the 16-byte header, in the same block.
    // Test: object_model::atoms_round_trip.
    unsafe { obj.add(1).cast::<T>() }
}

/// The counted references held in fixed or growable slots: tuple items, instance slots, list
/// items. Empty for other kinds (dict values are reached through [`dict_entries`]).
///
/// # Safety
/// `obj` must name a live object, and no other reference to its slots may be alive while the
/// returned slice is used (the heap is single-threaded and never holds two at once).
pub(crate) unsafe fn slots<'a>(obj: ObjPtr) -> &'a mut [ObjPtr] {
    // SAFETY: per kind, the slots were allocated and null-initialised at creation (tuple and
    // instance inline, list items in their own block of `capacity >= len` entries).
    // Test: object_model::slots_round_trip.
    unsafe {
        match (*obj).kind {
            Kind::Tuple => std::slice::from_raw_parts_mut(body::<ObjPtr>(obj), (*obj).len as usize),
            Kind::Instance => {
                std::slice::from_raw_parts_mut(body::<InstanceBody>(obj).add(1).cast::<ObjPtr>(), (*obj).len as usize)
            }
            Kind::List => {
                let list = body::<ListBody>(obj);
                if (*list).items.is_null() {
                    &mut []
                } else {
                    std::slice::from_raw_parts_mut((*list).items, (*list).len)
                }
            }
            _ => &mut [],
        }
    }
}

/// The index part and the entries part of a dict's table.
///
/// # Safety
/// `obj` must name a live dict with a table (`capacity > 0`); no other reference to the table
/// may be alive while the slices are used.
pub(crate) unsafe fn dict_table<'a>(obj: ObjPtr) -> (&'a mut [i32], &'a mut [DictEntry]) {
    // SAFETY: the table block was allocated with `dict_table_size(capacity)` bytes: `capacity`
    // i32 indices followed by `usable_entries(capacity)` entries, 16-aligned since capacity is
    // a power of two >= 8. Test: object_model::dict_grows_and_keeps_order.
    unsafe {
        let dict = body::<DictBody>(obj);
        let capacity = (*dict).capacity;
        let indices = std::slice::from_raw_parts_mut((*dict).table.cast::<i32>(), capacity);
        let entries = std::slice::from_raw_parts_mut(
            (*dict).table.add(capacity * size_of::<i32>()).cast::<DictEntry>(),
            usable_entries(capacity),
        );
        (indices, entries)
    }
}

/// The live entries of a dict, in insertion order (deleted ones have a null value).
///
/// # Safety
/// As for [`dict_table`], except that a dict without a table yields an empty slice.
pub(crate) unsafe fn dict_entries<'a>(obj: ObjPtr) -> &'a mut [DictEntry] {
    // SAFETY: forwarded contract; `nentries <= usable_entries(capacity)` is kept by the dict code.
    // Test: object_model::dict_grows_and_keeps_order.
    unsafe {
        let dict = body::<DictBody>(obj);
        if (*dict).capacity == 0 {
            return &mut [];
        }
        let nentries = (*dict).nentries;
        &mut dict_table(obj).1[..nentries]
    }
}

/// Calls `visit` with every counted reference `obj` holds (CPython's `tp_traverse`). A weakref's
/// target is not counted and is not visited.
///
/// # Safety
/// `obj` must name a live object; `visit` must not free `obj`.
pub(crate) unsafe fn for_each_reference(obj: ObjPtr, mut visit: impl FnMut(ObjPtr)) {
    // SAFETY: forwarded contract; each accessor is used on the kind it is written for.
    // Test: object_model::refcounts_balance.
    unsafe {
        match (*obj).kind {
            Kind::Int | Kind::Str => {}
            Kind::Tuple | Kind::Instance | Kind::List => {
                for &child in slots(obj).iter() {
                    if !child.is_null() {
                        visit(child);
                    }
                }
            }
            Kind::Dict => {
                for entry in dict_entries(obj).iter() {
                    if !entry.value.is_null() {
                        visit(entry.value);
                    }
                }
            }
            Kind::Weakref => {
                let arg = (*body::<WeakrefBody>(obj)).callback_arg;
                if !arg.is_null() {
                    visit(arg);
                }
            }
        }
    }
}

/// Whether container `obj` is in a GC list.
///
/// # Safety
/// `obj` must name a live container.
pub(crate) unsafe fn is_tracked(obj: ObjPtr) -> bool {
    // SAFETY: untracked containers have null links (`gc_list::remove`, fresh objects).
    // Test: collector::tuples_of_atoms_are_untracked_by_a_collection.
    unsafe { !(*gc_head(obj)).next.is_null() }
}

/// CPython's `_PyObject_GC_MAY_BE_TRACKED`: a container other than a tuple may always become
/// part of a cycle; a tuple only while it is tracked. Empty slots (`None`) and atoms may not.
///
/// # Safety
/// `obj` is null or a live object.
pub(crate) unsafe fn may_be_tracked(obj: ObjPtr) -> bool {
    // SAFETY: forwarded. Test: collector::tuples_of_atoms_are_untracked_by_a_collection.
    unsafe { !obj.is_null() && (*obj).kind.is_container() && ((*obj).kind != Kind::Tuple || is_tracked(obj)) }
}

/// CPython-style string hash (FNV-1a here; any fixed function keeps runs deterministic).
pub(crate) fn str_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}
