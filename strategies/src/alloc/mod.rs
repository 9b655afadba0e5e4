//! Memory for objects: the [`Allocator`] trait every strategy shares, and its implementations.
//!
//! ```text
//!   Heap (object model)
//!     |  alloc(size) / free(ptr, size)          -- sized: the object model always knows a block's size
//!     v
//!   BuiltAllocator: one `match` per call (no virtual call; every kind implements Allocator)
//!     +-- Pymalloc<POOL, ARENA>   size <= 512: arenas -> pools -> 16-byte size-class blocks
//!     |        |                  size >  512: passed through to the system backend
//!     +-- PerObjectMalloc         every block is its own system allocation (valgrind sees each one)
//!              |
//!              v
//!        SystemBackend::{Jemalloc, Libc}
//! ```
//!
//! Every implementation returns 16-byte aligned blocks, keeps [`AllocStats`] readable at any
//! moment, and aborts the process (via `handle_alloc_error`) when the system is out of memory,
//! exactly as a runtime would.

mod per_object;
mod pymalloc;
mod system;
mod valgrind;

pub use per_object::PerObjectMalloc;
pub use pymalloc::{ArenaGeometry, ArenaPolicy, Pymalloc, RESERVE_BYTES};
pub use system::SystemBackend;

use std::ptr::NonNull;

/// Every block is aligned to this many bytes; it is also the size-class granularity.
pub const ALIGNMENT: usize = 16;
/// Requests above this many bytes bypass the pools and go to the system backend.
pub const SMALL_REQUEST_THRESHOLD: usize = 512;
/// Number of small size classes: 16, 32, ..., 512 bytes.
pub const NUM_SIZE_CLASSES: usize = SMALL_REQUEST_THRESHOLD / ALIGNMENT;

/// The size class index (0 for 1..=16 bytes, 31 for 497..=512) of a small request.
pub const fn size_class_index(size: usize) -> usize {
    size.saturating_sub(1) / ALIGNMENT
}

/// The block size served by size class `index`.
pub const fn size_class_bytes(index: usize) -> usize {
    (index + 1) * ALIGNMENT
}

/// The one interface between the object model and memory.
///
/// Blocks are untyped bytes; the object model writes them before reading them.
pub trait Allocator {
    /// A short stable name, written into results (`pymalloc-4k`, `per-object`, ...).
    fn name(&self) -> String;

    /// Returns a block of at least `size` bytes, aligned to [`ALIGNMENT`]. `size` may be 0.
    fn alloc(&mut self, size: usize) -> NonNull<u8>;

    /// Returns a block to the allocator.
    ///
    /// # Safety
    /// `ptr` must have come from `self.alloc(size)` with this same `size`, and must not have
    /// been freed since. The caller must not touch the block afterwards.
    unsafe fn free(&mut self, ptr: NonNull<u8>, size: usize);

    /// A snapshot of the counters; cheap enough to call at every sample point.
    fn stats(&self) -> AllocStats;

    /// Gives back to the OS any memory mapped ahead of use and not yet touched (pymalloc's
    /// populated, uncarved pools), so that it is not resident, nor shared with a forked child.
    /// Called before forking; the allocator stays fully usable.
    fn release_untouched(&mut self) {}
}

/// Counters an allocator keeps up to date on every call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllocStats {
    /// Arenas obtained from the OS since the allocator was created.
    pub arenas_allocated: u64,
    /// Arenas given back to the OS since the allocator was created.
    pub arenas_freed: u64,
    /// Most arenas held at any one time.
    pub arenas_high_water: u64,
    /// Pools currently serving each size class (index = [`size_class_index`]).
    pub pools_in_use: [u64; NUM_SIZE_CLASSES],
    /// Blocks handed out and not yet freed, small and large alike.
    pub blocks_in_use: u64,
    /// Bytes in blocks handed out (small blocks at their size-class size, large at their request).
    pub bytes_used: u64,
    /// Bytes held from the system: whole arenas plus large blocks.
    pub bytes_reserved: u64,
    /// Highest `bytes_reserved` seen so far.
    pub bytes_reserved_peak: u64,
}

impl AllocStats {
    /// Arenas currently held.
    pub fn arenas_live(&self) -> u64 {
        self.arenas_allocated - self.arenas_freed
    }
}

/// Which allocator a heap is built on. Parsed from the command line (`--allocator`,
/// `--backend`) and written into results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocatorConfig {
    pub kind: AllocatorKind,
    pub backend: SystemBackend,
}

/// The allocator families; see the module diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocatorKind {
    Pymalloc(ArenaGeometry),
    PerObject,
}

impl AllocatorKind {
    /// Every kind, with the name the command line uses for it.
    pub const ALL: [(&'static str, AllocatorKind); 3] = [
        ("pymalloc", AllocatorKind::Pymalloc(ArenaGeometry::Modern)),
        ("pymalloc-classic", AllocatorKind::Pymalloc(ArenaGeometry::Classic)),
        ("per-object", AllocatorKind::PerObject),
    ];

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
    }

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, k)| *k == self).map(|(n, _)| *n).expect("every kind is listed")
    }
}

impl Default for AllocatorConfig {
    fn default() -> Self {
        AllocatorConfig { kind: AllocatorKind::Pymalloc(ArenaGeometry::Modern), backend: SystemBackend::Jemalloc }
    }
}

impl AllocatorConfig {
    /// Every combination of kind and backend; tests run the object model over all of them.
    pub fn all() -> Vec<AllocatorConfig> {
        let mut all = Vec::new();
        for (_, kind) in AllocatorKind::ALL {
            for backend in SystemBackend::ALL {
                all.push(AllocatorConfig { kind, backend });
            }
        }
        all
    }

    /// The allocator, with CPython's arena policy.
    pub fn build(self) -> BuiltAllocator {
        self.build_with(ArenaPolicy::ReleaseToOs)
    }

    /// The allocator, with arena policy `policy` (pymalloc kinds only; the per-object allocator
    /// has no arenas).
    pub fn build_with(self, policy: ArenaPolicy) -> BuiltAllocator {
        match self.kind {
            AllocatorKind::Pymalloc(ArenaGeometry::Classic) => {
                BuiltAllocator::Classic(Pymalloc::new(self.backend).with_arena_policy(policy))
            }
            AllocatorKind::Pymalloc(ArenaGeometry::Modern) => {
                BuiltAllocator::Modern(Pymalloc::new(self.backend).with_arena_policy(policy))
            }
            AllocatorKind::PerObject => BuiltAllocator::PerObject(PerObjectMalloc::new(self.backend)),
        }
    }
}

/// The allocator a heap is built on: one of the kinds, called through a `match` rather than a
/// virtual call, so the pools' fast paths inline into the heap's. Each kind still implements
/// [`Allocator`], the shared contract, and so does this.
pub enum BuiltAllocator {
    /// `pymalloc`: 16 KiB pools in 1 MiB arenas.
    Modern(Pymalloc<{ ArenaGeometry::Modern.pool_bytes() }, { ArenaGeometry::Modern.arena_bytes() }>),
    /// `pymalloc-classic`: 4 KiB pools in 256 KiB arenas.
    Classic(Pymalloc<{ ArenaGeometry::Classic.pool_bytes() }, { ArenaGeometry::Classic.arena_bytes() }>),
    /// `per-object`.
    PerObject(PerObjectMalloc),
}

impl Allocator for BuiltAllocator {
    fn name(&self) -> String {
        match self {
            BuiltAllocator::Modern(a) => a.name(),
            BuiltAllocator::Classic(a) => a.name(),
            BuiltAllocator::PerObject(a) => a.name(),
        }
    }

    #[inline(always)]
    fn alloc(&mut self, size: usize) -> NonNull<u8> {
        match self {
            BuiltAllocator::Modern(a) => a.alloc(size),
            BuiltAllocator::Classic(a) => a.alloc(size),
            BuiltAllocator::PerObject(a) => a.alloc(size),
        }
    }

    #[inline(always)]
    unsafe fn free(&mut self, ptr: NonNull<u8>, size: usize) {
        // SAFETY: the trait contract, forwarded to the kind that made the block (a value of
        // this enum never changes kind). Test: allocator::contents_survive.
        unsafe {
            match self {
                BuiltAllocator::Modern(a) => a.free(ptr, size),
                BuiltAllocator::Classic(a) => a.free(ptr, size),
                BuiltAllocator::PerObject(a) => a.free(ptr, size),
            }
        }
    }

    fn stats(&self) -> AllocStats {
        match self {
            BuiltAllocator::Modern(a) => a.stats(),
            BuiltAllocator::Classic(a) => a.stats(),
            BuiltAllocator::PerObject(a) => a.stats(),
        }
    }

    fn release_untouched(&mut self) {
        match self {
            BuiltAllocator::Modern(a) => a.release_untouched(),
            BuiltAllocator::Classic(a) => a.release_untouched(),
            BuiltAllocator::PerObject(a) => a.release_untouched(),
        }
    }
}
