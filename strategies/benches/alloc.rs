//! Allocation fast paths: pymalloc against the system allocators, side by side.
//!
//! Each iteration is one alloc + free pair, with [`LIVE`] blocks of the size class in use, in two
//! patterns: `ring` frees the oldest block and allocates a new one (FIFO; in pymalloc every free
//! lands in a full pool, so each pair also moves a pool between its full and used states, as in
//! CPython), and `lifo` frees the block it just allocated (the pure free-list fast path of every
//! allocator). The first word of each block is written, as an object header would be.
//!
//! One benchmark group per block size, so that criterion prints the allocators next to each
//! other:
//!
//! - `pymalloc`: `Pymalloc` with the modern geometry (16 KiB pools, 1 MiB arenas), called
//!   directly (monomorphised, as in the allocator's own hot loops);
//! - `pymalloc-built`: the same through `BuiltAllocator` (one `match` per call), as the heap
//!   calls it;
//! - `jemalloc`: raw `malloc`/`free` of tikv-jemalloc-sys;
//! - `jemalloc-sized`: raw `malloc`/`sdallocx` (sized free, like our allocator interface);
//! - `libc`: the C library's `malloc`/`free`.
//!
//! Criterion runs its benchmarks one after another, so a drift in the machine's speed between
//! two subjects reads as a difference between them. With `--rounds N` the bench runs no criterion
//! benchmark: for each pattern and size it times every subject in turn, [`PAIRS`] pairs each, for
//! `N` rounds in rotating order, and prints each subject's min and median ns per pair and, round
//! by round, pymalloc's ratio to the better of the two jemalloc variants (min and median of those
//! ratios): one interleaved run.
//!
//! Run: `cargo bench -p strategies --bench alloc -- --noplot --warm-up-time 1 --measurement-time 2`
//! or, interleaved: `cargo bench -p strategies --bench alloc -- --rounds 10`

use std::hint::black_box;
use std::ptr::NonNull;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use strategies::alloc::{Allocator, AllocatorConfig, AllocatorKind, ArenaGeometry, Pymalloc, SystemBackend};

/// Blocks kept live in the ring.
const LIVE: usize = 1000;
/// Block sizes measured: every power of two that pymalloc serves from pools.
const SIZES: [usize; 6] = [16, 32, 64, 128, 256, 512];

/// Something that hands out and takes back blocks of a known size.
trait Subject {
    fn alloc(&mut self, size: usize) -> NonNull<u8>;
    /// # Safety
    /// `ptr` must come from `self.alloc(size)` and be live.
    unsafe fn free(&mut self, ptr: NonNull<u8>, size: usize);
}

// Always inlined, as the heap's `alloc_bytes` and `free_bytes` are: left to the compiler, the
// three arms of `BuiltAllocator` made it a call, and the bench timed the call.
impl<A: Allocator + ?Sized> Subject for A {
    #[inline(always)]
    fn alloc(&mut self, size: usize) -> NonNull<u8> {
        Allocator::alloc(self, size)
    }
    #[inline(always)]
    unsafe fn free(&mut self, ptr: NonNull<u8>, size: usize) {
        // SAFETY: forwarded contract. Test: allocator::contents_survive.
        unsafe { Allocator::free(self, ptr, size) }
    }
}

/// Raw jemalloc, `malloc` + `free` (jemalloc looks the size up on free).
struct Jemalloc;
/// Raw jemalloc, `malloc` + `sdallocx` (the size is passed, as our interface does).
struct JemallocSized;
/// The C library's `malloc` + `free`.
struct Libc;

impl Subject for Jemalloc {
    #[inline]
    fn alloc(&mut self, size: usize) -> NonNull<u8> {
        // SAFETY: malloc accepts any size; null is checked. Test: the ring frees what it allocates.
        NonNull::new(unsafe { tikv_jemalloc_sys::malloc(size) }.cast()).expect("out of memory")
    }
    #[inline]
    unsafe fn free(&mut self, ptr: NonNull<u8>, _size: usize) {
        // SAFETY: `ptr` came from jemalloc's malloc and is live (contract). Test: the ring (one free per alloc).
        unsafe { tikv_jemalloc_sys::free(ptr.as_ptr().cast()) }
    }
}

impl Subject for JemallocSized {
    #[inline]
    fn alloc(&mut self, size: usize) -> NonNull<u8> {
        Jemalloc.alloc(size)
    }
    #[inline]
    unsafe fn free(&mut self, ptr: NonNull<u8>, size: usize) {
        // SAFETY: `ptr` came from jemalloc's malloc(size) and is live (contract); flags 0 match.
        // Test: the ring (one free per alloc).
        unsafe { tikv_jemalloc_sys::sdallocx(ptr.as_ptr().cast(), size, 0) }
    }
}

impl Subject for Libc {
    #[inline]
    fn alloc(&mut self, size: usize) -> NonNull<u8> {
        // SAFETY: malloc accepts any size; null is checked. Test: the ring frees what it allocates.
        NonNull::new(unsafe { libc::malloc(size) }.cast()).expect("out of memory")
    }
    #[inline]
    unsafe fn free(&mut self, ptr: NonNull<u8>, _size: usize) {
        // SAFETY: `ptr` came from libc's malloc and is live (contract). Test: the ring (one free per alloc).
        unsafe { libc::free(ptr.as_ptr().cast()) }
    }
}

/// `LIVE` live blocks of `size` bytes from `subject`.
fn live_blocks<S: Subject + ?Sized>(subject: &mut S, size: usize) -> Vec<NonNull<u8>> {
    (0..LIVE).map(|_| subject.alloc(size)).collect()
}

/// Frees blocks made by [`live_blocks`].
fn free_blocks<S: Subject + ?Sized>(subject: &mut S, blocks: Vec<NonNull<u8>>, size: usize) {
    for block in blocks {
        // SAFETY: the blocks are live (each pair replaces what it frees) and freed once here.
        // Test: allocator::contents_survive (same discipline).
        unsafe { subject.free(block, size) };
    }
}

/// One FIFO pair: frees the oldest block of `ring` and puts a new one in its place.
#[inline(always)]
fn ring_pair<S: Subject + ?Sized>(subject: &mut S, ring: &mut [NonNull<u8>], oldest: &mut usize, size: usize) {
    let slot = &mut ring[*oldest];
    // SAFETY: every slot holds a live block from `subject.alloc(size)`; it is replaced right
    // after being freed. Test: allocator::contents_survive (same discipline).
    unsafe { subject.free(*slot, size) };
    let block = subject.alloc(black_box(size));
    // SAFETY: a fresh block of at least 16 bytes, 16-aligned. Test: allocator::blocks_are_aligned.
    unsafe { block.as_ptr().cast::<u64>().write(*oldest as u64) };
    *slot = black_box(block);
    *oldest = if *oldest + 1 == ring.len() { 0 } else { *oldest + 1 };
}

/// One LIFO pair: allocates a block and frees it at once.
#[inline(always)]
fn lifo_pair<S: Subject + ?Sized>(subject: &mut S, size: usize) {
    let block = subject.alloc(black_box(size));
    // SAFETY: a fresh block of at least 16 bytes, 16-aligned. Test: allocator::blocks_are_aligned.
    unsafe { block.as_ptr().cast::<u64>().write(size as u64) };
    // SAFETY: `block` came from `subject.alloc(size)` just above and is freed once.
    unsafe { subject.free(black_box(block), size) };
}

/// How blocks are freed: the oldest of a ring (FIFO), or the one just allocated (LIFO).
#[derive(Clone, Copy)]
enum Pattern {
    Ring,
    Lifo,
}

/// Measures `subject` under `pattern` with criterion, monomorphised for each subject, with `LIVE`
/// other blocks of the size class in use.
fn run<S: Subject + ?Sized>(
    pattern: Pattern,
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    subject: &mut S,
    size: usize,
) {
    let mut live = live_blocks(subject, size);
    let mut oldest = 0;
    c.bench_function(name, |b| match pattern {
        Pattern::Ring => b.iter(|| ring_pair(subject, &mut live, &mut oldest, size)),
        Pattern::Lifo => b.iter(|| lifo_pair(subject, size)),
    });
    free_blocks(subject, live, size);
}

/// Pairs timed per subject and round by `--rounds`.
const PAIRS: usize = 1_000_000;

/// ns per pair of [`PAIRS`] pairs of `subject` under `pattern` (the `LIVE` blocks made first and
/// freed after, outside the clock).
fn timed_pairs<S: Subject + ?Sized>(pattern: Pattern, subject: &mut S, size: usize) -> f64 {
    let mut live = live_blocks(subject, size);
    let mut oldest = 0;
    let start = Instant::now();
    for _ in 0..PAIRS {
        match pattern {
            Pattern::Ring => ring_pair(subject, &mut live, &mut oldest, size),
            Pattern::Lifo => lifo_pair(subject, size),
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / PAIRS as f64;
    free_blocks(subject, live, size);
    ns
}

/// `BuiltAllocator` as the heap builds it by default: pymalloc with the modern geometry, large
/// requests to jemalloc.
fn built_pymalloc() -> strategies::alloc::BuiltAllocator {
    AllocatorConfig { kind: AllocatorKind::Pymalloc(ArenaGeometry::Modern), backend: SystemBackend::Jemalloc }.build()
}

/// The same pymalloc, called directly (monomorphised).
fn direct_pymalloc() -> Pymalloc<{ ArenaGeometry::Modern.pool_bytes() }, { ArenaGeometry::Modern.arena_bytes() }> {
    Pymalloc::new(SystemBackend::Jemalloc)
}

const PATTERNS: [(&str, Pattern); 2] = [("ring", Pattern::Ring), ("lifo", Pattern::Lifo)];

fn alloc_free_pairs(c: &mut Criterion) {
    for (pattern_name, pattern) in PATTERNS {
        for size in SIZES {
            let mut group = c.benchmark_group(format!("{pattern_name}/{size}"));
            group.throughput(Throughput::Elements(1));
            run(pattern, &mut group, "pymalloc", &mut direct_pymalloc(), size);
            run(pattern, &mut group, "pymalloc-built", &mut built_pymalloc(), size);
            run(pattern, &mut group, "jemalloc", &mut Jemalloc, size);
            run(pattern, &mut group, "jemalloc-sized", &mut JemallocSized, size);
            run(pattern, &mut group, "libc", &mut Libc, size);
            group.finish();
        }
    }
}

/// A subject of the interleaved run: its name and its timer (ns per pair).
type Timer = (&'static str, Box<dyn FnMut(Pattern, usize) -> f64>);

/// `--rounds N`: every subject in turn, rotating the order each round; see the module docs.
fn interleaved(rounds: usize) {
    for (pattern_name, pattern) in PATTERNS {
        for size in SIZES {
            let (mut direct, mut built) = (direct_pymalloc(), built_pymalloc());
            let mut timers: Vec<Timer> = vec![
                ("pymalloc", Box::new(move |p, s| timed_pairs(p, &mut direct, s))),
                ("pymalloc-built", Box::new(move |p, s| timed_pairs(p, &mut built, s))),
                ("jemalloc", Box::new(|p, s| timed_pairs(p, &mut Jemalloc, s))),
                ("jemalloc-sized", Box::new(|p, s| timed_pairs(p, &mut JemallocSized, s))),
                ("libc", Box::new(|p, s| timed_pairs(p, &mut Libc, s))),
            ];
            let mut ns = vec![Vec::with_capacity(rounds); timers.len()];
            for round in 0..rounds {
                for k in 0..timers.len() {
                    let i = (round + k) % timers.len();
                    ns[i].push((timers[i].1)(pattern, size));
                }
            }
            report(&format!("{pattern_name}/{size}"), &timers, &ns);
        }
    }
}

/// Prints one pattern and size of the interleaved run.
fn report(title: &str, timers: &[Timer], ns: &[Vec<f64>]) {
    let by_name = |name: &str| &ns[timers.iter().position(|(n, _)| *n == name).expect("a subject")];
    let figures: Vec<String> = timers
        .iter()
        .zip(ns)
        .map(|((name, _), times)| format!("{name} {:.2} / {:.2}", min(times), median(times)))
        .collect();
    println!("{title}, ns per pair (min / median): {}", figures.join(", "));
    let (jemalloc, sized) = (by_name("jemalloc"), by_name("jemalloc-sized"));
    let better: Vec<f64> = jemalloc.iter().zip(sized).map(|(a, b)| a.min(*b)).collect();
    for name in ["pymalloc", "pymalloc-built"] {
        let ratios: Vec<f64> = by_name(name).iter().zip(&better).map(|(a, b)| a / b).collect();
        println!("  {name} / better jemalloc, per round: {:.2} min, {:.2} median", min(&ratios), median(&ratios));
    }
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rounds") {
        match args.get(i + 1).and_then(|n| n.parse::<usize>().ok()) {
            Some(rounds @ 1..=1000) => interleaved(rounds),
            _ => {
                eprintln!("error: --rounds takes a number of rounds from 1 to 1000");
                std::process::exit(2);
            }
        }
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    alloc_free_pairs(&mut c);
    c.final_summary();
}
