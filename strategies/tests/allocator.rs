//! Tests of the allocator layer: every `Allocator` keeps its promises under random use.
//!
//! One driver, [`Driver`], serves every test. It keeps a model of the live blocks (address ->
//! size and fill pattern) next to the allocator under test and, after every call, checks that
//!
//! - the new block is 16-byte aligned and overlaps no live block,
//! - every live block still holds the pattern written into it (checked before it is freed),
//! - the counters equal the model: `blocks_in_use`, `bytes_used` (small pymalloc blocks at their
//!   size-class size), and for pymalloc `bytes_reserved == arenas * ARENA + large bytes`, the
//!   pools in use fit in the arenas held, the peaks are at least the current values,
//! - for a concrete `Pymalloc`, `check_invariants` (pool lists, fullest-first arena order,
//!   `nfp2lasta`, free lists, one wholly free arena at most) holds.
//!
//! The property tests run random alloc/free sequences with sizes 0..=2048 over every
//! `AllocatorConfig::all()` (both geometries, both backends) and over odd geometries that reach
//! corner cases (single-block pools, arenas whose first pool is skipped). The whole file takes a
//! few seconds in debug; `PROPTEST_CASES` lowers the case counts (e.g. under valgrind).

use std::collections::{BTreeMap, HashMap};
use std::ptr::NonNull;

use proptest::prelude::*;
use proptest::sample::Index;
use strategies::alloc::{
    ALIGNMENT, AllocStats, Allocator, AllocatorConfig, AllocatorKind, ArenaGeometry, ArenaPolicy, NUM_SIZE_CLASSES,
    PerObjectMalloc, Pymalloc, RESERVE_BYTES, SMALL_REQUEST_THRESHOLD, SystemBackend, size_class_bytes,
    size_class_index,
};

type Classic = Pymalloc<{ 4 << 10 }, { 256 << 10 }>;
type Modern = Pymalloc<{ 16 << 10 }, { 1 << 20 }>;
/// Pools of one 512-byte block, two pools per arena: arenas come and go all the time.
type Tiny = Pymalloc<1024, 2048>;
/// Pools larger than a page: half of the mmaps are not POOL-aligned and lose their first pool.
type Skewed = Pymalloc<{ 8 << 10 }, { 32 << 10 }>;

// -------------------------------------------------------------------------------------------
// The driver
// -------------------------------------------------------------------------------------------

/// How an allocator charges blocks in its counters.
#[derive(Clone, Copy, Debug)]
enum Charging {
    /// Small blocks at their size class, large at their size; arenas of `arena_bytes` holding
    /// at most `pools_per_arena` pools.
    Pymalloc { arena_bytes: u64, pools_per_arena: u64 },
    /// Every block at its size; no arenas.
    PerObject,
}

impl Charging {
    fn of_config(config: AllocatorConfig) -> Self {
        match config.kind {
            AllocatorKind::Pymalloc(geometry) => Charging::pymalloc(geometry.pool_bytes(), geometry.arena_bytes()),
            AllocatorKind::PerObject => Charging::PerObject,
        }
    }

    fn pymalloc(pool: usize, arena: usize) -> Self {
        Charging::Pymalloc { arena_bytes: arena as u64, pools_per_arena: (arena / pool) as u64 }
    }

    fn bytes_used(self, size: usize) -> u64 {
        match self {
            Charging::Pymalloc { .. } if size <= SMALL_REQUEST_THRESHOLD => {
                size_class_bytes(size_class_index(size)) as u64
            }
            _ => size as u64,
        }
    }
}

/// A live block in the model.
struct Live {
    ptr: NonNull<u8>,
    size: usize,
    seed: u8,
}

type Check<A> = Box<dyn Fn(&A) -> Result<(), String>>;

/// An allocator under test plus the model it is checked against.
struct Driver<'a, A: Allocator + ?Sized> {
    alloc: &'a mut A,
    charging: Charging,
    /// Extra whole-structure check run after every call (pymalloc's `check_invariants`).
    check: Option<Check<A>>,
    live: BTreeMap<usize, Live>,
    blocks: u64,
    bytes_used: u64,
    large_bytes: u64,
    next_seed: u8,
}

impl<'a, A: Allocator + ?Sized> Driver<'a, A> {
    fn new(alloc: &'a mut A, charging: Charging) -> Self {
        Driver {
            alloc,
            charging,
            check: None,
            live: BTreeMap::new(),
            blocks: 0,
            bytes_used: 0,
            large_bytes: 0,
            next_seed: 1,
        }
    }

    fn with_check(mut self, check: Check<A>) -> Self {
        self.check = Some(check);
        self
    }

    /// Allocates `size` bytes, checks alignment and overlap, fills the block with a pattern.
    fn alloc(&mut self, size: usize) -> NonNull<u8> {
        let ptr = self.alloc.alloc(size);
        let start = ptr.as_ptr() as usize;
        let end = start + size.max(1);
        assert_eq!(start % ALIGNMENT, 0, "block of {size} bytes at {start:#x} is not 16-aligned");
        if let Some((&before, block)) = self.live.range(..=start).next_back() {
            assert!(before + block.size.max(1) <= start, "block {start:#x}+{size} overlaps {before:#x}+{}", block.size);
        }
        if let Some((&after, _)) = self.live.range(start + 1..).next() {
            assert!(end <= after, "block {start:#x}+{size} overlaps {after:#x}");
        }
        let seed = self.next_seed;
        self.next_seed = self.next_seed.wrapping_add(1);
        fill(ptr, size, seed);
        self.live.insert(start, Live { ptr, size, seed });
        self.blocks += 1;
        self.bytes_used += self.charging.bytes_used(size);
        if size > SMALL_REQUEST_THRESHOLD {
            self.large_bytes += size as u64;
        }
        self.verify();
        ptr
    }

    /// Frees the `index`-th live block (in address order), checking its contents first.
    fn free_nth(&mut self, index: usize) {
        let start = *self.live.keys().nth(index).expect("index in range");
        self.free_at(start);
    }

    fn free_at(&mut self, start: usize) {
        let block = self.live.remove(&start).expect("a live block");
        assert_pattern(block.ptr, block.size, block.seed);
        // SAFETY: `block` came from `self.alloc.alloc(block.size)` and was removed from the
        // model, so it is live and freed exactly once. Test: every test here (the model).
        unsafe { self.alloc.free(block.ptr, block.size) };
        self.blocks -= 1;
        self.bytes_used -= self.charging.bytes_used(block.size);
        if block.size > SMALL_REQUEST_THRESHOLD {
            self.large_bytes -= block.size as u64;
        }
        self.verify();
    }

    /// Frees every live block, in an order that interleaves arenas (every third block first).
    fn free_all(&mut self) {
        let starts: Vec<usize> = self.live.keys().copied().collect();
        for phase in 0..3 {
            for &start in starts.iter().skip(phase).step_by(3) {
                self.free_at(start);
            }
        }
        assert!(self.live.is_empty());
    }

    fn run(&mut self, ops: &[Op]) {
        for op in ops {
            match *op {
                Op::Alloc(size) => {
                    self.alloc(size);
                }
                Op::Free(index) if !self.live.is_empty() => self.free_nth(index.index(self.live.len())),
                Op::Free(_) => {}
            }
        }
    }

    /// The counters against the model, plus the allocator's own deep check.
    fn verify(&self) {
        let s = self.alloc.stats();
        assert_eq!(s.blocks_in_use, self.blocks, "blocks_in_use");
        assert_eq!(s.bytes_used, self.bytes_used, "bytes_used");
        assert!(s.bytes_reserved >= s.bytes_used, "reserved {} < used {}", s.bytes_reserved, s.bytes_used);
        assert!(s.bytes_reserved_peak >= s.bytes_reserved, "peak below current");
        assert!(s.arenas_high_water >= s.arenas_live(), "arena high water below current");
        match self.charging {
            Charging::Pymalloc { arena_bytes, pools_per_arena } => {
                let pools: u64 = s.pools_in_use.iter().sum();
                assert!(pools <= s.arenas_live() * pools_per_arena, "{pools} pools in {} arenas", s.arenas_live());
                assert_eq!(s.bytes_reserved, s.arenas_live() * arena_bytes + self.large_bytes, "bytes_reserved");
            }
            Charging::PerObject => {
                assert_eq!(s.bytes_reserved, s.bytes_used);
                assert_eq!((s.arenas_allocated, s.arenas_freed, s.arenas_high_water), (0, 0, 0));
                assert_eq!(s.pools_in_use, [0; NUM_SIZE_CLASSES]);
            }
        }
        if let Some(check) = &self.check {
            check(self.alloc).unwrap_or_else(|e| panic!("invariant broken: {e}"));
        }
    }
}

/// Writes a pattern that depends on the block's seed and each byte's position.
fn fill(ptr: NonNull<u8>, size: usize, seed: u8) {
    // SAFETY: `ptr` is a fresh block of at least `size` bytes that only the caller uses (no
    // other live block overlaps it). Test: Driver::alloc's overlap assertion, just before.
    let bytes = unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), size) };
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = seed.wrapping_add((i as u8).wrapping_mul(31));
    }
}

fn assert_pattern(ptr: NonNull<u8>, size: usize, seed: u8) {
    // SAFETY: `ptr` is a live block of at least `size` bytes, all written by `fill`.
    // Test: the model (a block leaves `Driver::live` only when freed).
    let bytes = unsafe { std::slice::from_raw_parts(ptr.as_ptr(), size) };
    for (i, &byte) in bytes.iter().enumerate() {
        assert_eq!(byte, seed.wrapping_add((i as u8).wrapping_mul(31)), "byte {i} of a {size}-byte block changed");
    }
}

// -------------------------------------------------------------------------------------------
// Random sequences
// -------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    Alloc(usize),
    Free(Index),
}

/// Sizes over all of 0..=2048, weighted towards the pools (the interesting part); frees a bit
/// less often than allocations, so the heap grows through the sequence.
fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..=SMALL_REQUEST_THRESHOLD).prop_map(Op::Alloc),
        1 => (SMALL_REQUEST_THRESHOLD + 1..=2048usize).prop_map(Op::Alloc),
        3 => any::<Index>().prop_map(Op::Free),
    ]
}

fn ops(max_len: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..max_len)
}

/// `cases` unless `PROPTEST_CASES` asks for fewer; no regression files in the source tree.
fn config(cases: u32) -> ProptestConfig {
    let cases =
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).map_or(cases, |env: u32| env.min(cases));
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Runs `ops` on a fresh allocator of every configuration, then frees everything.
fn run_every_config(ops: &[Op]) {
    for config in AllocatorConfig::all() {
        let mut alloc = config.build();
        let mut driver = Driver::new(&mut alloc, Charging::of_config(config));
        driver.run(ops);
        driver.free_all();
        let s = alloc.stats();
        assert!(s.arenas_live() <= 1, "{config:?}: {} arenas left", s.arenas_live());
    }
}

/// Runs `ops` on a concrete pymalloc with `check_invariants` after every call.
fn run_checked<const P: usize, const A: usize>(alloc: &mut Pymalloc<P, A>, ops: &[Op]) {
    let mut driver =
        Driver::new(alloc, Charging::pymalloc(P, A)).with_check(Box::new(|a: &Pymalloc<P, A>| a.check_invariants()));
    driver.run(ops);
    driver.free_all();
    drop(driver);
    let s = alloc.stats();
    if alloc.arena_policy() == ArenaPolicy::ReleaseToOs {
        assert!(s.arenas_live() <= 1, "{} arenas left after freeing everything", s.arenas_live());
    } else {
        assert_eq!(s.arenas_freed, 0, "a retained arena was unmapped");
    }
    assert_eq!(s.arenas_freed, s.arenas_allocated - s.arenas_live());
    assert_eq!(s.pools_in_use, [0; NUM_SIZE_CLASSES]);
}

proptest! {
    #![proptest_config(config(24))]

    /// Every configuration: no two live blocks share a byte, all are aligned, stats match.
    #[test]
    fn blocks_never_overlap(ops in ops(300)) {
        run_every_config(&ops);
    }

    /// Every configuration: what is written into a block is still there when it is freed,
    /// whatever was allocated and freed around it.
    #[test]
    fn contents_survive(sizes in prop::collection::vec(0..=2048usize, 1..200), order in any::<Index>()) {
        for config in AllocatorConfig::all() {
            let mut alloc = config.build();
            let mut driver = Driver::new(&mut alloc, Charging::of_config(config));
            for (i, &size) in sizes.iter().enumerate() {
                driver.alloc(size);
                if i % 3 == 2 {
                    let n = driver.live.len();
                    driver.free_nth(order.index(n));
                }
            }
            driver.free_all();
        }
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// Both geometries and both backends, with the full invariant walk after every call.
    #[test]
    fn stats_match_model(ops in ops(300), libc in any::<bool>()) {
        let backend = if libc { SystemBackend::Libc } else { SystemBackend::Jemalloc };
        run_checked(&mut Classic::new(backend), &ops);
        run_checked(&mut Modern::new(backend), &ops);
    }

    /// Geometries at the edges of what the compile-time checks allow.
    #[test]
    fn odd_geometries_keep_their_invariants(ops in ops(300)) {
        run_checked(&mut Tiny::new(SystemBackend::Jemalloc), &ops);
        run_checked(&mut Skewed::new(SystemBackend::Libc), &ops);
    }

    /// Retained arenas (the `nogc` policy): the same invariants, nothing unmapped.
    #[test]
    fn retained_arenas_keep_their_invariants(ops in ops(300)) {
        run_checked(&mut Tiny::new(SystemBackend::Jemalloc).with_arena_policy(ArenaPolicy::Retain), &ops);
        run_checked(&mut Skewed::new(SystemBackend::Libc).with_arena_policy(ArenaPolicy::Retain), &ops);
        run_checked(&mut Modern::with_valgrind_requests(SystemBackend::Libc, true).with_arena_policy(ArenaPolicy::Retain), &ops);
    }

    /// The valgrind client requests, forced on natively, change nothing observable.
    #[test]
    fn valgrind_requests_are_harmless(ops in ops(200)) {
        run_checked(&mut Classic::with_valgrind_requests(SystemBackend::Libc, true), &ops);
        run_checked(&mut Tiny::with_valgrind_requests(SystemBackend::Jemalloc, true), &ops);
    }
}

// -------------------------------------------------------------------------------------------
// Deterministic tests
// -------------------------------------------------------------------------------------------

/// Every size 0..=2048, every configuration: aligned, and every byte usable.
#[test]
fn blocks_are_aligned() {
    for config in AllocatorConfig::all() {
        let mut alloc = config.build();
        let mut driver = Driver::new(&mut alloc, Charging::of_config(config));
        for size in 0..=2048 {
            driver.alloc(size);
        }
        driver.free_all();
    }
}

/// Whether the page at `address` is resident: bit 63 of its `/proc/self/pagemap` entry.
fn resident(address: usize) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let mut pagemap = std::fs::File::open("/proc/self/pagemap").unwrap();
    pagemap.seek(SeekFrom::Start((address / 4096 * 8) as u64)).unwrap();
    let mut entry = [0u8; 8];
    pagemap.read_exact(&mut entry).unwrap();
    u64::from_le_bytes(entry) >> 63 == 1
}

/// Arenas are mapped populated; before a fork the pools never carved leave memory (so a worker
/// does not count them as shared), and carving them later works as before.
#[test]
fn untouched_pools_leave_memory() {
    for policy in [ArenaPolicy::ReleaseToOs, ArenaPolicy::Retain] {
        let mut alloc = Modern::new(SystemBackend::Jemalloc).with_arena_policy(policy);
        let mut driver = Driver::new(&mut alloc, Charging::pymalloc(16 << 10, 1 << 20));
        driver.alloc(16);
        let arena = driver.alloc.arenas()[0];
        // The last page of the arena's last whole pool (an arena not POOL-aligned ends in a
        // piece of a pool that is never used).
        let tail = (arena.base + (1 << 20)) / (16 << 10) * (16 << 10) - 4096;
        assert!(resident(tail), "{policy:?}: an arena is faulted in when mapped");
        driver.alloc.release_untouched();
        assert!(!resident(tail), "{policy:?}: its uncarved pools are not resident any more");
        for _ in 0..(2 << 20) / 512 {
            driver.alloc(512);
        }
        assert!(resident(tail), "{policy:?}: carving the pool faults it in again");
        driver.alloc.check_invariants().unwrap();
        driver.free_all();
    }
}

/// 3 MiB of 512-byte blocks needs several arenas; freeing them returns all but one to the OS.
#[test]
fn empty_arenas_go_back_to_the_os() {
    for backend in SystemBackend::ALL {
        drain_several_arenas(&mut Classic::new(backend));
        drain_several_arenas(&mut Modern::new(backend));
    }
}

fn drain_several_arenas<const P: usize, const A: usize>(alloc: &mut Pymalloc<P, A>) {
    let mut driver = Driver::new(alloc, Charging::pymalloc(P, A));
    for _ in 0..(3 << 20) / 512 {
        driver.alloc(512);
    }
    let s = driver.alloc.stats();
    assert!(s.arenas_live() >= 3, "3 MiB fit in {} arenas", s.arenas_live());
    driver.alloc.check_invariants().unwrap();
    driver.free_all();
    driver.alloc.check_invariants().unwrap();
    let s = driver.alloc.stats();
    assert_eq!(s.arenas_live(), 1, "one wholly free arena is kept");
    assert_eq!(s.arenas_freed, s.arenas_allocated - 1);
    assert_eq!(s.arenas_high_water, s.arenas_allocated);
    assert_eq!(s.bytes_reserved, A as u64);
    assert!(s.bytes_reserved_peak >= 3 << 20);
    // The kept arena serves the next allocation: no new mmap.
    let before = s.arenas_allocated;
    driver.alloc(100);
    assert_eq!(driver.alloc.stats().arenas_allocated, before);
    driver.free_all();
}

/// Under `ArenaPolicy::Retain` arenas are carved contiguously from POOL-aligned reservations, stay mapped when wholly free, and serve the next allocations.
#[test]
fn retained_arenas_stay_mapped() {
    for backend in SystemBackend::ALL {
        retain_several_arenas(&mut Classic::new(backend).with_arena_policy(ArenaPolicy::Retain));
        retain_several_arenas(&mut Modern::new(backend).with_arena_policy(ArenaPolicy::Retain));
    }
    // Enough arenas to need a second reservation.
    let mut alloc = Modern::new(SystemBackend::Jemalloc).with_arena_policy(ArenaPolicy::Retain);
    let mut driver = Driver::new(&mut alloc, Charging::pymalloc(16 << 10, 1 << 20));
    for _ in 0..(RESERVE_BYTES + (1 << 20)) / 512 {
        driver.alloc(512);
    }
    assert!(driver.alloc.stats().arenas_live() as usize > RESERVE_BYTES >> 20);
    driver.alloc.check_invariants().unwrap();
    driver.free_all();
    assert_eq!(driver.alloc.stats().arenas_freed, 0);
}

fn retain_several_arenas<const P: usize, const A: usize>(alloc: &mut Pymalloc<P, A>) {
    let mut driver = Driver::new(alloc, Charging::pymalloc(P, A));
    for _ in 0..(3 << 20) / 512 {
        driver.alloc(512);
    }
    let held = driver.alloc.stats();
    assert!(held.arenas_live() >= 3, "3 MiB fit in {} arenas", held.arenas_live());
    let mut bases: Vec<usize> = driver.alloc.arenas().iter().map(|a| a.base).collect();
    bases.sort_unstable();
    assert_eq!(bases[0] % P, 0, "a reservation starts on a pool boundary");
    assert!(bases.windows(2).all(|w| w[1] - w[0] == A), "arenas are carved contiguously");
    assert!(driver.alloc.arenas().iter().all(|a| a.total_pools == A / P), "no arena loses a pool to alignment");
    driver.free_all();
    driver.alloc.check_invariants().unwrap();
    let s = driver.alloc.stats();
    assert_eq!((s.arenas_live(), s.arenas_freed), (held.arenas_live(), 0), "every wholly free arena is kept");
    assert_eq!(s.bytes_reserved, held.bytes_reserved);
    // The kept arenas serve the next allocations: no new arena.
    for _ in 0..(3 << 20) / 512 {
        driver.alloc(512);
    }
    assert_eq!(driver.alloc.stats().arenas_allocated, held.arenas_allocated);
    driver.alloc.check_invariants().unwrap();
    driver.free_all();
}

/// Allocating and freeing one block forever must not mmap and munmap every time (bpo-37257).
#[test]
fn one_wholly_free_arena_is_kept() {
    let mut alloc = Modern::new(SystemBackend::Jemalloc);
    let mut driver = Driver::new(&mut alloc, Charging::pymalloc(16 << 10, 1 << 20));
    for _ in 0..1000 {
        let ptr = driver.alloc(64);
        driver.free_at(ptr.as_ptr() as usize);
    }
    let s = driver.alloc.stats();
    assert_eq!((s.arenas_allocated, s.arenas_freed), (1, 0));

    // Fill the first arena; the block that maps a second one is freed, and that arena kept.
    let mut newest = 0;
    while driver.alloc.stats().arenas_allocated < 2 {
        newest = driver.alloc(512).as_ptr() as usize;
    }
    driver.free_at(newest);
    // Now every new 512-byte block needs a pool of the wholly free arena, and frees it again.
    for _ in 0..100 {
        let ptr = driver.alloc(512).as_ptr() as usize;
        driver.free_at(ptr);
    }
    let s = driver.alloc.stats();
    assert_eq!((s.arenas_allocated, s.arenas_freed), (2, 0), "the second arena was kept, not remapped");
    driver.alloc.check_invariants().unwrap();
    driver.free_all();
}

/// After freeing whole pools in three arenas, new pools come from the fullest arena first.
#[test]
fn fullest_arena_is_used_first() {
    for backend in SystemBackend::ALL {
        fullest_first(&mut Classic::new(backend));
        fullest_first(&mut Modern::new(backend));
    }
}

fn fullest_first<const P: usize, const A: usize>(alloc: &mut Pymalloc<P, A>) {
    let mut driver = Driver::new(alloc, Charging::pymalloc(P, A));
    // Fill three arenas; the block that maps a fourth one is freed again (that arena is kept).
    let mut newest = 0;
    while driver.alloc.stats().arenas_allocated < 4 {
        newest = driver.alloc(512).as_ptr() as usize;
    }
    driver.free_at(newest);
    let arena_of = |arenas: &[usize], addr: usize| arenas.iter().position(|&base| (base..base + A).contains(&addr));
    let mut bases: Vec<usize> = driver.alloc.arenas().iter().map(|a| a.base).collect();
    bases.sort_unstable();
    assert_eq!(bases.len(), 4);

    // Group the blocks: arena -> pool -> blocks.
    let mut by_arena: HashMap<usize, BTreeMap<usize, Vec<usize>>> = HashMap::new();
    for &addr in driver.live.keys() {
        let arena = bases[arena_of(&bases, addr).unwrap()];
        by_arena.entry(arena).or_default().entry(addr & !(P - 1)).or_default().push(addr);
    }
    assert_eq!(by_arena.len(), 3);
    let mut full: Vec<usize> = by_arena.keys().copied().collect();
    full.sort_unstable();
    // Free all but 2 pools of the first arena, half of the second, 3 pools of the third.
    let (nearly_empty, half, nearly_full) = (full[0], full[1], full[2]);
    let pools_to_free = |arena: usize| -> usize {
        let pools = by_arena[&arena].len();
        if arena == nearly_empty {
            pools - 2
        } else if arena == half {
            pools / 2
        } else {
            3
        }
    };
    for &arena in &full {
        for blocks in by_arena[&arena].values().take(pools_to_free(arena)) {
            for &addr in blocks {
                driver.free_at(addr);
            }
        }
    }
    driver.alloc.check_invariants().unwrap();

    // usable_arenas is fullest first: nearly full, half, nearly empty, then the kept empty one.
    let order: Vec<usize> = driver.alloc.usable_arenas().iter().map(|a| a.base).collect();
    assert_eq!(&order[..3], &[nearly_full, half, nearly_empty]);
    assert_eq!(order.len(), 4);

    // New blocks fill the fullest arena's free pools first, then the next.
    let blocks_per_pool = by_arena[&nearly_full].values().next().unwrap().len();
    for &arena in &[nearly_full, half, nearly_empty] {
        for _ in 0..pools_to_free(arena) * blocks_per_pool {
            let ptr = driver.alloc(512).as_ptr() as usize;
            assert_eq!(bases[arena_of(&bases, ptr).unwrap()], arena, "allocation skipped the fullest arena");
        }
    }
    driver.free_all();
}

/// Empty pools go back to their arena and serve any size class afterwards.
#[test]
fn pools_are_reused_across_classes() {
    let mut alloc = Classic::new(SystemBackend::Jemalloc);
    let mut driver = Driver::new(&mut alloc, Charging::pymalloc(4 << 10, 256 << 10))
        .with_check(Box::new(|a: &Classic| a.check_invariants()));
    for _ in 0..2000 {
        driver.alloc(16);
    }
    let pools_16 = driver.alloc.stats().pools_in_use[0];
    assert!(pools_16 >= 8);
    driver.free_all();
    assert_eq!(driver.alloc.stats().pools_in_use, [0; NUM_SIZE_CLASSES]);
    // Same class again: the cached free lists are reused; then another class.
    for _ in 0..2000 {
        driver.alloc(16);
    }
    driver.free_all();
    for _ in 0..200 {
        driver.alloc(500);
    }
    let s = driver.alloc.stats();
    assert_eq!(s.arenas_allocated, 1, "all pools came from the first arena");
    assert_eq!(s.pools_in_use[31], 200u64.div_ceil(7));
    driver.free_all();
}

/// Requests above 512 bytes bypass the pools but are counted.
#[test]
fn large_requests_go_to_the_backend() {
    for backend in SystemBackend::ALL {
        let mut alloc = Modern::new(backend);
        let mut driver = Driver::new(&mut alloc, Charging::pymalloc(16 << 10, 1 << 20));
        driver.alloc(513);
        driver.alloc(100_000);
        let s = driver.alloc.stats();
        assert_eq!(s.arenas_allocated, 0);
        assert_eq!((s.blocks_in_use, s.bytes_used, s.bytes_reserved), (2, 100_513, 100_513));
        driver.free_all();
        let s = driver.alloc.stats();
        assert_eq!((s.blocks_in_use, s.bytes_used, s.bytes_reserved, s.bytes_reserved_peak), (0, 0, 0, 100_513));
    }
}

/// A pymalloc may be built on one thread and used on another (it is `Send`).
#[test]
fn pymalloc_moves_between_threads() {
    let mut alloc = Modern::new(SystemBackend::Jemalloc);
    let blocks: Vec<usize> = (0..1000).map(|i| alloc.alloc(i % 600).as_ptr() as usize).collect();
    let stats = std::thread::spawn(move || {
        for (i, &addr) in blocks.iter().enumerate() {
            // SAFETY: each address came from `alloc.alloc(i % 600)` above and is freed once.
            // Test: this one (check_invariants and blocks_in_use == 0 afterwards).
            unsafe { alloc.free(NonNull::new(addr as *mut u8).unwrap(), i % 600) };
        }
        alloc.check_invariants().unwrap();
        alloc.stats()
    })
    .join()
    .unwrap();
    assert_eq!(stats.blocks_in_use, 0);
}

/// Names, configurations and geometries agree with each other.
#[test]
fn names_and_configurations() {
    for backend in SystemBackend::ALL {
        assert_eq!(SystemBackend::from_name(backend.name()), Some(backend));
    }
    assert_eq!(SystemBackend::from_name("tcmalloc"), None);
    assert_eq!(SystemBackend::ALL[0].name(), "jemalloc");
    let names: Vec<String> = AllocatorConfig::all().into_iter().map(|c| c.build().name()).collect();
    assert_eq!(names, ["pymalloc-16k", "pymalloc-16k", "pymalloc-4k", "pymalloc-4k", "per-object", "per-object"]);
    assert_eq!(ArenaGeometry::Classic.pool_bytes(), 4 << 10);
    assert_eq!(ArenaGeometry::Modern.arena_bytes(), 1 << 20);
    assert_eq!(PerObjectMalloc::new(SystemBackend::Libc).backend(), SystemBackend::Libc);
    assert_eq!(Modern::new(SystemBackend::Libc).stats(), AllocStats::default());
}
