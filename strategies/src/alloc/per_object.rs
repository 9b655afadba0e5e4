//! The baseline allocator: every block is its own system allocation.
//!
//! `PerObjectMalloc` passes each request straight to its [`SystemBackend`], whatever the size.
//! It exists for two reasons:
//!
//! - **as a baseline**: it shows what pymalloc's arenas and pools buy (or cost) against the
//!   system allocator alone, for time and for memory;
//! - **for valgrind**: with the libc backend every object is a real `malloc`, so memcheck tracks
//!   each one on its own, with no pooling that could hide a use-after-free or a leak.
//!
//! Its counters follow the same rules as pymalloc's: a block counts at its requested size in
//! `bytes_used`, and since nothing is pooled `bytes_reserved == bytes_used` (the backend's own
//! rounding and metadata are not visible from here). The arena counters stay 0.

use std::ptr::NonNull;

use super::{AllocStats, Allocator, SystemBackend};

/// One system allocation per block.
#[derive(Debug)]
pub struct PerObjectMalloc {
    backend: SystemBackend,
    stats: AllocStats,
}

impl PerObjectMalloc {
    /// An allocator that sends every request to `backend`.
    pub fn new(backend: SystemBackend) -> Self {
        PerObjectMalloc { backend, stats: AllocStats::default() }
    }

    /// The system backend every request goes to.
    pub fn backend(&self) -> SystemBackend {
        self.backend
    }
}

impl Allocator for PerObjectMalloc {
    fn name(&self) -> String {
        "per-object".to_string()
    }

    #[inline]
    fn alloc(&mut self, size: usize) -> NonNull<u8> {
        let block = self.backend.alloc(size);
        let stats = &mut self.stats;
        stats.blocks_in_use += 1;
        stats.bytes_used += size as u64;
        stats.bytes_reserved += size as u64;
        stats.bytes_reserved_peak = stats.bytes_reserved_peak.max(stats.bytes_reserved);
        block
    }

    #[inline]
    unsafe fn free(&mut self, ptr: NonNull<u8>, size: usize) {
        // SAFETY: the trait contract says `ptr` came from `self.alloc(size)`, which is
        // `self.backend.alloc(size)`, and is still live. Test: allocator::contents_survive.
        unsafe { self.backend.free(ptr, size) };
        let stats = &mut self.stats;
        stats.blocks_in_use -= 1;
        stats.bytes_used -= size as u64;
        stats.bytes_reserved -= size as u64;
    }

    fn stats(&self) -> AllocStats {
        self.stats.clone()
    }
}
