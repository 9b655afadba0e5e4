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
//! Run: `cargo bench -p strategies --bench alloc -- --noplot --warm-up-time 1 --measurement-time 2`

use std::hint::black_box;
use std::ptr::NonNull;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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

/// Measures one alloc + free pair on a ring of `LIVE` blocks of `size` bytes.
fn ring<S: Subject + ?Sized>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    subject: &mut S,
    size: usize,
) {
    let mut ring: Vec<NonNull<u8>> = (0..LIVE).map(|_| subject.alloc(size)).collect();
    let mut oldest = 0;
    c.bench_function(name, |b| {
        b.iter(|| {
            let slot = &mut ring[oldest];
            // SAFETY: every slot holds a live block from `subject.alloc(size)`; it is replaced
            // right after being freed. Test: allocator::contents_survive (same discipline).
            unsafe { subject.free(*slot, size) };
            let block = subject.alloc(black_box(size));
            // SAFETY: a fresh block of at least 16 bytes, 16-aligned. Test: allocator::blocks_are_aligned.
            unsafe { block.as_ptr().cast::<u64>().write(oldest as u64) };
            *slot = black_box(block);
            oldest = if oldest + 1 == LIVE { 0 } else { oldest + 1 };
        })
    });
    for block in ring {
        // SAFETY: the ring's blocks are live and freed once. Test: the ring discipline above.
        unsafe { subject.free(block, size) };
    }
}

/// Measures one alloc + free pair where the block just allocated is freed at once (LIFO): the
/// pure fast path of every allocator, with `LIVE` other blocks of the size class in use.
fn immediate<S: Subject + ?Sized>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    subject: &mut S,
    size: usize,
) {
    let live: Vec<NonNull<u8>> = (0..LIVE).map(|_| subject.alloc(size)).collect();
    c.bench_function(name, |b| {
        b.iter(|| {
            let block = subject.alloc(black_box(size));
            // SAFETY: a fresh block of at least 16 bytes, 16-aligned. Test: allocator::blocks_are_aligned.
            unsafe { block.as_ptr().cast::<u64>().write(size as u64) };
            // SAFETY: `block` came from `subject.alloc(size)` just above and is freed once.
            unsafe { subject.free(black_box(block), size) };
        })
    });
    for block in live {
        // SAFETY: the blocks kept live above are freed once. Test: allocator::contents_survive.
        unsafe { subject.free(block, size) };
    }
}

/// How blocks are freed: the oldest of a ring (FIFO), or the one just allocated (LIFO).
#[derive(Clone, Copy)]
enum Pattern {
    Ring,
    Lifo,
}

/// Measures `subject` under `pattern`, monomorphised for each subject.
fn run<S: Subject + ?Sized>(
    pattern: Pattern,
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    subject: &mut S,
    size: usize,
) {
    match pattern {
        Pattern::Ring => ring(c, name, subject, size),
        Pattern::Lifo => immediate(c, name, subject, size),
    }
}

fn alloc_free_pairs(c: &mut Criterion) {
    for (pattern_name, pattern) in [("ring", Pattern::Ring), ("lifo", Pattern::Lifo)] {
        for size in SIZES {
            let mut group = c.benchmark_group(format!("{pattern_name}/{size}"));
            group.throughput(Throughput::Elements(1));
            run(
                pattern,
                &mut group,
                "pymalloc",
                &mut Pymalloc::<{ 16 << 10 }, { 1 << 20 }>::new(SystemBackend::Jemalloc),
                size,
            );
            let config = AllocatorConfig {
                kind: AllocatorKind::Pymalloc(ArenaGeometry::Modern),
                backend: SystemBackend::Jemalloc,
            };
            run(pattern, &mut group, "pymalloc-built", &mut config.build(), size);
            run(pattern, &mut group, "jemalloc", &mut Jemalloc, size);
            run(pattern, &mut group, "jemalloc-sized", &mut JemallocSized, size);
            run(pattern, &mut group, "libc", &mut Libc, size);
            group.finish();
        }
    }
}

criterion_group!(benches, alloc_free_pairs);
criterion_main!(benches);
