//! The GC lists: doubly linked, circular, intrusive lists through the GC heads of tracked
//! containers, each with a sentinel head that belongs to no object (CPython's `PyGC_Head`
//! lists). Every helper that links, unlinks, walks or splices them is here; the collector and
//! the heap use nothing else. Walks are explicit loops; nothing recurses.

use std::ptr::{self, NonNull};

use crate::object::{GcHead, ObjPtr, flags, from_gc_head, gc_head};

/// Empty GC list sentinel, pointing at itself.
pub(super) fn new() -> NonNull<GcHead> {
    let head = Box::into_raw(Box::new(GcHead { next: ptr::null_mut(), prev: ptr::null_mut() }));
    // SAFETY: `head` was just allocated by Box and is exclusively ours.
    // Test: object_model::teardown_frees_everything.
    unsafe {
        (*head).next = head;
        (*head).prev = head;
        NonNull::new_unchecked(head)
    }
}

/// Frees a sentinel made by [`new`].
///
/// # Safety
/// `head` came from `gc_list::new` and is not used afterwards.
pub(super) unsafe fn free(head: NonNull<GcHead>) {
    // SAFETY: `head` was made by `Box::into_raw` in `gc_list::new`. Test: object_model::teardown_frees_everything.
    drop(unsafe { Box::from_raw(head.as_ptr()) });
}

/// Appends container `obj` to the list at `head`.
///
/// # Safety
/// `obj` is a live container not in any list; `head` is a live list sentinel.
pub(super) unsafe fn append(head: NonNull<GcHead>, obj: ObjPtr) {
    // SAFETY: every node of a circular list has valid next/prev; we splice before `head`.
    // Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
    unsafe {
        let node = gc_head(obj);
        let head = head.as_ptr();
        let last = (*head).prev;
        (*node).prev = last;
        (*node).next = head;
        (*last).next = node;
        (*head).prev = node;
    }
}

/// Removes container `obj` from whatever list it is in.
///
/// # Safety
/// `obj` is a live container that is in a list.
pub(super) unsafe fn remove(obj: ObjPtr) {
    // SAFETY: its neighbours are live list nodes (objects or the sentinel).
    // Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
    unsafe {
        let node = gc_head(obj);
        (*(*node).prev).next = (*node).next;
        (*(*node).next).prev = (*node).prev;
        (*node).next = ptr::null_mut();
        (*node).prev = ptr::null_mut();
    }
}

/// Every container in the list at `head`, in list order.
///
/// # Safety
/// `head` is a live list sentinel whose nodes are live containers.
pub(super) unsafe fn objects(head: NonNull<GcHead>) -> Vec<ObjPtr> {
    let mut out = Vec::new();
    // SAFETY: walking a well-formed circular list until we are back at the sentinel.
    // Test: object_model::teardown_frees_everything.
    unsafe {
        let mut node = (*head.as_ptr()).next;
        while node != head.as_ptr() {
            out.push(from_gc_head(node));
            node = (*node).next;
        }
    }
    out
}

/// A list head that lives for one phase: a sentinel, freed when dropped (the list must be
/// empty by then).
pub(super) struct TempList(NonNull<GcHead>);

impl TempList {
    pub(super) fn new() -> TempList {
        TempList(new())
    }

    pub(super) fn head(&self) -> NonNull<GcHead> {
        self.0
    }
}

impl Drop for TempList {
    fn drop(&mut self) {
        // SAFETY: the sentinel came from `gc_list::new`; the collector empties every temporary
        // list before its phase ends (checked here under debug assertions).
        // Test: collector::every_collection_is_a_recorded_pause.
        unsafe {
            debug_assert!(first(self.0).is_none(), "a temporary GC list was left non-empty");
            free(self.0);
        }
    }
}

/// Calls `f` on every object of `list`, allowing `f` to move or free the current object.
///
/// # Safety
/// `list` is a live list of live containers; `f` may unlink the current object but no other.
pub(super) unsafe fn for_each(list: NonNull<GcHead>, mut f: impl FnMut(ObjPtr)) {
    // SAFETY: forwarded; `next` is read before `f` can move the current node.
    // Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
    unsafe {
        let mut node = (*list.as_ptr()).next;
        while node != list.as_ptr() {
            let next = (*node).next;
            f(from_gc_head(node));
            node = next;
        }
    }
}

/// The first object of `list`, if any.
///
/// # Safety
/// `list` is a live list.
pub(super) unsafe fn first(list: NonNull<GcHead>) -> Option<ObjPtr> {
    // SAFETY: forwarded. Test: collector::resurrecting_finalizer_runs_once.
    unsafe {
        let first = (*list.as_ptr()).next;
        (first != list.as_ptr()).then(|| from_gc_head(first))
    }
}

/// Number of objects in `list` (CPython's `gc_list_size`).
///
/// # Safety
/// `list` is a live list.
pub(super) unsafe fn size(list: NonNull<GcHead>) -> u64 {
    let mut size = 0;
    // SAFETY: forwarded. Test: collector::freeze_hides_garbage_until_unfreeze.
    unsafe { for_each(list, |_| size += 1) };
    size
}

/// Moves every object of `from` to the end of `to` (CPython's `gc_list_merge`), in O(1).
///
/// # Safety
/// Both are live, distinct lists.
pub(super) unsafe fn merge(from: NonNull<GcHead>, to: NonNull<GcHead>) {
    // SAFETY: splicing two well-formed circular lists. Test: collector::generation_counts_match_cpython.
    unsafe {
        let (from, to) = (from.as_ptr(), to.as_ptr());
        if (*from).next == from {
            return;
        }
        let (first, last) = ((*from).next, (*from).prev);
        let tail = (*to).prev;
        (*tail).next = first;
        (*first).prev = tail;
        (*last).next = to;
        (*to).prev = last;
        (*from).next = from;
        (*from).prev = from;
    }
}

/// What `validate` expects of the COLLECTING flag.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Collecting {
    Yes,
    No,
}

/// Under debug assertions, checks that `list` is a well-formed circular list of tracked
/// containers whose COLLECTING flag is as expected (CPython's `validate_list`).
///
/// # Safety
/// `list` is a live list.
pub(super) unsafe fn validate(list: NonNull<GcHead>, collecting: Collecting) {
    if !cfg!(debug_assertions) {
        return;
    }
    // SAFETY: forwarded; read-only walk. Test: collector_oracle::full_collection_frees_exactly_the_unreachable.
    unsafe {
        let head = list.as_ptr();
        let mut prev = head;
        let mut node = (*head).next;
        while node != head {
            assert_eq!((*node).prev, prev, "GC list: broken prev link");
            let obj = from_gc_head(node);
            assert!((*obj).kind.is_container(), "GC list: holds an atom");
            assert_eq!(
                (*obj).flags & flags::COLLECTING != 0,
                collecting == Collecting::Yes,
                "GC list: COLLECTING flag"
            );
            prev = node;
            node = (*node).next;
        }
        assert_eq!((*head).prev, prev, "GC list: broken tail link");
    }
}
