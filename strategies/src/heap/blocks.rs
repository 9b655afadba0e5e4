//! Objects and blocks: a new object's block from the allocator (counted, sampled, capped, and
//! the gen-0 count that may trigger a collection), tracking, and the end of a dead object
//! (retired from every list and count, its blocks returned or, under `nogc`, buried).

use std::ptr::NonNull;

use super::Heap;
use super::gc_list;
use crate::alloc::{AllocStats, Allocator};
use crate::dict::Blocks;
use crate::object::{self, DictBody, Kind, ListBody, ObjPtr, flags};
use crate::strategy::CollectorKind;

impl Heap {
    /// A fresh object the program asked for, with refcount 1 (not yet tracked, payload
    /// unwritten). Counts the allocation and takes the interval sample when one is due.
    #[inline(always)]
    pub(super) fn allocate(&self, kind: Kind, len: usize) -> ObjPtr {
        let allocations = self.counters.allocations.get() + 1;
        self.counters.allocations.set(allocations);
        if allocations == self.next_interval_sample.get() {
            self.sample_interval();
        }
        self.allocate_uncounted(kind, len)
    }

    /// A fresh object, not counted as a program allocation (the runtime's own: back-edge
    /// weakrefs). May run a collection first, and stops the workload if it would pass the cap.
    #[inline(always)]
    pub(super) fn allocate_uncounted(&self, kind: Kind, len: usize) -> ObjPtr {
        let size = object::block_size(kind, len);
        let mut counted = false;
        if kind.is_container() {
            let collect;
            (counted, collect) = self.gc.note_allocation(kind, len);
            if collect {
                self.collection_due();
            }
            if self.roots.is_full() {
                self.collect_possible_roots();
            }
        }
        if self.held_bytes() + size as u64 > self.cap.limit.get() {
            self.stop_before_allocating(counted, size);
        }
        let block = self.alloc_bytes(size);
        self.counters.live_objects.set(self.counters.live_objects.get() + 1);
        // SAFETY: the block has `block_size(kind, len)` bytes and is 16-aligned.
        // Test: object_model::sizes_match_layout.
        unsafe { object::init_header(NonNull::new_unchecked(block), kind, len).as_ptr() }
    }

    /// The gen-0 count passed its threshold: the strategy's collector runs (off the fast path).
    #[cold]
    #[inline(never)]
    fn collection_due(&self) {
        match self.mode.collector {
            CollectorKind::Incremental => self.collect_increment_due(),
            _ => self.collect_generations(),
        }
    }

    /// Starts tracking container `obj` in the youngest generation.
    pub(super) fn track(&self, obj: ObjPtr) {
        // SAFETY: `obj` is a live container in no list.
        // Test: collector::tuples_of_atoms_are_untracked_by_a_collection.
        unsafe { gc_list::append(self.gc.youngest(), obj) };
        self.counters.tracked.set(self.counters.tracked.get() + 1);
    }

    /// Stops tracking container `obj` (its contents cannot form a cycle).
    pub(super) fn untrack(&self, obj: ObjPtr) {
        // SAFETY: `obj` is a live, tracked container. Test: collector::tuples_of_atoms_are_untracked_by_a_collection.
        unsafe { gc_list::remove(obj) };
        self.counters.tracked.set(self.counters.tracked.get() - 1);
    }

    /// Ends a dead object: it leaves the weakref and GC lists and the live counts, then its
    /// blocks go back to the allocator, or, under `nogc`, to the graveyard. Its references must
    /// already have been dropped or handed over.
    #[inline(always)]
    pub(super) fn free_object(&self, obj: ObjPtr) {
        self.retire(obj);
        if self.mode.retain_dead {
            self.bury(obj);
        } else {
            self.return_blocks(obj);
        }
    }

    /// The bookkeeping of a death, whatever happens to the blocks: unlinks a weakref from its
    /// target, untracks a container, counts the deallocation.
    #[inline(always)]
    pub(super) fn retire(&self, obj: ObjPtr) {
        // SAFETY: `obj` has refcount zero and is unreachable, but its block is still ours.
        // Tests: object_model::refcounts_balance, object_model::weakref_dies_with_target.
        unsafe {
            let kind = (*obj).kind;
            if kind.is_container() {
                if kind == Kind::Weakref {
                    self.unlink_weakref(obj);
                }
                if (*obj).flags & flags::BUFFERED != 0 {
                    self.roots.remove(obj);
                }
                if object::is_tracked(obj) {
                    self.untrack(obj);
                }
                self.gc.note_deallocation(kind, (*obj).len as usize);
            }
        }
        self.counters.live_objects.set(self.counters.live_objects.get() - 1);
    }

    /// Returns `obj`'s blocks (the object, a list's items, a dict's table) to the allocator.
    #[inline(always)]
    pub(super) fn return_blocks(&self, obj: ObjPtr) {
        // SAFETY: `obj` is retired and its blocks are returned once (directly, or from the
        // graveyard at teardown); we read its layout one last time.
        // Test: object_model::teardown_frees_everything (live bytes return to zero).
        unsafe {
            match (*obj).kind {
                Kind::List => {
                    let list = object::body::<ListBody>(obj);
                    if (*list).capacity > 0 {
                        self.free_bytes((*list).items.cast(), object::list_items_size((*list).capacity));
                    }
                }
                Kind::Dict => {
                    let dict = object::body::<DictBody>(obj);
                    if (*dict).capacity > 0 {
                        self.free_bytes((*dict).table, object::dict_table_size((*dict).capacity));
                    }
                }
                _ => {}
            }
            let size = object::own_block_size(obj);
            self.free_bytes(object::block_start(obj).as_ptr(), size);
        }
    }

    /// Gives the allocator's untouched, populated pages back to the OS (before a fork).
    pub(super) fn release_untouched_pages(&self) {
        // SAFETY: as in `alloc_stats`: one call that does not call back into the heap.
        // Test: allocator::untouched_pools_leave_memory.
        unsafe { (*self.allocator.get()).release_untouched() }
    }

    /// The allocator's counters.
    pub(super) fn alloc_stats(&self) -> AllocStats {
        // SAFETY: the heap is not `Sync`, and the allocator is reached only here and in
        // `alloc_bytes`/`free_bytes`, each for one call that does not call back into the heap,
        // so no other reference to it is alive. Test: object_model::teardown_frees_everything.
        unsafe { (*self.allocator.get()).stats() }
    }
}

impl Blocks for Heap {
    fn admit(&self, size: usize) {
        Heap::admit(self, size);
    }

    #[inline(always)]
    fn alloc_bytes(&self, size: usize) -> *mut u8 {
        self.counters.live_bytes.set(self.counters.live_bytes.get() + size as u64);
        // SAFETY: the allocator is reached only for one call at a time that never calls back
        // into the heap, and the heap is not `Sync` (as in `alloc_stats`).
        // Test: object_model::teardown_frees_everything.
        unsafe { (*self.allocator.get()).alloc(size).as_ptr() }
    }

    #[inline(always)]
    fn free_bytes(&self, block: *mut u8, size: usize) {
        self.counters.live_bytes.set(self.counters.live_bytes.get() - size as u64);
        // SAFETY: every block freed here came from `alloc_bytes` with this size (recorded in headers,
        // list and dict capacities); the allocator is reached for this call only (`alloc_stats`).
        // Test: object_model::teardown_frees_everything (live bytes return to zero).
        unsafe { (*self.allocator.get()).free(NonNull::new_unchecked(block), size) };
    }
}

/// Bytes an object owns: its block plus a list's items or a dict's table.
///
/// # Safety
/// `obj` names a live object.
pub(super) unsafe fn owned_bytes(obj: ObjPtr) -> usize {
    // SAFETY: forwarded contract. Test: object_model::sizes_match_layout.
    unsafe {
        object::own_block_size(obj)
            + match (*obj).kind {
                Kind::List => object::list_items_size((*object::body::<ListBody>(obj)).capacity),
                Kind::Dict => match (*object::body::<DictBody>(obj)).capacity {
                    0 => 0,
                    capacity => object::dict_table_size(capacity),
                },
                _ => 0,
            }
    }
}
