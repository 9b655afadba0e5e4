//! `traversal`: a large long-lived structure and nothing else, collected again and again: the pure
//! cost of a collector walking live objects.
//!
//! It is pyperformance's `bm_gc_traversal`: `levels` lists where list `n` holds `n` references to
//! list `n−1` (list 0 is empty), so 1,000 levels make 1,000 tracked containers and 499,500 edges.
//! The structure is built once and kept to the end; there are no cycles and no garbage. The program
//! then calls `gc.collect()` `collections` times, as the benchmark does in its measured loop. It
//! stands for services whose large, long-lived heap (caches, parsed configuration, imported
//! modules) every full collection walks again to find nothing: the cost Instagram removed with
//! `gc.freeze()`.
//!
//! Under `refcount` and `weakref` there is no collector, so the explicit collections do nothing.
//! Under `generational` each one is a full collection that traverses every edge; under `manual`
//! too, except that with `freeze` (its default) the structure is frozen at `startup_done` and the
//! collections have nothing left to traverse. Building the structure triggers about one young
//! collection (1,000 lists against a threshold of 700).
//!
//! After each collection the program probes one list drawn from the seed: it walks down from the
//! top to that list and checks its length and the length of one of its items, drawn too. At the
//! end it walks the whole structure, checking every list's length and that all its items are one
//! list (the next one down). Checkpoints: `startup_done` once the structure is built,
//! `request_done` after each explicit collection.

use strategies::params::Defaults::{BySize, Fixed};
use strategies::params::{Int, Param, ParamError, Reader};
use strategies::{Handle, Heap};

use crate::rng::SplitMix64;
use crate::{Checksum, Workload, WorkloadInfo};

pub(crate) const INFO: WorkloadInfo = WorkloadInfo {
    name: "traversal",
    summary: "one long-lived structure of nested lists collected again and again (pyperformance's gc_traversal)",
    params: &[&LEVELS, &COLLECTIONS],
    build,
};

const LEVELS: Param<Int<usize>> = Param::new(
    "levels",
    Int::at_least(1),
    Fixed(1000),
    "lists in the structure; list n holds n references to list n-1",
);
const COLLECTIONS: Param<Int<u64>> = Param::new(
    "collections",
    Int::at_least(0),
    BySize([10, 100, 1000, 10_000]),
    "times the program calls gc.collect() once the structure is built",
);

#[derive(Debug)]
struct Traversal {
    seed: u64,
    levels: usize,
    collections: u64,
}

fn build(p: &mut Reader, seed: u64) -> Result<Box<dyn Workload>, ParamError> {
    let workload = Traversal { seed, levels: p.get(&LEVELS)?, collections: p.get(&COLLECTIONS)? };
    Ok(Box::new(workload))
}

impl Workload for Traversal {
    fn run(&self, heap: &Heap) -> Checksum {
        let mut rng = SplitMix64::new(self.seed);
        let mut checksum = Checksum::new();
        let top = heap.local(create_recursive_containers(heap, self.levels));
        heap.startup_done();
        for _ in 0..self.collections {
            heap.program_collect();
            self.probe(heap, &top, &mut rng, &mut checksum);
            heap.request_done();
        }
        self.walk(heap, &top, &mut checksum);
        checksum
    }
}

/// `bm_gc_traversal`'s builder: list 0 is empty, list `n` holds `n` references to list `n−1`;
/// returns the last list.
fn create_recursive_containers(heap: &Heap, levels: usize) -> Handle<'_> {
    let mut current = heap.list();
    for n in 1..levels {
        let new_list = heap.list();
        for _ in 0..n {
            heap.list_append(&new_list, &current);
        }
        current = new_list;
    }
    current
}

impl Traversal {
    /// The list at `level`, reached from the top by following first items.
    fn list_at<'h>(&self, heap: &'h Heap, top: &Handle<'h>, level: usize) -> Handle<'h> {
        let mut list = top.clone();
        for _ in level..self.levels - 1 {
            list = heap.get(&list, 0).expect("a list above level 0 has items");
        }
        list
    }

    /// Checks one random list: its length and the length of one of its items.
    fn probe(&self, heap: &Heap, top: &Handle<'_>, rng: &mut SplitMix64, checksum: &mut Checksum) {
        let level = rng.index(self.levels);
        let list = self.list_at(heap, top, level);
        let len = heap.len(&list);
        checksum.mix(level as u64);
        checksum.mix(len as u64);
        if len > 0 {
            let item = heap.get(&list, rng.index(len)).expect("list items are filled");
            checksum.mix(heap.len(&item) as u64);
        }
    }

    /// Walks the whole structure from the top down: every list's length, and how many of its
    /// items are the list one level down.
    fn walk(&self, heap: &Heap, top: &Handle<'_>, checksum: &mut Checksum) {
        let mut list = top.clone();
        for _ in 0..self.levels {
            let len = heap.len(&list);
            checksum.mix(len as u64);
            if len == 0 {
                break;
            }
            let below = heap.get(&list, 0).expect("list items are filled");
            let same = (0..len).filter(|&i| heap.get(&list, i).as_ref() == Some(&below)).count();
            checksum.mix(same as u64);
            list = below;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{heap, refusal, smoke};

    fn run(strategy: &str, params: &[(&str, &str)]) -> [strategies::GenerationStats; strategies::GENERATIONS] {
        let program = INFO.build(&smoke(3, params)).unwrap();
        let heap = heap(strategy);
        program.run(&heap);
        heap.gc_stats()
    }

    #[test]
    fn every_explicit_collection_is_a_full_collection_that_finds_nothing() {
        let stats = run("generational", &[("collections", "4")]);
        assert_eq!(stats[2].collections, 4);
        assert!(stats.iter().all(|g| g.collected == 0 && g.uncollectable == 0));
        assert!(run("refcount", &[("collections", "4")]).iter().all(|g| g.collections == 0));
    }

    #[test]
    fn list_n_holds_n_references_to_list_n_minus_1() {
        let heap = heap("refcount");
        let mut list = create_recursive_containers(&heap, 4);
        for n in (1..4).rev() {
            assert_eq!(heap.len(&list), n);
            let below = heap.get(&list, 0).unwrap();
            assert!((0..n).all(|i| heap.get(&list, i).as_ref() == Some(&below)));
            list = below;
        }
        assert_eq!(heap.len(&list), 0);
    }

    #[test]
    fn levels_must_be_positive() {
        assert!(refusal(&INFO, &[("levels", "0")]).ends_with("`levels` = `0`: out of range (at least 1)"));
    }
}
