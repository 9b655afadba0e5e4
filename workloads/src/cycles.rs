//! `cycles`: many small doubly-linked rings, each dropped as a unit, the garbage that only a
//! cycle collector can free.
//!
//! It stands for programs whose short-lived objects point at each other: doubly-linked lists,
//! parent/child pairs, objects that hold a bound method of themselves, exception tracebacks that
//! reference their own frame. Every batch builds `rings` rings of `ring-size` nodes; node `i`
//! points forward to node `i+1` (a strong edge) and back to node `i−1` (a back edge), and the last
//! node's forward edge closes the ring (a back edge), so the head keeps the whole ring alive
//! through forward edges alone. Each node carries a random integer. A ring survives its batch with
//! probability `survive` and then replaces a random ring of a long-lived pool of `pool` rings, so
//! the older generations see garbage too. The batch list is dropped at the end of the batch, and
//! with it every ring that did not survive.
//!
//! The defaults are pyperformance's `bm_gc_collect` shape: rings of 21 nodes, 100 per batch. With
//! `explicit-collect = true` the program calls `gc.collect()` after every batch, as that benchmark
//! does; with `survive = 0` as well it is that benchmark. Pure refcounting leaks every ring; the
//! `weakref` strategy frees them by refcounting. Checkpoint: `request_done` after every batch.

use strategies::params::Defaults::{BySize, Fixed};
use strategies::params::{Flag, Float, Int, Param, ParamError, Reader};
use strategies::{Handle, Heap};

use crate::rng::SplitMix64;
use crate::{Checksum, Workload, WorkloadInfo};

pub(crate) const INFO: WorkloadInfo = WorkloadInfo {
    name: "cycles",
    summary: "batches of small doubly-linked rings dropped as a unit (pyperformance's gc_collect shape)",
    params: &[&BATCHES, &RINGS, &RING_SIZE, &SURVIVE, &POOL, &EXPLICIT_COLLECT],
    build,
};

const BATCHES: Param<Int<u64>> =
    Param::new("batches", Int::at_least(0), BySize([20, 500, 5000, 50_000]), "batches of rings built and dropped");
const RINGS: Param<Int<u64>> = Param::new("rings", Int::at_least(0), Fixed(100), "rings per batch");
const RING_SIZE: Param<Int<u64>> = Param::new("ring-size", Int::at_least(2), Fixed(21), "nodes per ring");
const SURVIVE: Param<Float> =
    Param::new("survive", Float::PROBABILITY, Fixed(0.02), "probability that a ring joins the long-lived pool");
const POOL: Param<Int<u64>> =
    Param::new("pool", Int::at_least(0), Fixed(1000), "rings in the long-lived pool (at least 1 if rings survive)");
const EXPLICIT_COLLECT: Param<Flag> = Param::new(
    "explicit-collect",
    Flag,
    Fixed(false),
    "the program calls gc.collect() after every batch (as bm_gc_collect)",
);

const NEXT: usize = 0;
const PREV: usize = 1;
const VALUE: usize = 2;
const NODE_SLOTS: usize = 3;
/// Node values are drawn from `0..VALUE_RANGE`: mostly beyond the small-int cache, so each one
/// is an int object, as in Python.
const VALUE_RANGE: u64 = 1000;

#[derive(Debug)]
struct Cycles {
    seed: u64,
    batches: u64,
    rings: u64,
    ring_size: u64,
    survive: f64,
    pool: u64,
    explicit_collect: bool,
}

fn build(p: &mut Reader, seed: u64) -> Result<Box<dyn Workload>, ParamError> {
    let workload = Cycles {
        seed,
        batches: p.get(&BATCHES)?,
        rings: p.get(&RINGS)?,
        ring_size: p.get(&RING_SIZE)?,
        survive: p.get(&SURVIVE)?,
        pool: p.get(&POOL)?,
        explicit_collect: p.get(&EXPLICIT_COLLECT)?,
    };
    if workload.survive > 0.0 && workload.pool == 0 {
        return Err(p.invalid(&POOL, 0, "surviving rings need a pool of at least 1"));
    }
    Ok(Box::new(workload))
}

impl Workload for Cycles {
    fn run(&self, heap: &Heap) -> Checksum {
        let mut rng = SplitMix64::new(self.seed);
        let mut checksum = Checksum::new();
        let pool = heap.local(heap.list());
        heap.startup_done();
        for _ in 0..self.batches {
            let batch = heap.list();
            let mut batch_sum = 0;
            for _ in 0..self.rings {
                let (head, sum) = self.make_ring(heap, &mut rng);
                batch_sum += sum;
                heap.list_append(&batch, &head);
                if rng.chance(self.survive) {
                    keep_in_pool(heap, &pool, self.pool, head, &mut rng);
                }
            }
            checksum.mix(batch_sum);
            drop(batch);
            if self.explicit_collect {
                heap.program_collect();
            }
            heap.request_done();
        }
        for index in 0..heap.len(&pool) {
            let head = heap.get(&pool, index).expect("pool slots are filled");
            checksum.mix(self.ring_sum(heap, &head));
        }
        checksum
    }
}

impl Cycles {
    /// Builds one ring; returns its head and the sum of its values.
    fn make_ring<'h>(&self, heap: &'h Heap, rng: &mut SplitMix64) -> (Handle<'h>, u64) {
        let head = new_node(heap, rng);
        let mut sum = value_of(heap, &head);
        let mut current = head.clone();
        for _ in 1..self.ring_size {
            let node = new_node(heap, rng);
            sum += value_of(heap, &node);
            heap.set(&current, NEXT, Some(&node));
            heap.set_back_edge(&node, PREV, &current);
            current = node;
        }
        heap.set_back_edge(&current, NEXT, &head);
        heap.set_back_edge(&head, PREV, &current);
        (head, sum)
    }

    /// Walks a ring forward, checking that it closes after `ring-size` nodes and that every
    /// back edge leads back; returns the sum of its values.
    fn ring_sum(&self, heap: &Heap, head: &Handle<'_>) -> u64 {
        let mut sum = 0;
        let mut node = head.clone();
        for _ in 0..self.ring_size {
            sum += value_of(heap, &node);
            let next = heap.get(&node, NEXT).expect("a ring node has a successor");
            assert!(heap.get(&next, PREV).as_ref() == Some(&node), "a ring's back edge does not lead back");
            node = next;
        }
        assert!(node == *head, "a ring did not close after ring-size nodes");
        sum
    }
}

fn new_node<'h>(heap: &'h Heap, rng: &mut SplitMix64) -> Handle<'h> {
    let node = heap.instance(NODE_SLOTS);
    heap.set(&node, VALUE, Some(&heap.int(rng.below(VALUE_RANGE) as i64)));
    node
}

fn value_of(heap: &Heap, node: &Handle<'_>) -> u64 {
    heap.int_value(&heap.get(node, VALUE).expect("a node has a value")) as u64
}

/// Puts a surviving ring into the pool: appended while the pool is not full, then in place of a
/// random ring, which becomes garbage (old garbage, by then).
fn keep_in_pool<'h>(heap: &'h Heap, pool: &Handle<'h>, capacity: u64, head: Handle<'h>, rng: &mut SplitMix64) {
    let len = heap.len(pool);
    if (len as u64) < capacity {
        heap.list_append(pool, &head);
    } else {
        heap.set(pool, rng.index(len), Some(&head));
    }
}
