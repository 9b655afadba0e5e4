//! A full collection (`gc.collect()`) on the two heap shapes pyperformance uses:
//!
//! - `traversal`: one million tracked containers and no garbage (the `bm_gc_traversal` question:
//!   what does walking a big live heap cost?). Each container is a two-item list `[int, None]`,
//!   as in the CPython measurement beside it; the cost reported is per tracked container.
//! - `collect`: rings of 21 nodes, doubly linked (`next`, `prev`), dropped before the collection
//!   (`bm_gc_collect`'s 100 cycles of 21 nodes, and 10,000 of them for a steadier figure); the
//!   cost reported is per collected object.
//!
//! The heap uses the `manual` strategy with nothing frozen (CPython with `gc.disable()`), so only
//! the measured collection runs. Criterion's throughput is set to the object count, so its
//! `elem/s` figure inverts to the per-object cost.
//!
//! Run: `cargo bench -p strategies --bench collector -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use strategies::{Handle, Heap, HeapConfig, strategy};

fn disabled_heap() -> Heap {
    let params = [("freeze", "false"), ("exit-collect", "false")].map(|(k, v)| (k.to_string(), v.to_string()));
    let strategy = strategy::find("manual").unwrap().build(&params.into_iter().collect()).unwrap();
    Heap::new(HeapConfig::default(), strategy)
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
    for cycles in [100, 10_000] {
        let heap = disabled_heap();
        let objects = cycles as u64 * 21;
        group.throughput(Throughput::Elements(objects));
        group.bench_function(format!("collect_{cycles}_rings_of_21"), |b| {
            b.iter_batched(
                || drop_rings(&heap, cycles, 20),
                |()| assert_eq!(heap.collect(2).unreachable(), objects),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, traversal, collect);
criterion_main!(benches);
