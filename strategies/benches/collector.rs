//! A full collection (`gc.collect()`) on the two heap shapes pyperformance uses:
//!
//! - `traversal`: one million tracked containers and no garbage (the `bm_gc_traversal` question:
//!   what does walking a big live heap cost?). Each container is a two-item list `[int, None]`,
//!   as in the CPython measurement beside it; the cost reported is per tracked container.
//! - `collect`: rings of 21 nodes, doubly linked (`next`, `prev`), dropped before the collection
//!   (`bm_gc_collect`'s 100 cycles of 21 nodes, and 10,000 of them for a steadier figure); the
//!   cost reported is per collected object.
//!
//! - `trial_deletion_collect`: the same rings under `trial-deletion` (its buffer too large to fill,
//!   so only the measured collection runs): MarkRoots, ScanRoots, CollectRoots from the one
//!   buffered node of each ring, against the generational collector's walk of every container.
//!
//! The heap uses the `manual` strategy with nothing frozen (CPython with `gc.disable()`), so only
//! the measured collection runs. Criterion's throughput is set to the object count, so its
//! `elem/s` figure inverts to the per-object cost.
//!
//! Run: `cargo bench -p strategies --bench collector -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use strategies::{Handle, Heap, HeapConfig, strategy};

fn heap_with(name: &str, params: &[(&str, &str)]) -> Heap {
    let params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Heap::new(HeapConfig::default(), strategy::find(name).unwrap().build(&params).unwrap())
}

fn disabled_heap() -> Heap {
    heap_with("manual", &[("freeze", "false"), ("exit-collect", "false")])
}

/// Trial deletion that never collects by itself.
fn trial_deletion_heap() -> Heap {
    heap_with("trial-deletion", &[("roots", "1000000000000")])
}

/// `[[i & 255, None] for i in range(n)]`: `n + 1` tracked lists, nothing to collect.
fn live_lists(heap: &Heap, n: usize) -> Handle<'_> {
    let none = &heap.tuple(&[]);
    let outer = heap.list();
    for i in 0..n {
        let inner = heap.list();
        heap.list_append(&inner, &heap.int((i & 255) as i64));
        heap.list_append(&inner, none); // one shared object, as CPython has one None
        heap.list_append(&outer, &inner);
    }
    outer
}

/// `bm_gc_collect`'s rings: `cycles` doubly linked rings of `links + 1` nodes, then dropped.
fn drop_rings(heap: &Heap, cycles: usize, links: usize) {
    const NEXT: usize = 0;
    const PREV: usize = 1;
    for _ in 0..cycles {
        let head = heap.instance(2);
        let mut node = head.clone();
        for _ in 0..links {
            let next = heap.instance(2);
            heap.set(&node, NEXT, Some(&next));
            heap.set(&next, PREV, Some(&node));
            node = next;
        }
        heap.set(&node, NEXT, Some(&head));
        heap.set(&head, PREV, Some(&node));
    }
}

fn traversal(c: &mut Criterion) {
    let heap = disabled_heap();
    let _live = live_lists(&heap, 1_000_000);
    heap.collect(2); // untracks the empty tuples, as CPython's first collection would
    let tracked = heap.stats().tracked_containers;
    let mut group = c.benchmark_group("full_collection");
    group.sample_size(20);
    group.throughput(Throughput::Elements(tracked));
    group.bench_function(format!("traversal_{tracked}_live_containers"), |b| {
        b.iter(|| assert_eq!(black_box(heap.collect(2)).unreachable(), 0))
    });
    group.finish();
}

fn collect(c: &mut Criterion) {
    let mut group = c.benchmark_group("full_collection");
    for (prefix, make_heap) in [("", disabled_heap as fn() -> Heap), ("trial_deletion_", trial_deletion_heap)] {
        for cycles in [100, 10_000] {
            let heap = make_heap();
            let objects = cycles as u64 * 21;
            group.throughput(Throughput::Elements(objects));
            group.bench_function(format!("{prefix}collect_{cycles}_rings_of_21"), |b| {
                b.iter_batched(
                    || drop_rings(&heap, cycles, 20),
                    |()| assert_eq!(heap.collect(2).unreachable(), objects),
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, traversal, collect);
criterion_main!(benches);
