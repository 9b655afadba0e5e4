//! The heap cap ([`super::HeapConfig::max_live_bytes`]): before the heap grows (a new object, a
//! list's items growing, a dict's table growing) it checks that the bytes it holds stay within
//! the cap; if not, it stops the workload with `panic_any(HeapCapExceeded { .. })`, at a point
//! where nothing has changed yet, so the unwinding drops the workload's handles as usual and
//! [`Heap::finish`] can still report. It never stops inside a collection, a finalizer or
//! callback, teardown, or while already unwinding: there the allocation goes through, and the
//! next one made by the workload itself stops it.

use std::cell::Cell;

use super::{Heap, HeapCapExceeded};

/// The cap and whether it stopped the workload.
pub(super) struct Cap {
    /// Most bytes the heap may hold (`u64::MAX`: no cap; set once the small-int cache is built).
    pub(super) limit: Cell<u64>,
    pub(super) exceeded: Cell<Option<HeapCapExceeded>>,
}

impl Heap {
    /// Lets the heap grow by `bytes`, or stops the workload at the cap. One comparison when
    /// under the cap.
    #[inline]
    pub(super) fn admit(&self, bytes: usize) {
        if self.held_bytes() + bytes as u64 > self.cap.limit.get() {
            self.stop_at_cap(bytes);
        }
    }

    /// Bytes the heap holds from the allocator: live, plus the dead objects `nogc` keeps.
    pub(super) fn held_bytes(&self) -> u64 {
        self.counters.live_bytes.get() + self.graveyard.bytes.get()
    }

    /// Whether the workload may be stopped here: it is the workload's own call, not a
    /// collection's, a finalizer's or callback's, not teardown, and no panic is unwinding.
    pub(super) fn at_stopping_point(&self) -> bool {
        !self.gc.is_collecting()
            && self.user_code.depth.get() == 0
            && !self.tearing_down.get()
            && !std::thread::panicking()
    }

    /// Past the cap: panics with [`HeapCapExceeded`] where the workload may be stopped;
    /// elsewhere lets the allocation through (the workload's next one stops it).
    #[cold]
    #[inline(never)]
    pub(super) fn stop_at_cap(&self, requested: usize) {
        if !self.at_stopping_point() {
            return;
        }
        let exceeded = HeapCapExceeded {
            live_bytes: self.held_bytes(),
            requested_bytes: requested as u64,
            cap: self.cap.limit.get(),
        };
        self.cap.exceeded.set(Some(exceeded));
        std::panic::panic_any(exceeded);
    }

    /// The cap stops an object's allocation: first takes back the gen-0 count it was given, so
    /// that the collector's counts stay those of the objects that exist.
    #[cold]
    pub(super) fn stop_before_allocating(&self, counted: bool, size: usize) {
        if counted && self.at_stopping_point() {
            self.gc.uncount_allocation();
        }
        self.stop_at_cap(size);
    }
}
