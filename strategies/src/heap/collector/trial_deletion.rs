//! Synchronous trial deletion: Bacon and Rajan, "Concurrent Cycle Collection in Reference
//! Counted Systems" (ECOOP 2001), section 3, as PHP's collector runs it (`Zend/zend_gc.c`).
//!
//! Hot path: a decrement that leaves a container's count above zero makes it a *possible root*
//! (purple): it is buffered, once (`RootBuffer::buffer`). A decrement to zero frees the object
//! as always and takes it out of the buffer. Once `roots` are buffered, the next container
//! allocation collects (PHP collects inside the decrement that fills the buffer; an allocation
//! is the heap's safe point, as for the generational trigger). Parameters: `roots`, and whether
//! collection is automatic.
//!
//! A collection ([`Heap::trial_deletion`]):
//!
//! 1. `mark_roots` (MarkRoots / MarkGray): from every buffered root, trial-delete the subgraph it
//!    reaches: each tracked container reached turns grey (COLLECTING) with `gc_refs` = its
//!    refcount, less one for each reference from another grey object;
//! 2. `scan_roots` (Scan / ScanBlack): a grey object with references left from outside the grey
//!    set is alive: it and everything it reaches turn black; the others turn white (SCANNED,
//!    UNREACHABLE); a white object reached later from a black one turns black again;
//! 3. `collect_roots` (CollectWhite): the white objects move to one list, every black one ends
//!    its collection state, and the garbage goes through phases 6 to 10 (`garbage.rs`): legacy
//!    finalizers, weakrefs and callbacks, PEP 442 finalizers, resurrection, `tp_clear`.
//!
//! There are no generations: the cost is that of the subgraphs the roots reach, never of the
//! whole heap. `gc_refs` stands for Bacon and Rajan's trial decrements of the real count, so the
//! counts need no restoring. Only tracked containers take part (atoms and untracked tuples and
//! dicts cannot be in a cycle). While a collection runs, objects it examines are not buffered
//! (their `gc_refs` is in use); every collection empties the buffer.

use std::cell::{Cell, RefCell};

use super::Collection;
use crate::heap::{Heap, gc_list};
use crate::object::{self, ObjPtr, flags};

/// The buffer of possible roots. A freed object leaves a hole, which the next root fills.
pub(in crate::heap) struct RootBuffer {
    slots: RefCell<Vec<ObjPtr>>,
    holes: RefCell<Vec<u32>>,
    /// Roots in the buffer.
    len: Cell<u64>,
    /// A collection falls due at this many roots (`u64::MAX`: never automatically).
    threshold: u64,
}

impl RootBuffer {
    pub(in crate::heap) fn new(threshold: u64) -> RootBuffer {
        RootBuffer { slots: RefCell::default(), holes: RefCell::default(), len: Cell::new(0), threshold }
    }

    /// Whether an automatic collection is due.
    #[inline]
    pub(in crate::heap) fn is_full(&self) -> bool {
        self.len.get() >= self.threshold
    }

    /// Buffers `obj` as a possible root, unless it is buffered already, is not a container, or
    /// is being examined by a collection (its `gc_refs` is in use).
    ///
    /// # Safety
    /// `obj` is a live object.
    #[inline]
    pub(in crate::heap) unsafe fn buffer(&self, obj: ObjPtr) {
        // SAFETY: forwarded; the index lives in `gc_refs` while BUFFERED is set.
        // Test: collector_oracle::trial_deletion_frees_exactly_the_unreachable.
        unsafe {
            if !(*obj).kind.is_container() || (*obj).flags & (flags::BUFFERED | flags::COLLECTING) != 0 {
                return;
            }
            let mut slots = self.slots.borrow_mut();
            let index = match self.holes.borrow_mut().pop() {
                Some(hole) => {
                    slots[hole as usize] = obj;
                    hole
                }
                None => {
                    slots.push(obj);
                    u32::try_from(slots.len() - 1).expect("fewer than 2^32 buffered roots")
                }
            };
            (*obj).gc_refs = index;
            (*obj).flags |= flags::BUFFERED;
        }
        self.len.set(self.len.get() + 1);
    }

    /// Takes a dying object out of the buffer.
    ///
    /// # Safety
    /// `obj` is a live, BUFFERED object.
    pub(in crate::heap) unsafe fn remove(&self, obj: ObjPtr) {
        // SAFETY: forwarded; a BUFFERED object's `gc_refs` is its index.
        // Test: collector::trial_deletion_forgets_roots_that_refcounting_frees.
        unsafe {
            let index = (*obj).gc_refs;
            self.slots.borrow_mut()[index as usize] = std::ptr::null_mut();
            self.holes.borrow_mut().push(index);
            (*obj).flags &= !flags::BUFFERED;
        }
        self.len.set(self.len.get() - 1);
    }

    /// Empties the buffer, returning the roots, no longer BUFFERED.
    fn take(&self) -> Vec<ObjPtr> {
        let roots: Vec<ObjPtr> = self.slots.take().into_iter().filter(|root| !root.is_null()).collect();
        self.holes.borrow_mut().clear();
        self.len.set(0);
        for &root in &roots {
            // SAFETY: buffered objects are live: a dying one leaves the buffer (`remove`).
            // Test: collector::trial_deletion_forgets_roots_that_refcounting_frees.
            unsafe { (*root).flags &= !flags::BUFFERED };
        }
        roots
    }
}

/// The trial-deletion collection, phase by phase.
impl Heap {
    /// Possible roots in trial deletion's buffer now (0 under the other collectors).
    pub fn possible_roots(&self) -> u64 {
        self.roots.len.get()
    }

    /// The buffer is full: collects, unless a collection is running (it empties the buffer).
    #[cold]
    #[inline(never)]
    pub(in crate::heap) fn collect_possible_roots(&self) {
        if !self.gc.is_collecting() {
            self.collect_with_pause(Heap::trial_deletion);
        }
    }

    /// One collection of the buffered roots. Its statistics count as generation 0: trial deletion
    /// has a single kind of collection.
    pub(super) fn trial_deletion(&self) -> Collection {
        let roots = self.roots.take();
        // SAFETY: the roots are live (dying objects leave the buffer); no user code runs and no refcount
        // changes until `collect_roots` hands the garbage to phases 6 to 10. Tests: collector_oracle::
        // trial_deletion_frees_exactly_the_unreachable, collector::trial_deletion_buffers_decrements_inside_a_cascade.
        unsafe {
            let examined = mark_roots(&roots);
            scan_roots(&examined);
            let (collected, uncollectable) = self.collect_roots(&examined);
            Collection { generation: 0, examined: examined.len() as u64, collected, uncollectable }
        }
    }

    /// Phase 3 (CollectRoots / CollectWhite): the white objects are garbage; they leave their
    /// tracking lists for one list, every black one ends its collection state, and the garbage
    /// goes through phases 6 to 10. Returns what was collected and what was uncollectable.
    ///
    /// # Safety
    /// `examined` is every object `mark_roots` made grey, each now black or white.
    unsafe fn collect_roots(&self, examined: &[ObjPtr]) -> (u64, u64) {
        let unreachable = gc_list::TempList::new();
        let mut found = 0;
        // SAFETY: forwarded; white objects are tracked containers referred to only by white objects: garbage
        // as `move_unreachable` leaves it (COLLECTING, UNREACHABLE), and nothing else is COLLECTING.
        // Test: collector_oracle::trial_deletion_frees_exactly_the_unreachable.
        unsafe {
            for &obj in examined {
                (*obj).flags &= !flags::SCANNED;
                if (*obj).flags & flags::UNREACHABLE != 0 {
                    gc_list::remove(obj);
                    gc_list::append(unreachable.head(), obj);
                    found += 1;
                } else {
                    (*obj).flags &= !flags::COLLECTING;
                }
            }
            gc_list::validate(unreachable.head(), gc_list::Collecting::Yes);
            let disposal = self.dispose_of_garbage(unreachable.head(), found, self.gc.youngest());
            (disposal.collected, disposal.uncollectable)
        }
    }
}

/// Phase 1 (MarkRoots / MarkGray): every tracked container reachable from a root turns grey
/// (COLLECTING), its `gc_refs` its refcount less the references from grey objects. Returns the
/// grey objects, roots first. An explicit worklist: nothing recurses.
///
/// # Safety
/// `roots` are live objects; no object is COLLECTING.
unsafe fn mark_roots(roots: &[ObjPtr]) -> Vec<ObjPtr> {
    let mut grey = Vec::new();
    // SAFETY: forwarded; references of live objects are live objects.
    // Test: collector_oracle::trial_deletion_frees_exactly_the_unreachable.
    unsafe {
        for &root in roots {
            if takes_part(root) && (*root).flags & flags::COLLECTING == 0 {
                (*root).flags |= flags::COLLECTING;
                (*root).gc_refs = (*root).refcnt;
                grey.push(root);
            }
        }
        let mut next = 0;
        while next < grey.len() {
            let obj = grey[next];
            next += 1;
            object::for_each_reference(obj, |child| {
                if !takes_part(child) {
                    return;
                }
                if (*child).flags & flags::COLLECTING == 0 {
                    (*child).flags |= flags::COLLECTING;
                    (*child).gc_refs = (*child).refcnt;
                    grey.push(child);
                }
                debug_assert!((*child).gc_refs > 0, "more references found than counted");
                (*child).gc_refs -= 1;
            });
        }
    }
    grey
}

/// Whether `obj` takes part in trial deletion: a tracked container, not immortal (an immortal
/// object is alive, and so is all it refers to; a root buffered before it became immortal is
/// dropped here).
///
/// # Safety
/// `obj` is a live object.
unsafe fn takes_part(obj: ObjPtr) -> bool {
    // SAFETY: forwarded; only containers have a GC head.
    // Tests: collector::trial_deletion_collects_a_cycle_once_the_buffer_is_full,
    // collector_oracle::immortal_objects_under_every_collector.
    unsafe { (*obj).kind.is_container() && object::is_tracked(obj) && !object::is_immortal(obj) }
}

/// Phase 2 (ScanRoots / Scan): a grey object still referred to from outside the grey set
/// (`gc_refs > 0`) turns black with everything it reaches; a grey object without such
/// references turns white, tentatively, and its grey children are scanned in turn.
///
/// # Safety
/// `grey` is what `mark_roots` returned.
unsafe fn scan_roots(grey: &[ObjPtr]) {
    let mut stack = Vec::new();
    // SAFETY: forwarded; only COLLECTING (grey) objects are written.
    // Test: collector_oracle::trial_deletion_frees_exactly_the_unreachable.
    unsafe {
        for &obj in grey {
            stack.push(obj);
            while let Some(obj) = stack.pop() {
                if (*obj).flags & flags::SCANNED != 0 {
                    continue;
                }
                if (*obj).gc_refs > 0 {
                    scan_black(obj);
                    continue;
                }
                (*obj).flags |= flags::SCANNED | flags::UNREACHABLE;
                object::for_each_reference(obj, |child| {
                    if (*child).flags & (flags::COLLECTING | flags::SCANNED) == flags::COLLECTING {
                        stack.push(child);
                    }
                });
            }
        }
    }
}

/// ScanBlack: `obj` and every grey or white object it reaches are alive (black).
///
/// # Safety
/// `obj` is a grey object of the collection.
unsafe fn scan_black(obj: ObjPtr) {
    let mut stack = vec![obj];
    // SAFETY: forwarded; only COLLECTING objects are written.
    // Test: collector_oracle::trial_deletion_frees_exactly_the_unreachable.
    unsafe {
        while let Some(obj) = stack.pop() {
            if (*obj).flags & (flags::SCANNED | flags::UNREACHABLE) == flags::SCANNED {
                continue; // black already
            }
            (*obj).flags = ((*obj).flags | flags::SCANNED) & !flags::UNREACHABLE;
            object::for_each_reference(obj, |child| {
                let state = (*child).flags & (flags::COLLECTING | flags::SCANNED | flags::UNREACHABLE);
                if state & flags::COLLECTING != 0 && state != flags::COLLECTING | flags::SCANNED {
                    stack.push(child);
                }
            });
        }
    }
}
