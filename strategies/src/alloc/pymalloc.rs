//! A pymalloc-style small-object allocator, modelled on CPython's `Objects/obmalloc.c`.
//!
//! Small requests (at most [`SMALL_REQUEST_THRESHOLD`] = 512 bytes) are rounded up to one of
//! [`NUM_SIZE_CLASSES`] size classes of 16 bytes each and served from *pools*, which live
//! inside *arenas*. Larger requests go straight to the [`SystemBackend`].
//!
//! ```text
//!  arena: ARENA bytes from one mmap (1 MiB modern, 256 KiB classic), split into POOL-sized pools
//!  +---------+------------+------------+------------+-----+------------+
//!  | skipped |   pool 0   |   pool 1   |   pool 2   | ... |  pool n-1  |
//!  | (only if|  class 2   |  class 0   |   empty,   |     | not carved |
//!  | mmap is |   (used)   |   (full)   | on arena's |     |  yet       |
//!  | not POOL|            |            | freepools  |     |            |
//!  | aligned)|            |            |            |     |            |
//!  +---------+------------+------------+------------+-----+------------+
//!  ^ address ^ first pool, POOL-aligned                     ^ pool_address: next pool to carve
//!
//!  pool: POOL bytes (16 KiB modern, 4 KiB classic), blocks of one size class (here 48 bytes)
//!  +--------+-------+-------+-------+-------+-------+-------+------------------------+
//!  | header | block | block | block | block | block | block |   never handed out     |
//!  |        | used  | free  | used  | free  | used  | free  |   (carved lazily)      |
//!  +--------+-------+---|---+-------+--^-|--+-------+--^-|--+------------------------+
//!     | freeblock ------|--------------|-|-------------+ |   ^ nextoffset: next block to carve
//!     |                 +--------------+ +-> null <--+   |
//!     |               (each free block's first word links to the next free block)
//!     +-- ref_count, size_idx, next_pool/prev_pool, arena_index, nextoffset, maxnextoffset
//! ```
//!
//! # Pools
//!
//! A pool serves one size class at a time and is in one of three states (obmalloc.c's names):
//!
//! - **used**: some blocks are handed out and at least one is ready to hand out. The pool is on
//!   the doubly linked list `used_pools[class]`. The allocation fast path takes a block from the
//!   first pool of that list.
//! - **full**: every block is handed out. The pool is on no list; freeing one of its blocks
//!   links it back to the *front* of `used_pools[class]`, so the next allocations fill it again
//!   (this keeps few pools partially filled).
//! - **empty**: no block is handed out. The pool is on its arena's singly linked `freepools`
//!   list and may be reused for any size class. It keeps its header and free list, so reuse for
//!   the same class is as cheap as CPython's "luckily, this pool last contained blocks of the
//!   same size class" case.
//!
//! Pools beyond an arena's `pool_address` have never been carved: they are free too, counted in
//! `nfreepools`, and cost no work. Unlike obmalloc.c's, our arenas are mapped with
//! `MAP_POPULATE`, so their pages are resident from the start: one system call instead of a
//! trap per 4 KiB page, which made `trees` (whose deep trees map and unmap arenas again and
//! again) markedly faster. Pools are carved front to back and a new arena is mapped only when no
//! arena has a free pool, so at most one arena holds uncarved pools: RSS runs at most one arena
//! above obmalloc.c's. Before a fork [`Allocator::release_untouched`] gives those pages back, so
//! that forked workers share and unshare the pages obmalloc.c's would.
//!
//! Blocks in a pool are handed out lazily: a fresh pool puts only its first block on the free
//! list; `nextoffset` bumps through the rest one block at a time, and only when the free list
//! runs dry. Freed blocks go on the front of the free list (LIFO), the link living in the freed
//! block's first word. So a pool touches only the memory it has actually needed.
//!
//! # Arenas
//!
//! `usable_arenas` lists the arenas that have at least one free (empty or uncarved) pool,
//! sorted by `nfreepools` ascending: **fullest first**. New pools are taken from the head, so
//! allocation concentrates in the busiest arenas and the nearly empty ones get a chance to
//! drain completely and go back to the OS. Keeping the order costs O(1) per pool freed with
//! CPython's `nfp2lasta` trick: `nfp2lasta[n]` is the *last* arena on the list with exactly
//! `n` free pools. When an arena gains a free pool (n -> n+1) it only has to move to just after
//! `nfp2lasta[n]` (everything after that point has more than n free pools already). Taking a
//! pool from the head (n -> n-1) never breaks the order, because the head has the fewest.
//!
//! A wholly free arena is unmapped, except that **one wholly free arena is kept back**: a loop
//! that allocates and frees one object at an arena boundary would otherwise mmap and munmap an
//! arena on every iteration (CPython bpo-37257, 3.9+). Unlike obmalloc.c, which keeps the free
//! arena only if it is last on the list, we count the wholly free arenas we hold: that gives
//! the same behaviour and stays exact when arenas have different pool counts (an arena whose
//! mmap was not POOL-aligned skips its partial first pool, as in obmalloc.c, and so has one
//! pool fewer).
//!
//! That is the default [`ArenaPolicy::ReleaseToOs`]. Under [`ArenaPolicy::Retain`] (what `nogc`
//! gets) arenas are carved from larger reservations and no arena is unmapped before the
//! allocator is dropped: its heap only grows.
//!
//! # Key invariants
//!
//! - A pool is on `used_pools[c]` if and only if it serves class `c`, `ref_count > 0`, and its
//!   `freeblock` is not null. So a full pool has a null `freeblock`, and the fast path never
//!   needs to check that the first used pool has a block.
//! - Every block of a pool starts at `pool + POOL_OVERHEAD + k * class_size`, and the pool
//!   header is found from any block by rounding its address down to `POOL` (pools are POOL
//!   aligned). The allocator is sized (`free` gets the size), so unlike obmalloc.c we never need
//!   `address_in_range`: the size says whether a block is small.
//! - An arena is on `usable_arenas` if and only if `nfreepools > 0`; the list is sorted by
//!   `nfreepools` ascending, and `nfp2lasta[n]` is its last arena with `nfreepools == n`.
//! - At most one wholly free arena is held (`wholly_free_arenas <= 1`) under
//!   [`ArenaPolicy::ReleaseToOs`]; [`ArenaPolicy::Retain`] keeps them all mapped.
//! - The counters in [`AllocStats`] are updated on every call, never by walking.
//!   [`Pymalloc::check_invariants`] walks everything and checks all of the above; the tests
//!   call it after every step.
//!
//! # Valgrind
//!
//! When running under valgrind (asked once, in `new`), freed and never-carved blocks are marked
//! no-access, so that memcheck reports a use-after-free of a pymalloc block; see `valgrind.rs`.

use std::ptr::{self, NonNull};

use super::system::out_of_memory;
use super::valgrind;
use super::{
    ALIGNMENT, AllocStats, Allocator, NUM_SIZE_CLASSES, SMALL_REQUEST_THRESHOLD, SystemBackend, size_class_bytes,
    size_class_index,
};

/// The two pool/arena geometries the harness compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArenaGeometry {
    /// 4 KiB pools in 256 KiB arenas (CPython up to 3.9).
    Classic,
    /// 16 KiB pools in 1 MiB arenas (CPython 3.10 and later).
    Modern,
}

impl ArenaGeometry {
    /// Both geometries.
    pub const ALL: [ArenaGeometry; 2] = [ArenaGeometry::Classic, ArenaGeometry::Modern];

    /// Bytes per pool: the `POOL` parameter of the matching [`Pymalloc`].
    pub const fn pool_bytes(self) -> usize {
        match self {
            ArenaGeometry::Classic => 4 << 10,
            ArenaGeometry::Modern => 16 << 10,
        }
    }

    /// Bytes per arena: the `ARENA` parameter of the matching [`Pymalloc`].
    pub const fn arena_bytes(self) -> usize {
        match self {
            ArenaGeometry::Classic => 256 << 10,
            ArenaGeometry::Modern => 1 << 20,
        }
    }
}

/// What happens to an arena once every block in it is free, and where arenas come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ArenaPolicy {
    /// CPython's behaviour: each arena is its own `mmap`; a wholly free arena is unmapped,
    /// except that one is kept back. Memory goes back to the OS as soon as it can, so a program
    /// that builds and drops deep trees maps the same arenas again and again (each faulted in
    /// by one `MAP_POPULATE` call, not page by page).
    #[default]
    ReleaseToOs,
    /// Arenas are carved from [`RESERVE_BYTES`] reservations, each mapped and faulted in at
    /// once, and never unmapped before the allocator is dropped: a freed arena stays mapped for
    /// reuse. For strategies that never return blocks (`nogc`), whose heap only grows; it
    /// changes the CPython-like RSS behaviour (up to one reservation resident ahead of use,
    /// nothing given back), so it is never the default. Transparent huge pages
    /// (`MADV_HUGEPAGE`) were tried and dropped: under load their faults and compaction made
    /// `nogc` on `trees` 2.5x slower.
    Retain,
}

impl ArenaPolicy {
    /// The policy for a strategy: [`ArenaPolicy::Retain`] when it never returns blocks (`nogc`),
    /// else CPython's.
    pub const fn for_strategy(returns_blocks: bool) -> Self {
        if returns_blocks { ArenaPolicy::ReleaseToOs } else { ArenaPolicy::Retain }
    }
}

/// Bytes reserved at once under [`ArenaPolicy::Retain`] (rounded up to whole arenas).
pub const RESERVE_BYTES: usize = 8 << 20;

/// One `mmap` under [`ArenaPolicy::Retain`], carved into arenas front to back.
struct Reservation {
    /// Start of the mapping (aligned to `POOL`).
    base: usize,
    /// Length of the mapping in bytes (whole arenas).
    len: usize,
    /// Next byte not yet given to an arena.
    next: usize,
}

/// What [`Pymalloc::check_invariants`] counts while it walks, to compare with the counters.
#[derive(Default)]
struct Tally {
    live_arenas: u64,
    wholly_free: u32,
    pools_per_class: [u64; NUM_SIZE_CLASSES],
    pools_with_free_block: [u64; NUM_SIZE_CLASSES],
    small_blocks: u64,
    small_bytes: u64,
}

/// The header at the start of every carved pool (obmalloc.c's `pool_header`).
#[repr(C)]
struct PoolHeader {
    /// Blocks of this pool handed out and not yet freed.
    ref_count: u32,
    /// Size class index of the blocks; [`NO_CLASS`] for a pool never used yet.
    size_idx: u32,
    /// First free block, or null when the pool is full. Each free block's first word holds the
    /// next free block.
    freeblock: *mut u8,
    /// Used pools: the next pool of `used_pools[size_idx]` (null at the end).
    /// Empty pools: the next pool of the arena's `freepools` list.
    next_pool: *mut PoolHeader,
    /// Used pools: the previous pool of `used_pools[size_idx]` (null at the front).
    prev_pool: *mut PoolHeader,
    /// Index of the owning arena in `Pymalloc::arenas`.
    arena_index: u32,
    /// Offset of the next block never handed out (the bump pointer).
    next_offset: u32,
    /// Largest `next_offset` at which a whole block still fits.
    max_next_offset: u32,
}

/// Bytes taken by the pool header, rounded up so that the first block is 16-byte aligned.
const POOL_OVERHEAD: usize = std::mem::size_of::<PoolHeader>().next_multiple_of(ALIGNMENT);

/// `size_idx` of a pool carved but never given a size class.
const NO_CLASS: u32 = u32::MAX;

/// Bytes of a free block used for its free-list link.
const LINK_BYTES: usize = std::mem::size_of::<*mut u8>();

/// The system page size assumed for alignment (mmap's granule on x86-64 and most aarch64).
const PAGE: usize = 4096;

/// "No arena" in the index-linked `usable_arenas` list and in `nfp2lasta`.
const NO_ARENA: u32 = u32::MAX;

/// Bookkeeping for one arena (obmalloc.c's `arena_object`). Lives in `Pymalloc::arenas`,
/// outside the arena itself, so that an unmapped arena leaves a reusable slot.
struct ArenaObject {
    /// Start of the mapping, or 0 when this slot holds no arena.
    address: usize,
    /// The next pool never carved; pools from here to the end of the arena are free.
    pool_address: usize,
    /// Free pools: empty ones on `freepools` plus those not carved yet.
    nfreepools: u32,
    /// Pools the arena holds: `ARENA / POOL`, one fewer if the mapping was not POOL-aligned.
    ntotalpools: u32,
    /// Singly linked list (through `next_pool`) of empty pools.
    freepools: *mut PoolHeader,
    /// Neighbours on `usable_arenas`, [`NO_ARENA`] at the ends or when not on the list.
    next: u32,
    prev: u32,
}

/// Where an arena is and how full: a snapshot for tests and reports (see [`Pymalloc::arenas`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArenaInfo {
    /// Address of the first byte of the mapping; the arena covers `base..base + ARENA`.
    pub base: usize,
    /// Pools the arena holds.
    pub total_pools: usize,
    /// Pools that are empty or not carved yet.
    pub free_pools: usize,
}

impl ArenaInfo {
    /// Whether `addr` lies inside this arena of `arena_bytes` bytes.
    pub fn contains(&self, addr: usize, arena_bytes: usize) -> bool {
        (self.base..self.base + arena_bytes).contains(&addr)
    }
}

/// The pymalloc-style allocator: `POOL`-byte pools in `ARENA`-byte arenas.
///
/// The geometry is checked at compile time, when `new` is instantiated:
///
/// ```compile_fail
/// use strategies::alloc::{Pymalloc, SystemBackend};
/// // 3000 is not a power of two.
/// let _ = Pymalloc::<3000, { 1 << 20 }>::new(SystemBackend::Libc);
/// ```
///
/// The fields the fast paths touch come first, in declaration order (`repr(C)`): the two
/// counters they update, the valgrind flag and the first used pools share one cache line.
/// The two counters are deliberately *not* adjacent: LLVM otherwise merges the allocation
/// path's two increments into one 16-byte load and store, and that load cannot be forwarded
/// from the free path's two 8-byte stores just before it; the stall cost about 4 ns per
/// alloc + free pair in `benches/alloc.rs`.
#[repr(C)]
pub struct Pymalloc<const POOL: usize, const ARENA: usize> {
    /// [`AllocStats::blocks_in_use`], kept here next to the other hot fields.
    blocks_in_use: u64,
    /// Whether to issue valgrind client requests (running under valgrind, or forced by a test).
    valgrind: bool,
    /// Where requests above [`SMALL_REQUEST_THRESHOLD`] go.
    backend: SystemBackend,
    /// [`AllocStats::bytes_used`], likewise (not next to `blocks_in_use`: see above).
    bytes_used: u64,
    /// `used_pools[c]`: the first pool of class `c` in the *used* state, or null.
    used_pools: [*mut PoolHeader; NUM_SIZE_CLASSES],
    /// The other counters, touched only on slow paths (its `blocks_in_use` and `bytes_used`
    /// stay 0: the fields above hold them).
    stats: AllocStats,
    /// Arena slots, indexed by `PoolHeader::arena_index`.
    arenas: Vec<ArenaObject>,
    /// Slots of `arenas` whose arena was unmapped, ready for reuse.
    unused_arena_slots: Vec<u32>,
    /// Head of the list of arenas with a free pool, fullest first.
    usable_arenas: u32,
    /// `nfp2lasta[n]`: the last arena on `usable_arenas` with `n` free pools, or [`NO_ARENA`].
    nfp2lasta: Box<[u32]>,
    /// Wholly free arenas held (on `usable_arenas` with `nfreepools == ntotalpools`); 0 or 1
    /// under [`ArenaPolicy::ReleaseToOs`].
    wholly_free_arenas: u32,
    /// What a wholly free arena becomes, and where new arenas come from.
    policy: ArenaPolicy,
    /// Under [`ArenaPolicy::Retain`]: every reservation made, the last one being carved.
    reservations: Vec<Reservation>,
}

// SAFETY: a `Pymalloc` exclusively owns every arena and pool its raw pointers reach, and keeps
// no thread-local or shared state, so moving it to another thread moves that ownership with it
// (it is not `Sync`: every method that touches memory takes `&mut self`).
// Test: allocator::pymalloc_moves_between_threads.
unsafe impl<const POOL: usize, const ARENA: usize> Send for Pymalloc<POOL, ARENA> {}

impl<const POOL: usize, const ARENA: usize> Pymalloc<POOL, ARENA> {
    /// The tunables' invariants, checked at compile time by `new` (obmalloc.c checks the same
    /// with `#error`).
    const GEOMETRY_IS_VALID: () = {
        assert!(POOL.is_power_of_two(), "POOL must be a power of two (pools are found by masking)");
        assert!(ARENA.is_multiple_of(POOL), "ARENA must be a multiple of POOL");
        assert!(
            ARENA / POOL >= 2,
            "ARENA must hold at least two pools, so that one remains when mmap is not POOL-aligned"
        );
        assert!(
            POOL >= POOL_OVERHEAD + SMALL_REQUEST_THRESHOLD,
            "POOL must hold the pool header and at least one block of the largest size class"
        );
        assert!(POOL <= 1 << 31, "pool offsets are stored as u32");
        assert!(ARENA / POOL < NO_ARENA as usize, "pool counts are stored as u32");
        assert!(POOL_OVERHEAD.is_multiple_of(ALIGNMENT), "the first block of a pool must be aligned");
    };

    /// Pools in a POOL-aligned arena.
    const POOLS_PER_ARENA: usize = ARENA / POOL;

    /// An allocator holding no arena yet; requests above 512 bytes go to `backend`.
    pub fn new(backend: SystemBackend) -> Self {
        Self::with_valgrind_requests(backend, valgrind::running_on_valgrind() != 0)
    }

    /// Like [`Pymalloc::new`], but issues valgrind client requests if and only if `on`. Natively
    /// the requests do nothing; tests force them on to run those code paths everywhere.
    pub fn with_valgrind_requests(backend: SystemBackend, on: bool) -> Self {
        #[allow(clippy::let_unit_value)] // evaluating the constant is the compile-time check
        let () = Self::GEOMETRY_IS_VALID;
        Pymalloc {
            blocks_in_use: 0,
            bytes_used: 0,
            valgrind: on,
            backend,
            used_pools: [ptr::null_mut(); NUM_SIZE_CLASSES],
            stats: AllocStats::default(),
            arenas: Vec::new(),
            unused_arena_slots: Vec::new(),
            usable_arenas: NO_ARENA,
            nfp2lasta: vec![NO_ARENA; Self::POOLS_PER_ARENA + 1].into_boxed_slice(),
            wholly_free_arenas: 0,
            policy: ArenaPolicy::ReleaseToOs,
            reservations: Vec::new(),
        }
    }

    /// This allocator with arena policy `policy`. Must be called before the first allocation.
    pub fn with_arena_policy(mut self, policy: ArenaPolicy) -> Self {
        assert!(self.arenas.is_empty(), "the arena policy is chosen before any arena is mapped");
        self.policy = policy;
        self
    }

    /// The arena policy in force.
    pub fn arena_policy(&self) -> ArenaPolicy {
        self.policy
    }

    /// The system backend serving requests above 512 bytes.
    pub fn backend(&self) -> SystemBackend {
        self.backend
    }

    // ---------------------------------------------------------------------------------------
    // Fast paths
    // ---------------------------------------------------------------------------------------

    // The fast paths take a `const VG: bool`: `VG = false` is the plain path every call takes
    // natively; under valgrind the one `if self.valgrind` at the entry sends the call to an
    // out-of-line copy built with `VG = true`, which issues the client requests. So the
    // requests cost the native fast path one predictable branch, and no stack frame.

    /// Allocation fast path: the first used pool of the class gives its first free block.
    #[inline]
    fn alloc_small(&mut self, class: usize) -> NonNull<u8> {
        if self.valgrind {
            return self.alloc_small_annotated(class);
        }
        self.alloc_small_with::<false>(class)
    }

    /// [`Self::alloc_small`] with the valgrind client requests.
    #[cold]
    #[inline(never)]
    fn alloc_small_annotated(&mut self, class: usize) -> NonNull<u8> {
        self.alloc_small_with::<true>(class)
    }

    #[inline(always)]
    fn alloc_small_with<const VG: bool>(&mut self, class: usize) -> NonNull<u8> {
        let pool = self.used_pools[class];
        if pool.is_null() {
            return self.alloc_from_new_pool(class);
        }
        // SAFETY: a non-null `used_pools[class]` is a live pool header of this class on the used
        // list, whose `freeblock` is a free block of it (invariant, checked by
        // `check_invariants`). Test: allocator::blocks_never_overlap.
        unsafe { self.take_block::<VG>(pool, class) }
    }

    /// Pops the first free block of `pool`, a pool on `used_pools[class]`, and hands it out.
    ///
    /// # Safety
    /// `pool` must be a live pool on `used_pools[class]` (so its `freeblock` is not null).
    #[inline(always)]
    unsafe fn take_block<const VG: bool>(&mut self, pool: *mut PoolHeader, class: usize) -> NonNull<u8> {
        // SAFETY: per this function's contract `pool` is a live header on the used list; its
        // `freeblock` is a free block of the pool whose first word is the free-list link (made
        // readable for valgrind first). Test: allocator::blocks_never_overlap.
        unsafe {
            let block = (*pool).freeblock;
            debug_assert!(!block.is_null(), "a used pool always has a free block");
            if VG {
                valgrind::make_mem_defined(block, LINK_BYTES);
            }
            let next = block.cast::<*mut u8>().read();
            (*pool).freeblock = next;
            (*pool).ref_count += 1;
            if next.is_null() {
                self.extend_or_retire::<VG>(pool, class);
            }
            if VG {
                valgrind::make_mem_undefined(block, size_class_bytes(class));
            }
            self.blocks_in_use += 1;
            self.bytes_used += size_class_bytes(class) as u64;
            NonNull::new_unchecked(block)
        }
    }

    /// The free list of `pool` just ran dry: carve the next never-used block onto it, or, when
    /// the pool has none left, take the now full pool off `used_pools[class]`.
    ///
    /// # Safety
    /// `pool` must be a live pool on `used_pools[class]` whose `freeblock` is null.
    #[inline(always)]
    unsafe fn extend_or_retire<const VG: bool>(&mut self, pool: *mut PoolHeader, class: usize) {
        // SAFETY: `pool` is a live header (contract). `next_offset <= max_next_offset` means a
        // whole block at `pool + next_offset` lies inside the pool and was never handed out, so
        // writing its link touches only free memory. Test: allocator::blocks_never_overlap.
        unsafe {
            let offset = (*pool).next_offset;
            if offset <= (*pool).max_next_offset {
                let block = pool.cast::<u8>().add(offset as usize);
                (*pool).next_offset = offset + size_class_bytes(class) as u32;
                Self::push_link::<VG>(block, ptr::null_mut(), size_class_bytes(class));
                (*pool).freeblock = block;
            } else {
                self.unlink_used(pool, class);
            }
        }
    }

    /// Deallocation fast path: push the block on its pool's free list.
    ///
    /// # Safety
    /// `block` must be a live block handed out by `alloc_small(class)`.
    #[inline]
    unsafe fn free_small(&mut self, block: NonNull<u8>, class: usize) {
        if self.valgrind {
            // SAFETY: forwarded contract. Test: allocator::valgrind_requests_are_harmless.
            return unsafe { self.free_small_annotated(block, class) };
        }
        // SAFETY: forwarded contract. Test: allocator::contents_survive.
        unsafe { self.free_small_with::<false>(block, class) }
    }

    /// [`Self::free_small`] with the valgrind client requests.
    ///
    /// # Safety
    /// As for [`Self::free_small`].
    #[cold]
    #[inline(never)]
    unsafe fn free_small_annotated(&mut self, block: NonNull<u8>, class: usize) {
        // SAFETY: forwarded contract. Test: allocator::valgrind_requests_are_harmless.
        unsafe { self.free_small_with::<true>(block, class) }
    }

    /// # Safety
    /// As for [`Self::free_small`].
    #[inline(always)]
    unsafe fn free_small_with<const VG: bool>(&mut self, block: NonNull<u8>, class: usize) {
        let block = block.as_ptr();
        let pool = (block as usize & !(POOL - 1)) as *mut PoolHeader;
        // SAFETY: `block` is a live small block (contract), so it lies in a carved pool of a
        // live arena and its pool header is at the POOL-aligned address below it. Writing the
        // link into the block is fine: the caller gave it back. Test: allocator::contents_survive.
        unsafe {
            debug_assert_eq!((*pool).size_idx as usize, class, "freed with a different size");
            debug_assert!((*pool).ref_count > 0);
            let was_full = (*pool).freeblock.is_null();
            Self::push_link::<VG>(block, (*pool).freeblock, size_class_bytes(class));
            (*pool).freeblock = block;
            (*pool).ref_count -= 1;
            self.blocks_in_use -= 1;
            self.bytes_used -= size_class_bytes(class) as u64;
            if (*pool).ref_count == 0 {
                self.return_pool_to_arena(pool, class, !was_full);
            } else if was_full {
                self.link_used_front(pool, class);
            }
        }
    }

    /// Writes a free-list link into the first word of a free block of `size` bytes, then, under
    /// valgrind, marks the whole block no-access: nobody may touch a free block.
    ///
    /// # Safety
    /// `block` must be a free (or just freed) block of `size` bytes in a live pool.
    #[inline(always)]
    unsafe fn push_link<const VG: bool>(block: *mut u8, next: *mut u8, size: usize) {
        if VG {
            valgrind::make_mem_undefined(block, LINK_BYTES);
        }
        // SAFETY: per the contract `block` is at least 16 bytes of a live pool that nobody else
        // uses, 16-byte aligned, so a pointer fits and is aligned. Test: allocator::contents_survive.
        unsafe { block.cast::<*mut u8>().write(next) };
        if VG {
            valgrind::make_mem_noaccess(block, size);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Used-pool lists
    // ---------------------------------------------------------------------------------------

    /// Links `pool` at the front of `used_pools[class]`.
    ///
    /// # Safety
    /// `pool` must be a live pool of this class on no list.
    #[inline]
    unsafe fn link_used_front(&mut self, pool: *mut PoolHeader, class: usize) {
        let head = self.used_pools[class];
        // SAFETY: `pool` is live (contract) and `head`, when not null, is a live pool on the
        // list. Test: allocator::stats_match_model (checks the lists after every step).
        unsafe {
            (*pool).prev_pool = ptr::null_mut();
            (*pool).next_pool = head;
            if !head.is_null() {
                (*head).prev_pool = pool;
            }
        }
        self.used_pools[class] = pool;
    }

    /// Takes `pool` off `used_pools[class]`.
    ///
    /// # Safety
    /// `pool` must be a live pool on `used_pools[class]`.
    #[inline]
    unsafe fn unlink_used(&mut self, pool: *mut PoolHeader, class: usize) {
        // SAFETY: `pool` and its list neighbours are live pools on the list (contract and list
        // invariant). Test: allocator::stats_match_model.
        unsafe {
            let next = (*pool).next_pool;
            let prev = (*pool).prev_pool;
            if prev.is_null() {
                self.used_pools[class] = next;
            } else {
                (*prev).next_pool = next;
            }
            if !next.is_null() {
                (*next).prev_pool = prev;
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Slow paths: pools in and out of arenas
    // ---------------------------------------------------------------------------------------

    /// No used pool has a block of this class: take a free pool from the fullest usable arena
    /// (mapping a new arena if none has one), set it up for `class`, and take its first block.
    #[inline(never)]
    fn alloc_from_new_pool(&mut self, class: usize) -> NonNull<u8> {
        if self.usable_arenas == NO_ARENA {
            self.new_arena();
        }
        let pool = self.take_pool_from_head_arena();
        // SAFETY: `take_pool_from_head_arena` returns a live pool in the empty state, whose
        // header is writable; `init_pool` leaves it used with a free block, as `take_block`
        // requires. Test: allocator::blocks_never_overlap.
        unsafe {
            self.init_pool(pool, class);
            self.link_used_front(pool, class);
            self.stats.pools_in_use[class] += 1;
            if self.valgrind { self.take_block::<true>(pool, class) } else { self.take_block::<false>(pool, class) }
        }
    }

    /// Prepares an empty pool for `class`: keeps its free list when it last served the same
    /// class, else resets it to hold one carved block.
    ///
    /// # Safety
    /// `pool` must be a live pool in the empty state (on no list).
    unsafe fn init_pool(&mut self, pool: *mut PoolHeader, class: usize) {
        // SAFETY: `pool` is a live, carved pool header (contract); the first block at
        // `pool + POOL_OVERHEAD` lies inside it because POOL >= POOL_OVERHEAD + 512 (checked at
        // compile time). Test: allocator::pools_are_reused_across_classes.
        unsafe {
            (*pool).ref_count = 0;
            if (*pool).size_idx == class as u32 && !(*pool).freeblock.is_null() {
                return; // every block it carved is free and on its list already
            }
            let size = size_class_bytes(class);
            (*pool).size_idx = class as u32;
            (*pool).next_offset = (POOL_OVERHEAD + size) as u32;
            (*pool).max_next_offset = (POOL - size) as u32;
            let first = pool.cast::<u8>().add(POOL_OVERHEAD);
            if self.valgrind {
                Self::push_link::<true>(first, ptr::null_mut(), size);
            } else {
                Self::push_link::<false>(first, ptr::null_mut(), size);
            }
            (*pool).freeblock = first;
        }
    }

    /// `pool`'s last block was freed: move the pool from the used list (if `on_used_list`) to its
    /// arena's free pools, re-sort the arena on `usable_arenas`, and unmap the arena if it is
    /// now wholly free and another wholly free arena is already kept.
    ///
    /// # Safety
    /// `pool` must be a live pool of `class` with `ref_count == 0`, on `used_pools[class]` if and
    /// only if `on_used_list`.
    #[inline(never)]
    unsafe fn return_pool_to_arena(&mut self, pool: *mut PoolHeader, class: usize, on_used_list: bool) {
        // SAFETY: `pool` is live (contract); its `arena_index` names the live arena holding it.
        // Test: allocator::empty_arenas_go_back_to_the_os.
        let index = unsafe {
            if on_used_list {
                self.unlink_used(pool, class);
            }
            let index = (*pool).arena_index;
            let arena = &mut self.arenas[index as usize];
            (*pool).next_pool = arena.freepools;
            (*pool).prev_pool = ptr::null_mut();
            arena.freepools = pool;
            index
        };
        self.stats.pools_in_use[class] -= 1;
        self.arena_gained_free_pool(index);
        let arena = &self.arenas[index as usize];
        if arena.nfreepools == arena.ntotalpools {
            if self.wholly_free_arenas >= 1 && self.policy == ArenaPolicy::ReleaseToOs {
                self.unlink_arena(index);
                self.release_arena(index);
            } else {
                self.wholly_free_arenas += 1;
            }
        }
    }

    /// Takes one free pool from the head of `usable_arenas` (the fullest arena that has one):
    /// an empty pool if it has any, else the next uncarved one.
    fn take_pool_from_head_arena(&mut self) -> *mut PoolHeader {
        let index = self.usable_arenas;
        debug_assert_ne!(index, NO_ARENA);
        let arena = &mut self.arenas[index as usize];
        let nf = arena.nfreepools;
        if nf == arena.ntotalpools {
            self.wholly_free_arenas -= 1;
        }
        // The head has the fewest free pools, so after the decrement it still sorts first:
        // only nfp2lasta changes. It was the last arena with `nf` only if it was the only one.
        if self.nfp2lasta[nf as usize] == index {
            self.nfp2lasta[nf as usize] = NO_ARENA;
        }
        if nf > 1 {
            debug_assert_eq!(self.nfp2lasta[nf as usize - 1], NO_ARENA);
            self.nfp2lasta[nf as usize - 1] = index;
        }
        let arena = &mut self.arenas[index as usize];
        arena.nfreepools -= 1;
        let pool = if !arena.freepools.is_null() {
            let pool = arena.freepools;
            // SAFETY: pools on an arena's `freepools` list are live empty pool headers.
            // Test: allocator::pools_are_reused_across_classes.
            arena.freepools = unsafe { (*pool).next_pool };
            pool
        } else {
            let pool = arena.pool_address as *mut PoolHeader;
            debug_assert!(arena.pool_address + POOL <= arena.address + ARENA);
            arena.pool_address += POOL;
            if self.valgrind {
                valgrind::make_mem_undefined(pool.cast(), POOL_OVERHEAD);
            }
            // SAFETY: `nfreepools > 0` with no empty pool means `pool_address` is an uncarved,
            // POOL-aligned pool inside the mapping; nothing else uses it yet.
            // Test: allocator::empty_arenas_go_back_to_the_os (fills several arenas).
            unsafe {
                pool.write(PoolHeader {
                    ref_count: 0,
                    size_idx: NO_CLASS,
                    freeblock: ptr::null_mut(),
                    next_pool: ptr::null_mut(),
                    prev_pool: ptr::null_mut(),
                    arena_index: index,
                    next_offset: 0,
                    max_next_offset: 0,
                });
            }
            pool
        };
        if arena.nfreepools == 0 {
            self.unlink_arena(index);
        }
        pool
    }

    // ---------------------------------------------------------------------------------------
    // Arenas: the fullest-first list and the OS
    // ---------------------------------------------------------------------------------------

    /// Maps a new arena and puts it on `usable_arenas`, which must be empty.
    fn new_arena(&mut self) {
        debug_assert_eq!(self.usable_arenas, NO_ARENA);
        let address = match self.policy {
            ArenaPolicy::ReleaseToOs => Self::map(ARENA, false),
            ArenaPolicy::Retain => self.carve_reserved_arena(),
        };
        if self.valgrind {
            valgrind::make_mem_noaccess(address as *mut u8, ARENA);
        }
        // mmap gives page alignment only; when POOL is larger than a page, skip the partial
        // first pool, as obmalloc.c does.
        let first_pool = address.next_multiple_of(POOL);
        let ntotal = (Self::POOLS_PER_ARENA - usize::from(first_pool != address)) as u32;
        let arena = ArenaObject {
            address,
            pool_address: first_pool,
            nfreepools: ntotal,
            ntotalpools: ntotal,
            freepools: ptr::null_mut(),
            next: NO_ARENA,
            prev: NO_ARENA,
        };
        let index = match self.unused_arena_slots.pop() {
            Some(slot) => {
                self.arenas[slot as usize] = arena;
                slot
            }
            None => {
                self.arenas.push(arena);
                (self.arenas.len() - 1) as u32
            }
        };
        self.usable_arenas = index;
        self.nfp2lasta[ntotal as usize] = index;
        self.wholly_free_arenas += 1;

        let stats = &mut self.stats;
        stats.arenas_allocated += 1;
        stats.arenas_high_water = stats.arenas_high_water.max(stats.arenas_live());
        stats.bytes_reserved += ARENA as u64;
        stats.bytes_reserved_peak = stats.bytes_reserved_peak.max(stats.bytes_reserved);
    }

    /// Maps `len` fresh bytes, faulted in at once (`MAP_POPULATE`: one system call instead of a
    /// trap per 4 KiB page; an arena's pages are all written soon anyway, pools being carved
    /// front to back), and with `reserve` POOL-aligned. Aborts when the system is out of memory.
    fn map(len: usize, reserve: bool) -> usize {
        let align = if reserve && POOL > PAGE { POOL } else { 0 };
        let padded = len + align;
        // SAFETY: an anonymous private mapping with no address hint has no preconditions; the
        // result is checked against MAP_FAILED. Test: allocator::empty_arenas_go_back_to_the_os.
        let raw = unsafe {
            libc::mmap(
                ptr::null_mut(),
                padded,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            out_of_memory(padded);
        }
        let raw = raw as usize;
        if align == 0 {
            return raw;
        }
        let base = raw.next_multiple_of(align);
        let (head, tail) = (base - raw, raw + padded - (base + len));
        // SAFETY: both ranges lie inside the mapping just made, outside `base..base + len` (all that
        // is used), unreferenced, and page multiples (`align`, `len` and mmap's result are).
        // Test: allocator::retained_arenas_stay_mapped.
        unsafe {
            if head > 0 {
                libc::munmap(raw as *mut libc::c_void, head);
            }
            if tail > 0 {
                libc::munmap((base + len) as *mut libc::c_void, tail);
            }
        }
        base
    }

    /// Under [`ArenaPolicy::Retain`]: the next arena of the current reservation, reserving
    /// [`RESERVE_BYTES`] more when it is used up.
    fn carve_reserved_arena(&mut self) -> usize {
        match self.reservations.last_mut() {
            Some(r) if r.next < r.base + r.len => {
                r.next += ARENA;
                r.next - ARENA
            }
            _ => {
                let len = RESERVE_BYTES.next_multiple_of(ARENA);
                let base = Self::map(len, true);
                self.reservations.push(Reservation { base, len, next: base + ARENA });
                base
            }
        }
    }

    /// Arena `index` gained one free pool: update `nfp2lasta` and move the arena right, just
    /// after the last arena that had as many free pools as it had, so the list stays sorted.
    fn arena_gained_free_pool(&mut self, index: u32) {
        let old = self.arenas[index as usize].nfreepools as usize;
        let new = old + 1;
        self.arenas[index as usize].nfreepools = new as u32;
        if old == 0 {
            // It was full, so on no list; with one free pool it sorts first.
            let head = self.usable_arenas;
            let arena = &mut self.arenas[index as usize];
            arena.prev = NO_ARENA;
            arena.next = head;
            if head != NO_ARENA {
                self.arenas[head as usize].prev = index;
            }
            self.usable_arenas = index;
            if self.nfp2lasta[1] == NO_ARENA {
                self.nfp2lasta[1] = index;
            }
            return;
        }
        let last_old = self.nfp2lasta[old];
        if last_old == index {
            let prev = self.arenas[index as usize].prev;
            self.nfp2lasta[old] =
                if prev != NO_ARENA && self.arenas[prev as usize].nfreepools as usize == old { prev } else { NO_ARENA };
        }
        if self.nfp2lasta[new] == NO_ARENA {
            // Everything after `last_old` has more than `old` free pools, so at least `new`:
            // inserted right after `last_old`, this arena is the last one with `new`.
            self.nfp2lasta[new] = index;
        }
        if last_old == index {
            return; // everything after it has at least `new` free pools: still sorted
        }
        self.remove_from_usable(index);
        let after = last_old;
        let next = self.arenas[after as usize].next;
        let arena = &mut self.arenas[index as usize];
        arena.prev = after;
        arena.next = next;
        self.arenas[after as usize].next = index;
        if next != NO_ARENA {
            self.arenas[next as usize].prev = index;
        }
    }

    /// Takes arena `index` off `usable_arenas`, keeping `nfp2lasta` right.
    fn unlink_arena(&mut self, index: u32) {
        let nf = self.arenas[index as usize].nfreepools as usize;
        if self.nfp2lasta[nf] == index {
            let prev = self.arenas[index as usize].prev;
            self.nfp2lasta[nf] =
                if prev != NO_ARENA && self.arenas[prev as usize].nfreepools as usize == nf { prev } else { NO_ARENA };
        }
        self.remove_from_usable(index);
    }

    /// Splices arena `index` out of the `usable_arenas` links (no `nfp2lasta` update).
    fn remove_from_usable(&mut self, index: u32) {
        let ArenaObject { prev, next, .. } = self.arenas[index as usize];
        if prev == NO_ARENA {
            self.usable_arenas = next;
        } else {
            self.arenas[prev as usize].next = next;
        }
        if next != NO_ARENA {
            self.arenas[next as usize].prev = prev;
        }
        let arena = &mut self.arenas[index as usize];
        arena.prev = NO_ARENA;
        arena.next = NO_ARENA;
    }

    /// Unmaps arena `index` (already off every list, or the allocator being dropped) and frees
    /// its slot. A reserved arena ([`ArenaPolicy::Retain`]) is unmapped with its reservation.
    fn release_arena(&mut self, index: u32) {
        let arena = &mut self.arenas[index as usize];
        if self.policy == ArenaPolicy::ReleaseToOs {
            // SAFETY: `address` is a live mapping of ARENA bytes made by `new_arena`; no block
            // in it is handed out (the arena is wholly free) and its slot is cleared below, so
            // nothing refers to it afterwards. Test: allocator::empty_arenas_go_back_to_the_os.
            let rc = unsafe { libc::munmap(arena.address as *mut libc::c_void, ARENA) };
            debug_assert_eq!(rc, 0, "munmap of an arena failed");
        }
        arena.address = 0;
        arena.pool_address = 0;
        arena.nfreepools = 0;
        arena.ntotalpools = 0;
        arena.freepools = ptr::null_mut();
        self.unused_arena_slots.push(index);
        self.stats.arenas_freed += 1;
        self.stats.bytes_reserved -= ARENA as u64;
    }

    // ---------------------------------------------------------------------------------------
    // Large requests
    // ---------------------------------------------------------------------------------------

    /// A request above 512 bytes: straight to the system backend, counted in the stats.
    #[inline(never)]
    fn alloc_large(&mut self, size: usize) -> NonNull<u8> {
        let block = self.backend.alloc(size);
        self.blocks_in_use += 1;
        self.bytes_used += size as u64;
        let stats = &mut self.stats;
        stats.bytes_reserved += size as u64;
        stats.bytes_reserved_peak = stats.bytes_reserved_peak.max(stats.bytes_reserved);
        block
    }

    /// # Safety
    /// `block` must be a live block from `alloc_large(size)`.
    #[inline(never)]
    unsafe fn free_large(&mut self, block: NonNull<u8>, size: usize) {
        // SAFETY: the block came from `self.backend.alloc(size)` (contract).
        // Test: allocator::contents_survive (sizes up to 2048).
        unsafe { self.backend.free(block, size) };
        self.blocks_in_use -= 1;
        self.bytes_used -= size as u64;
        self.stats.bytes_reserved -= size as u64;
    }

    // ---------------------------------------------------------------------------------------
    // Inspection (walks; for tests and reports, never on a hot path)
    // ---------------------------------------------------------------------------------------

    /// Every arena held, in slot order.
    pub fn arenas(&self) -> Vec<ArenaInfo> {
        self.arenas.iter().filter(|a| a.address != 0).map(Self::info).collect()
    }

    /// The arenas with a free pool, in `usable_arenas` order: the next pool comes from the first.
    pub fn usable_arenas(&self) -> Vec<ArenaInfo> {
        let mut out = Vec::new();
        let mut index = self.usable_arenas;
        while index != NO_ARENA && out.len() <= self.arenas.len() {
            let arena = &self.arenas[index as usize];
            out.push(Self::info(arena));
            index = arena.next;
        }
        out
    }

    fn info(arena: &ArenaObject) -> ArenaInfo {
        ArenaInfo {
            base: arena.address,
            total_pools: arena.ntotalpools as usize,
            free_pools: arena.nfreepools as usize,
        }
    }

    /// Walks every arena, pool and free list and checks the invariants listed in the module
    /// documentation and the counters in [`AllocStats`] (small-object part). Slow: O(memory).
    ///
    /// The steps, in order: the `usable_arenas` list and `nfp2lasta`; every arena with its empty
    /// and carved pools (tallying pools and blocks); the used-pool lists against that tally; the
    /// counters against that tally.
    pub fn check_invariants(&self) -> Result<(), String> {
        let on_list = self.check_usable_list()?;
        let mut tally = Tally::default();
        for (index, arena) in self.arenas.iter().enumerate() {
            if arena.address != 0 {
                self.check_arena(index, arena, on_list[index], &mut tally)?;
            }
        }
        self.check_used_lists(&tally)?;
        self.check_counters(&tally)
    }

    /// `usable_arenas`: well linked, no cycle, sorted fullest-first, `nfp2lasta` right. Returns
    /// which arena slots are on the list.
    fn check_usable_list(&self) -> Result<Vec<bool>, String> {
        let mut on_list = vec![false; self.arenas.len()];
        let (mut prev, mut index, mut last_nf) = (NO_ARENA, self.usable_arenas, 0u32);
        while index != NO_ARENA {
            let arena = self.arenas.get(index as usize).ok_or("usable_arenas: bad index")?;
            if on_list[index as usize] {
                return Err("usable_arenas has a cycle".into());
            }
            on_list[index as usize] = true;
            if arena.address == 0 || arena.prev != prev {
                return Err(format!("usable_arenas: arena {index} badly linked"));
            }
            if arena.nfreepools == 0 || arena.nfreepools < last_nf {
                return Err(format!("usable_arenas not sorted fullest-first at arena {index}"));
            }
            let is_last_of_count =
                arena.next == NO_ARENA || self.arenas[arena.next as usize].nfreepools != arena.nfreepools;
            if is_last_of_count != (self.nfp2lasta[arena.nfreepools as usize] == index) {
                return Err(format!("nfp2lasta[{}] is wrong", arena.nfreepools));
            }
            last_nf = arena.nfreepools;
            prev = index;
            index = arena.next;
        }
        for (n, &last) in self.nfp2lasta.iter().enumerate() {
            if last != NO_ARENA && (!on_list[last as usize] || self.arenas[last as usize].nfreepools as usize != n) {
                return Err(format!("nfp2lasta[{n}] names an arena without {n} free pools"));
            }
        }
        Ok(on_list)
    }

    /// One live arena: on `usable_arenas` iff it has a free pool, its pool counts, its
    /// `freepools` list, and each carved pool (added to `tally`).
    fn check_arena(&self, index: usize, arena: &ArenaObject, on_list: bool, tally: &mut Tally) -> Result<(), String> {
        tally.live_arenas += 1;
        if (arena.nfreepools > 0) != on_list {
            return Err(format!("arena {index}: on usable_arenas iff it has a free pool"));
        }
        if arena.nfreepools == arena.ntotalpools {
            tally.wholly_free += 1;
        }
        let first_pool = arena.address.next_multiple_of(POOL);
        let carved = (arena.pool_address - first_pool) / POOL;
        let uncarved = (arena.address + ARENA - arena.pool_address) / POOL;
        if carved + uncarved != arena.ntotalpools as usize {
            return Err(format!("arena {index}: pool count mismatch"));
        }
        let empty = Self::check_free_pools(index, arena, carved)?;
        if empty + uncarved != arena.nfreepools as usize {
            return Err(format!("arena {index}: nfreepools is wrong"));
        }
        let mut unused_carved = 0usize;
        for k in 0..carved {
            let pool = (first_pool + k * POOL) as *mut PoolHeader;
            // SAFETY: pools below `pool_address` are carved and their headers initialised.
            // Test: allocator::stats_match_model.
            let header = unsafe { &*pool };
            if header.ref_count == 0 {
                unused_carved += 1;
            } else {
                self.check_pool_in_use(index, k, pool, tally)?;
            }
        }
        if unused_carved != empty {
            return Err(format!("arena {index}: an empty pool is missing from freepools"));
        }
        Ok(())
    }

    /// The arena's `freepools` list: at most `carved` long, every pool on it empty and its own.
    /// Returns its length.
    fn check_free_pools(index: usize, arena: &ArenaObject, carved: usize) -> Result<usize, String> {
        let mut empty = 0usize;
        let mut pool = arena.freepools;
        while !pool.is_null() {
            empty += 1;
            if empty > carved {
                return Err(format!("arena {index}: freepools list too long"));
            }
            // SAFETY: pools on `freepools` are live carved headers (the invariant being
            // checked; a broken list is caught by the length bound above).
            // Test: allocator::stats_match_model.
            unsafe {
                if (*pool).ref_count != 0 || (*pool).arena_index as usize != index {
                    return Err(format!("arena {index}: bad empty pool"));
                }
                pool = (*pool).next_pool;
            }
        }
        Ok(empty)
    }

    /// Pool `k` of arena `index`, in use: its header, and its free list against its block
    /// counts. Adds it to `tally`.
    fn check_pool_in_use(
        &self,
        index: usize,
        k: usize,
        pool: *mut PoolHeader,
        tally: &mut Tally,
    ) -> Result<(), String> {
        // SAFETY: `pool` is a carved pool header (caller). Test: allocator::stats_match_model.
        let header = unsafe { &*pool };
        if header.arena_index as usize != index || header.size_idx as usize >= NUM_SIZE_CLASSES {
            return Err(format!("arena {index}: pool {k} has a bad header"));
        }
        let class = header.size_idx as usize;
        let size = size_class_bytes(class);
        let capacity = (POOL - POOL_OVERHEAD) / size;
        let carved_blocks = (header.next_offset as usize - POOL_OVERHEAD) / size;
        // SAFETY: `pool` is a carved pool with ref_count > 0, i.e. a live used or full pool.
        // Test: allocator::stats_match_model.
        let free = unsafe { self.free_list_len(pool, class, carved_blocks)? };
        if header.ref_count as usize + free != carved_blocks || carved_blocks > capacity {
            return Err(format!("arena {index}: pool {k}: block counts disagree"));
        }
        tally.pools_per_class[class] += 1;
        if !header.freeblock.is_null() {
            tally.pools_with_free_block[class] += 1;
        }
        tally.small_blocks += u64::from(header.ref_count);
        tally.small_bytes += u64::from(header.ref_count) * size as u64;
        Ok(())
    }

    /// The used lists hold exactly the pools of their class that are in use and have a free
    /// block, well linked.
    fn check_used_lists(&self, tally: &Tally) -> Result<(), String> {
        for (class, &head) in self.used_pools.iter().enumerate() {
            let (mut prev, mut pool, mut n) = (ptr::null_mut::<PoolHeader>(), head, 0u64);
            while !pool.is_null() {
                n += 1;
                if n > tally.pools_per_class[class] {
                    return Err(format!("used_pools[{class}] holds pools that are not in use"));
                }
                // SAFETY: pools on a used list are live (the invariant being checked; the length
                // bound above stops a corrupt list). Test: allocator::stats_match_model.
                let header = unsafe { &*pool };
                if header.prev_pool != prev || header.size_idx as usize != class || header.freeblock.is_null() {
                    return Err(format!("used_pools[{class}]: bad pool"));
                }
                prev = pool;
                pool = header.next_pool;
            }
            if n != tally.pools_with_free_block[class] {
                return Err(format!("used_pools[{class}] misses a pool that has a free block"));
            }
        }
        Ok(())
    }

    /// The counters of [`AllocStats`] and `wholly_free_arenas` against what the walk found.
    fn check_counters(&self, tally: &Tally) -> Result<(), String> {
        let s = &self.stats();
        let kept_at_most = if self.policy == ArenaPolicy::ReleaseToOs { 1 } else { u32::MAX };
        if tally.wholly_free != self.wholly_free_arenas || tally.wholly_free > kept_at_most {
            return Err(format!("{} wholly free arenas, counter says {}", tally.wholly_free, self.wholly_free_arenas));
        }
        if tally.live_arenas != s.arenas_live() || s.arenas_high_water < tally.live_arenas {
            return Err("arena counters disagree with the arenas held".into());
        }
        if tally.pools_per_class != s.pools_in_use {
            return Err("pools_in_use disagrees with the pools".into());
        }
        if tally.small_blocks > s.blocks_in_use || tally.small_bytes > s.bytes_used {
            return Err("small blocks exceed blocks_in_use / bytes_used".into());
        }
        if s.bytes_reserved < tally.live_arenas * ARENA as u64 + (s.bytes_used - tally.small_bytes) {
            return Err("bytes_reserved does not cover arenas and large blocks".into());
        }
        if s.bytes_reserved_peak < s.bytes_reserved {
            return Err("bytes_reserved_peak below bytes_reserved".into());
        }
        Ok(())
    }

    /// Length of `pool`'s free list, failing if it is longer than `bound` or leaves the pool.
    ///
    /// # Safety
    /// `pool` must be a live used or full pool of `class`.
    unsafe fn free_list_len(&self, pool: *mut PoolHeader, class: usize, bound: usize) -> Result<usize, String> {
        let size = size_class_bytes(class);
        let (base, mut n) = (pool as usize, 0usize);
        // SAFETY: `pool` is a live header (contract). Test: allocator::stats_match_model.
        let mut block = unsafe { (*pool).freeblock };
        while !block.is_null() {
            n += 1;
            let offset = (block as usize).wrapping_sub(base);
            if n > bound || offset < POOL_OVERHEAD || offset >= POOL || !(offset - POOL_OVERHEAD).is_multiple_of(size) {
                return Err("a free list leaves its pool or is too long".into());
            }
            if self.valgrind {
                valgrind::make_mem_defined(block, LINK_BYTES);
            }
            // SAFETY: `block` is a block-aligned address inside the pool (checked just above)
            // on its free list, so its first word is a link. Test: allocator::stats_match_model.
            let next = unsafe { block.cast::<*mut u8>().read() };
            if self.valgrind {
                valgrind::make_mem_noaccess(block, size);
            }
            block = next;
        }
        Ok(n)
    }
}

impl<const POOL: usize, const ARENA: usize> Allocator for Pymalloc<POOL, ARENA> {
    fn name(&self) -> String {
        if POOL.is_multiple_of(1024) { format!("pymalloc-{}k", POOL / 1024) } else { format!("pymalloc-{POOL}b") }
    }

    #[inline]
    fn alloc(&mut self, size: usize) -> NonNull<u8> {
        if size <= SMALL_REQUEST_THRESHOLD { self.alloc_small(size_class_index(size)) } else { self.alloc_large(size) }
    }

    #[inline]
    unsafe fn free(&mut self, ptr: NonNull<u8>, size: usize) {
        if size <= SMALL_REQUEST_THRESHOLD {
            // SAFETY: the trait contract: `ptr` came from `alloc(size)`, which for this size
            // was `alloc_small(size_class_index(size))`. Test: allocator::contents_survive.
            unsafe { self.free_small(ptr, size_class_index(size)) }
        } else {
            // SAFETY: as above, through `alloc_large(size)`. Test: allocator::contents_survive.
            unsafe { self.free_large(ptr, size) }
        }
    }

    fn stats(&self) -> AllocStats {
        AllocStats { blocks_in_use: self.blocks_in_use, bytes_used: self.bytes_used, ..self.stats.clone() }
    }

    /// Gives back to the OS the pages `MAP_POPULATE` faulted in that no pool has used yet: the
    /// uncarved pools of every arena and, under [`ArenaPolicy::Retain`], the arenas of the
    /// current reservation not carved yet. obmalloc.c's would not be resident, so after this
    /// the pages a forked worker shares with its parent, and those it unshares by carving new
    /// pools, are obmalloc.c's. The range stays mapped and reads as zeros when next touched.
    fn release_untouched(&mut self) {
        let arenas = self.arenas.iter().filter(|a| a.address != 0).map(|a| (a.pool_address, a.address + ARENA));
        let reservation = self.reservations.last().map(|r| (r.next, r.base + r.len));
        // Whole pages only: pools smaller than a page (test geometries) share pages with used ones.
        let pages = arenas.chain(reservation).map(|(start, end)| (start.next_multiple_of(PAGE), end / PAGE * PAGE));
        for (start, end) in pages.filter(|(start, end)| start < end) {
            // SAFETY: `start..end` is whole pages inside one of our mappings that hold no pool or
            // block in use (rounded inwards), so `MADV_DONTNEED` only drops pages nobody reads.
            // Test: allocator::untouched_pools_leave_memory.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        }
    }
}

impl<const POOL: usize, const ARENA: usize> Drop for Pymalloc<POOL, ARENA> {
    /// Returns every arena to the OS. Large blocks still live are the caller's leak: the
    /// allocator does not track them (a heap frees every object before dropping it).
    fn drop(&mut self) {
        for index in 0..self.arenas.len() {
            if self.arenas[index].address != 0 {
                self.release_arena(index as u32);
            }
        }
        for r in self.reservations.drain(..) {
            // SAFETY: `base..base + len` is a mapping made by `map` and only ever carved into
            // arenas, all released above; nothing refers to it any more.
            // Test: allocator::retained_arenas_stay_mapped.
            let rc = unsafe { libc::munmap(r.base as *mut libc::c_void, r.len) };
            debug_assert_eq!(rc, 0, "munmap of a reservation failed");
        }
    }
}
