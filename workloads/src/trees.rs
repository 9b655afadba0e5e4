//! `trees`: whole binary trees built and dropped, the classic collector stress test.
//!
//! **`gcbench`** (default) is Hans Boehm's GCBench, the benchmark behind decades of collector
//! papers. It builds a short-lived *stretch* tree (depth 18), then a *long-lived* tree (depth 16)
//! that stays for the whole run, then for depths 4, 6, …, 16 builds NumIters(d) =
//! 2·TreeSize(18)/TreeSize(d) temporary trees top-down (`Populate`) and as many bottom-up
//! (`MakeTree`), so every depth allocates the same number of nodes. Nodes hold left, right and
//! two integers. It stands for programs that allocate many short-lived trees (parsers, ASTs,
//! document trees) beside a long-lived structure. The Java original also fills a 500,000-element
//! array of doubles; a Python heap would hold that as one buffer object, not as objects the
//! collector sees, so it is left out.
//!
//! **`binary-trees`** is the Computer Language Benchmarks Game program with maximum depth N: a
//! stretch tree of depth N+1, a long-lived tree of depth N, and 2^(N−d+4) trees of each depth
//! d = 4, 6, …, N whose nodes are counted (the published "check" values). Nodes are 2-tuples, as
//! in the Python programs.
//!
//! **`parents = true`** gives every node a parent back-pointer (a back edge), so each tree is one
//! big cycle: pure refcounting leaks every tree, a cycle collector must find them, and the
//! `weakref` strategy frees them by refcounting alone. Nodes are then instances (tuples cannot be
//! mutated to close a cycle).
//!
//! The workload makes no random choices; the seed is accepted and ignored. Checkpoints:
//! `startup_done` once the long-lived tree is built, `request_done` after each temporary tree.

use strategies::params::Defaults::{BySize, Fixed};
use strategies::params::{Choice, Int, Param, ParamError, Reader};
use strategies::{Handle, Heap};

use crate::{Checksum, PARENTS, Workload, WorkloadInfo};

pub(crate) const INFO: WorkloadInfo = WorkloadInfo {
    name: "trees",
    summary: "binary trees built and dropped whole: Boehm's GCBench or the Benchmarks Game binary-trees",
    params: &[&VARIANT, &PARENTS, &DEPTH, &N, &LONG_LIVED_DEPTH, &STRETCH_DEPTH],
    build,
};

/// Shallowest temporary trees, in both programs.
const MIN_DEPTH: u32 = 4;
/// Deeper trees would not fit in memory (2^31 nodes) and overflow the iteration counts.
const MAX_SUPPORTED_DEPTH: u32 = 26;

/// The two programs, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Program {
    GcBench,
    BinaryTrees,
}

const VARIANT: Param<Choice<Program>> = Param::new(
    "variant",
    Choice(&[("gcbench", Program::GcBench), ("binary-trees", Program::BinaryTrees)]),
    Fixed(Program::GcBench),
    "gcbench (Boehm's GCBench) or binary-trees (Benchmarks Game)",
);
const DEPTH: Param<Int<u32>> = Param::new(
    "depth",
    Int::new(MIN_DEPTH, MAX_SUPPORTED_DEPTH),
    BySize([6, 12, 16, 18]),
    "gcbench: depth of the deepest temporary trees",
)
.only_when("variant", "gcbench");
/// binary-trees' N, under the same name as gcbench's `depth`.
const N: Param<Int<u32>> =
    Param::new("depth", Int::new(0, MAX_SUPPORTED_DEPTH), BySize([6, 10, 16, 18]), "binary-trees: N")
        .only_when("variant", "binary-trees");
const LONG_LIVED_DEPTH: Param<Int<u32>> = Param::new(
    "long-lived-depth",
    Int::new(0, MAX_SUPPORTED_DEPTH),
    BySize([6, 12, 16, 18]),
    "gcbench: depth of the long-lived tree",
)
.only_when("variant", "gcbench");
const STRETCH_DEPTH: Param<Int<u32>> = Param::new(
    "stretch-depth",
    Int::new(0, MAX_SUPPORTED_DEPTH),
    BySize([8, 14, 18, 20]),
    "gcbench: depth of the stretch tree (at least `depth`)",
)
.only_when("variant", "gcbench");

const LEFT: usize = 0;
const RIGHT: usize = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    GcBench { stretch_depth: u32, long_lived_depth: u32, max_depth: u32 },
    BinaryTrees { n: u32 },
}

#[derive(Debug)]
struct Trees {
    variant: Variant,
    parents: bool,
}

fn build(p: &mut Reader, _seed: u64) -> Result<Box<dyn Workload>, ParamError> {
    let variant = match p.get(&VARIANT)? {
        Program::GcBench => Variant::GcBench {
            stretch_depth: p.get(&STRETCH_DEPTH)?,
            long_lived_depth: p.get(&LONG_LIVED_DEPTH)?,
            max_depth: p.get(&DEPTH)?,
        },
        Program::BinaryTrees => Variant::BinaryTrees { n: p.get(&N)? },
    };
    let workload = Trees { variant, parents: p.get(&PARENTS)? };
    if let Variant::GcBench { stretch_depth, max_depth, .. } = variant
        && stretch_depth < max_depth
    {
        return Err(p.invalid(&STRETCH_DEPTH, stretch_depth, "must be at least `depth`"));
    }
    Ok(Box::new(workload))
}

impl Workload for Trees {
    fn run(&self, heap: &Heap) -> Checksum {
        let mut checksum = Checksum::new();
        match self.variant {
            Variant::GcBench { stretch_depth, long_lived_depth, max_depth } => {
                let shape = Shape { parents: self.parents, leaf_ints: true };
                gcbench(heap, shape, stretch_depth, long_lived_depth, max_depth, &mut checksum);
            }
            Variant::BinaryTrees { n } => {
                for line in binary_trees(heap, n, self.parents) {
                    line.bytes().for_each(|b| checksum.mix(b as u64));
                }
            }
        }
        checksum
    }
}

/// Nodes in a complete binary tree of depth `depth`.
fn tree_size(depth: u32) -> u64 {
    (1 << (depth + 1)) - 1
}

/// How nodes are laid out: GCBench nodes carry two ints; with parents they carry a back edge.
#[derive(Clone, Copy, Debug)]
struct Shape {
    parents: bool,
    leaf_ints: bool,
}

impl Shape {
    /// Slot of the parent back edge.
    fn parent_slot(self) -> usize {
        if self.leaf_ints { 4 } else { 2 }
    }

    fn new_node<'h>(self, heap: &'h Heap) -> Handle<'h> {
        let slots = 2 + if self.leaf_ints { 2 } else { 0 } + self.parents as usize;
        let node = heap.instance(slots);
        if self.leaf_ints {
            let zero = heap.int(0);
            heap.set(&node, 2, Some(&zero));
            heap.set(&node, 3, Some(&zero));
        }
        node
    }

    fn link(self, heap: &Heap, parent: &Handle<'_>, left: &Handle<'_>, right: &Handle<'_>) {
        heap.set(parent, LEFT, Some(left));
        heap.set(parent, RIGHT, Some(right));
        if self.parents {
            heap.set_back_edge(left, self.parent_slot(), parent);
            heap.set_back_edge(right, self.parent_slot(), parent);
        }
    }

    /// GCBench's `Populate`: grows `node` top-down to `depth`.
    fn populate(self, heap: &Heap, depth: u32, node: &Handle<'_>) {
        if depth == 0 {
            return;
        }
        let (left, right) = (self.new_node(heap), self.new_node(heap));
        self.link(heap, node, &left, &right);
        self.populate(heap, depth - 1, &left);
        self.populate(heap, depth - 1, &right);
    }

    /// GCBench's `MakeTree`: builds a tree bottom-up.
    fn make_tree(self, heap: &Heap, depth: u32) -> Handle<'_> {
        let node = self.new_node(heap);
        if depth > 0 {
            // The left subtree waits while the right one is built: a local, as in the twin.
            let left = heap.local(self.make_tree(heap, depth - 1));
            let right = self.make_tree(heap, depth - 1);
            self.link(heap, &node, &left, &right);
        }
        node
    }

    /// Walks a whole tree, checking every node's parent edge and integers; returns its size.
    fn count_nodes(self, heap: &Heap, root: &Handle<'_>) -> u64 {
        let mut stack = vec![root.clone()];
        let mut count = 0;
        while let Some(node) = stack.pop() {
            count += 1;
            if self.leaf_ints {
                let ints = [2, 3].map(|slot| heap.get(&node, slot).map(|i| heap.int_value(&i)));
                assert_eq!(ints, [Some(0), Some(0)], "a node lost its integers");
            }
            for side in [LEFT, RIGHT] {
                let Some(child) = heap.get(&node, side) else { continue };
                if self.parents {
                    let parent = heap.get(&child, self.parent_slot());
                    assert!(parent.as_ref() == Some(&node), "a child's parent edge does not lead back to its parent");
                }
                stack.push(child);
            }
        }
        count
    }

    /// Depth of the leftmost path: a cheap check that a temporary tree was really built.
    fn left_spine(self, heap: &Heap, root: &Handle<'_>) -> u64 {
        let mut depth = 0;
        let mut node = root.clone();
        while let Some(left) = heap.get(&node, LEFT) {
            node = left;
            depth += 1;
        }
        depth
    }
}

fn gcbench(
    heap: &Heap,
    shape: Shape,
    stretch_depth: u32,
    long_lived_depth: u32,
    max_depth: u32,
    checksum: &mut Checksum,
) {
    let stretch = shape.make_tree(heap, stretch_depth);
    checksum.mix(shape.count_nodes(heap, &stretch));
    drop(stretch);

    let long_lived = heap.local(shape.new_node(heap));
    shape.populate(heap, long_lived_depth, &long_lived);
    heap.startup_done();

    for depth in (MIN_DEPTH..=max_depth).step_by(2) {
        let iterations = 2 * tree_size(stretch_depth) / tree_size(depth);
        for _ in 0..iterations {
            let tree = heap.local(shape.new_node(heap));
            shape.populate(heap, depth, &tree);
            checksum.mix(shape.left_spine(heap, &tree));
            drop(tree);
            heap.request_done();
        }
        for _ in 0..iterations {
            let tree = shape.make_tree(heap, depth);
            checksum.mix(shape.left_spine(heap, &tree));
            drop(tree);
            heap.request_done();
        }
        checksum.mix(depth as u64);
        checksum.mix(iterations);
    }
    checksum.mix(shape.count_nodes(heap, &long_lived));
}

/// The Benchmarks Game's binary-trees with maximum depth `n`; returns its output lines.
pub fn binary_trees(heap: &Heap, n: u32, parents: bool) -> Vec<String> {
    let shape = Shape { parents, leaf_ints: false };
    let max_depth = n.max(MIN_DEPTH + 2);
    let stretch_depth = max_depth + 1;
    let mut lines = Vec::new();

    let stretch = bottom_up_tree(heap, shape, stretch_depth);
    lines.push(format!("stretch tree of depth {stretch_depth}\t check: {}", item_check(heap, &stretch)));
    drop(stretch);

    let long_lived = bottom_up_tree(heap, shape, max_depth);
    heap.startup_done();
    for depth in (MIN_DEPTH..=max_depth).step_by(2) {
        let iterations = 1u64 << (max_depth - depth + MIN_DEPTH);
        let mut check = 0;
        for _ in 0..iterations {
            check += item_check(heap, &bottom_up_tree(heap, shape, depth));
            heap.request_done();
        }
        lines.push(format!("{iterations}\t trees of depth {depth}\t check: {check}"));
    }
    lines.push(format!("long lived tree of depth {max_depth}\t check: {}", item_check(heap, &long_lived)));
    lines
}

/// A binary-trees node: a 2-tuple `(left, right)`, or an instance with a parent slot.
fn bottom_up_tree(heap: &Heap, shape: Shape, depth: u32) -> Handle<'_> {
    if shape.parents {
        return shape.make_tree(heap, depth);
    }
    if depth == 0 {
        return heap.tuple(&[None, None]);
    }
    let (left, right) = (bottom_up_tree(heap, shape, depth - 1), bottom_up_tree(heap, shape, depth - 1));
    heap.tuple(&[Some(&left), Some(&right)])
}

/// binary-trees' `check`: the number of nodes.
fn item_check(heap: &Heap, tree: &Handle<'_>) -> u64 {
    let mut stack = vec![tree.clone()];
    let mut count = 0;
    while let Some(node) = stack.pop() {
        count += 1;
        stack.extend([LEFT, RIGHT].into_iter().filter_map(|side| heap.get(&node, side)));
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::heap;

    #[test]
    fn binary_trees_prints_the_published_check_values() {
        let expected = [
            "stretch tree of depth 11\t check: 4095",
            "1024\t trees of depth 4\t check: 31744",
            "256\t trees of depth 6\t check: 32512",
            "64\t trees of depth 8\t check: 32704",
            "16\t trees of depth 10\t check: 32752",
            "long lived tree of depth 10\t check: 2047",
        ];
        for parents in [false, true] {
            for name in ["refcount", "weakref"] {
                assert_eq!(binary_trees(&heap(name), 10, parents), expected, "{name}, parents={parents}");
            }
        }
    }

    #[test]
    fn tree_size_counts_nodes() {
        assert_eq!(tree_size(0), 1);
        assert_eq!(tree_size(4), 31);
        assert_eq!(2 * tree_size(18) / tree_size(4), 33_824); // integer division, as in the Java original
    }
}
