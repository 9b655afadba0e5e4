//! The `nogc` graveyard: under a strategy that does not return blocks a dead object goes here
//! instead of to the allocator, an intrusive list through a word of each dead block that
//! freeing does not read ([`object::graveyard_link`]); dropping the heap frees it.

use std::cell::Cell;
use std::ptr;

use super::Heap;
use super::blocks::owned_bytes;
use crate::object::{self, ObjPtr};

/// The dead objects kept, and their count and bytes.
pub(super) struct Graveyard {
    /// The last dead object kept; each links to the one before.
    pub(super) head: Cell<ObjPtr>,
    pub(super) objects: Cell<u64>,
    /// Their bytes, list items and dict tables included.
    pub(super) bytes: Cell<u64>,
}

impl Default for Graveyard {
    fn default() -> Self {
        Graveyard { head: Cell::new(ptr::null_mut()), objects: Cell::new(0), bytes: Cell::new(0) }
    }
}

impl Heap {
    /// Keeps a retired object's blocks (`nogc`): its bytes move from live to retained and it
    /// joins the graveyard, which teardown frees.
    pub(super) fn bury(&self, obj: ObjPtr) {
        // SAFETY: `obj` is retired (untracked, no references left to it) and its block is ours;
        // `graveyard_link` writes only a word freeing does not read.
        // Test: object_model::nogc_keeps_dead_blocks_until_teardown.
        let bytes = unsafe {
            object::graveyard_link(obj).write(self.graveyard.head.get());
            owned_bytes(obj) as u64
        };
        self.graveyard.head.set(obj);
        self.counters.live_bytes.set(self.counters.live_bytes.get() - bytes);
        self.graveyard.bytes.set(self.graveyard.bytes.get() + bytes);
        self.graveyard.objects.set(self.graveyard.objects.get() + 1);
    }

    /// Returns every block of the graveyard to the allocator (teardown).
    pub(super) fn empty_graveyard(&self) {
        let mut obj = self.graveyard.head.replace(ptr::null_mut());
        // Counted as live again for the moment it takes `return_blocks` to free them.
        self.counters.live_bytes.set(self.counters.live_bytes.get() + self.graveyard.bytes.replace(0));
        self.graveyard.objects.set(0);
        while !obj.is_null() {
            // SAFETY: every graveyard object was buried once and not freed since; the link is
            // read before its block goes back. Test: object_model::nogc_keeps_dead_blocks_until_teardown
            // (valgrind: no leak, no invalid read).
            let next = unsafe { *object::graveyard_link(obj) };
            self.return_blocks(obj);
            obj = next;
        }
    }
}
