//! Native baselines: the programs `trees` runs, written in plain Rust, timed beside ours.
//!
//! - **GCBench** (`trees`, `default` size: stretch depth 18, long-lived depth 16, temporary
//!   trees of depths 4..=16), three ways: ours (the `trees` workload under `refcount`, through
//!   the `Heap`), native `Rc<RefCell<Node>>` (reference counted, as ours), and native `Box`
//!   (owned, no counts). Nodes hold left, right and two integers; the same trees are built
//!   top-down and bottom-up in the same order, walked by the same checks, and dropped at the same
//!   points, so the checksums agree (asserted before timing). `ours-retain` is ours with freed
//!   arenas kept mapped (`HeapConfig::arenas`, not the default: it changes CPython's RSS
//!   behaviour), to show what re-mapping freed arenas costs.
//! - **binary-trees** at depth 16: ours (2-tuples through the `Heap`, and `ours-retain`) against
//!   native `Box`; the output lines must agree.
//!
//! Criterion times one function after another; the ratios asked of this bench must come from
//! runs side by side on a noisy shared machine, so the bench has its own loop instead: each round
//! runs every variant once, in an order rotated from round to round, and the bench prints the
//! min and median wall time of each, and its ratios to the native variants: of the minimums, and
//! the median of the ratios taken round by round.
//!
//! Run: `cargo bench -p workloads --bench native -- --rounds 10`
//! (`cargo test --benches` runs one round at small depths, checking only the checksums.)

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use strategies::alloc::ArenaPolicy;
use strategies::{Heap, HeapConfig, strategy};
use workloads::{Checksum, Size, WorkloadArgs};

/// Shallowest temporary trees (GCBench and binary-trees alike).
const MIN_DEPTH: u32 = 4;

/// Depths of one GCBench run.
#[derive(Clone, Copy)]
struct GcBenchDepths {
    stretch: u32,
    long_lived: u32,
    max: u32,
}

/// The `default` preset of `trees`.
const DEFAULT_GCBENCH: GcBenchDepths = GcBenchDepths { stretch: 18, long_lived: 16, max: 16 };
/// The `smoke` preset of `trees`.
const SMOKE_GCBENCH: GcBenchDepths = GcBenchDepths { stretch: 8, long_lived: 6, max: 6 };

fn tree_size(depth: u32) -> u64 {
    (1 << (depth + 1)) - 1
}

// -------------------------------------------------------------------------------------------
// Ours
// -------------------------------------------------------------------------------------------

fn refcount_heap(arenas: Option<ArenaPolicy>) -> Heap {
    let config = HeapConfig { arenas, ..HeapConfig::default() };
    Heap::new(config, strategy::find("refcount").unwrap().build(&Default::default()).unwrap())
}

/// The `trees` workload (GCBench) under `refcount`, as the harness runs it (`arenas: None`), or
/// with freed arenas kept mapped (`Some(Retain)`, not the default: it changes CPython's RSS
/// behaviour), which shows what the page faults of re-mapped arenas cost.
fn ours_gcbench(size: Size, arenas: Option<ArenaPolicy>) -> Checksum {
    let args = WorkloadArgs { size, seed: 0, params: BTreeMap::new() };
    let workload = workloads::find("trees").unwrap().build(&args).unwrap();
    let heap = refcount_heap(arenas);
    let checksum = workload.run(&heap);
    heap.finish();
    checksum
}

/// binary-trees through the heap, 2-tuple nodes (arenas as in [`ours_gcbench`]).
fn ours_binary_trees(n: u32, arenas: Option<ArenaPolicy>) -> Vec<String> {
    let heap = refcount_heap(arenas);
    let lines = workloads::trees::binary_trees(&heap, n, false);
    heap.finish();
    lines
}

// -------------------------------------------------------------------------------------------
// GCBench, native: one generic program over the node representation
// -------------------------------------------------------------------------------------------

/// What GCBench needs of a node representation.
trait Tree: Sized {
    fn new_node() -> Self;
    /// Gives `self` two new children, then grows each to `depth - 1` (GCBench's `Populate`).
    fn populate(&mut self, depth: u32);
    fn link(&mut self, left: Self, right: Self);
    /// Nodes of the tree, checking every node's integers on the way.
    fn count_nodes(&self) -> u64;
    fn left_spine(&self) -> u64;

    /// GCBench's `MakeTree`: bottom-up.
    fn make_tree(depth: u32) -> Self {
        let mut node = Self::new_node();
        if depth > 0 {
            let (left, right) = (Self::make_tree(depth - 1), Self::make_tree(depth - 1));
            node.link(left, right);
        }
        node
    }
}

/// GCBench as `workloads/src/trees.rs` runs it, mixing the same words into the checksum.
fn native_gcbench<T: Tree>(d: GcBenchDepths) -> Checksum {
    let mut checksum = Checksum::new();
    let stretch = T::make_tree(d.stretch);
    checksum.mix(stretch.count_nodes());
    drop(stretch);

    let mut long_lived = T::new_node();
    long_lived.populate(d.long_lived);

    for depth in (MIN_DEPTH..=d.max).step_by(2) {
        let iterations = 2 * tree_size(d.stretch) / tree_size(depth);
        for _ in 0..iterations {
            let mut tree = T::new_node();
            tree.populate(depth);
            checksum.mix(black_box(&tree).left_spine());
        }
        for _ in 0..iterations {
            let tree = T::make_tree(depth);
            checksum.mix(black_box(&tree).left_spine());
        }
        checksum.mix(depth as u64);
        checksum.mix(iterations);
    }
    checksum.mix(long_lived.count_nodes());
    checksum
}

/// A GCBench node with reference-counted children, as a Python object graph would be.
struct RcNode {
    left: Option<Rc<RefCell<RcNode>>>,
    right: Option<Rc<RefCell<RcNode>>>,
    i: i64,
    j: i64,
}

impl Tree for Rc<RefCell<RcNode>> {
    fn new_node() -> Self {
        Rc::new(RefCell::new(RcNode { left: None, right: None, i: 0, j: 0 }))
    }

    fn populate(&mut self, depth: u32) {
        if depth == 0 {
            return;
        }
        let (mut left, mut right) = (Self::new_node(), Self::new_node());
        self.link(left.clone(), right.clone());
        left.populate(depth - 1);
        right.populate(depth - 1);
    }

    fn link(&mut self, left: Self, right: Self) {
        let mut node = self.borrow_mut();
        node.left = Some(left);
        node.right = Some(right);
    }

    fn count_nodes(&self) -> u64 {
        let mut stack = vec![self.clone()];
        let mut count = 0;
        while let Some(node) = stack.pop() {
            count += 1;
            let node = node.borrow();
            assert_eq!((node.i, node.j), (0, 0), "a node lost its integers");
            stack.extend(node.left.iter().chain(&node.right).cloned());
        }
        count
    }

    fn left_spine(&self) -> u64 {
        let mut depth = 0;
        let mut node = self.clone();
        loop {
            let left = node.borrow().left.clone();
            let Some(left) = left else { return depth };
            node = left;
            depth += 1;
        }
    }
}

/// A GCBench node that owns its children.
struct BoxNode {
    left: Option<Box<BoxNode>>,
    right: Option<Box<BoxNode>>,
    i: i64,
    j: i64,
}

impl Tree for Box<BoxNode> {
    fn new_node() -> Self {
        Box::new(BoxNode { left: None, right: None, i: 0, j: 0 })
    }

    fn populate(&mut self, depth: u32) {
        if depth == 0 {
            return;
        }
        self.link(Self::new_node(), Self::new_node());
        self.left.as_mut().unwrap().populate(depth - 1);
        self.right.as_mut().unwrap().populate(depth - 1);
    }

    fn link(&mut self, left: Self, right: Self) {
        self.left = Some(left);
        self.right = Some(right);
    }

    fn count_nodes(&self) -> u64 {
        let mut stack = vec![&**self];
        let mut count = 0;
        while let Some(node) = stack.pop() {
            count += 1;
            assert_eq!((node.i, node.j), (0, 0), "a node lost its integers");
            stack.extend(node.left.iter().chain(&node.right).map(|n| &**n));
        }
        count
    }

    fn left_spine(&self) -> u64 {
        let mut depth = 0;
        let mut node = &**self;
        while let Some(left) = &node.left {
            node = left;
            depth += 1;
        }
        depth
    }
}

// -------------------------------------------------------------------------------------------
// binary-trees, native Box
// -------------------------------------------------------------------------------------------

/// A binary-trees node: `(left, right)`, both present or both absent.
struct Pair {
    children: Option<(Box<Pair>, Box<Pair>)>,
}

fn bottom_up_tree(depth: u32) -> Box<Pair> {
    let children = (depth > 0).then(|| (bottom_up_tree(depth - 1), bottom_up_tree(depth - 1)));
    Box::new(Pair { children })
}

fn item_check(tree: &Pair) -> u64 {
    let mut stack = vec![tree];
    let mut count = 0;
    while let Some(node) = stack.pop() {
        count += 1;
        if let Some((left, right)) = &node.children {
            stack.extend([&**left, &**right]);
        }
    }
    count
}

/// The Benchmarks Game program, printing what `workloads::trees::binary_trees` prints.
fn native_binary_trees(n: u32) -> Vec<String> {
    let max_depth = n.max(MIN_DEPTH + 2);
    let stretch_depth = max_depth + 1;
    let mut lines = Vec::new();
    let stretch = bottom_up_tree(stretch_depth);
    lines.push(format!("stretch tree of depth {stretch_depth}\t check: {}", item_check(&stretch)));
    drop(stretch);
    let long_lived = bottom_up_tree(max_depth);
    for depth in (MIN_DEPTH..=max_depth).step_by(2) {
        let iterations = 1u64 << (max_depth - depth + MIN_DEPTH);
        let check: u64 = (0..iterations).map(|_| item_check(&bottom_up_tree(depth))).sum();
        lines.push(format!("{iterations}\t trees of depth {depth}\t check: {check}"));
    }
    lines.push(format!("long lived tree of depth {max_depth}\t check: {}", item_check(&long_lived)));
    lines
}

// -------------------------------------------------------------------------------------------
// The interleaved runner
// -------------------------------------------------------------------------------------------

/// One program in one representation; `run` returns something the optimiser cannot drop.
struct Variant {
    name: &'static str,
    run: Box<dyn Fn() -> u64>,
    times: Vec<Duration>,
}

fn variant(name: &'static str, run: impl Fn() -> u64 + 'static) -> Variant {
    Variant { name, run: Box::new(run), times: Vec::new() }
}

fn digest(lines: &[String]) -> u64 {
    let mut checksum = Checksum::new();
    lines.iter().flat_map(|l| l.bytes()).for_each(|b| checksum.mix(b as u64));
    checksum.0
}

/// Runs `variants` for `rounds` rounds, rotating the order each round.
fn interleave(variants: &mut [Variant], rounds: usize) {
    for round in 0..rounds {
        for k in 0..variants.len() {
            let v = &mut variants[(round + k) % variants.len()];
            let start = Instant::now();
            black_box((v.run)());
            v.times.push(start.elapsed());
        }
    }
}

/// The minimum and median of `values`.
fn min_median(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let mut values: Vec<f64> = values.into_iter().collect();
    values.sort_by(f64::total_cmp);
    (values[0], values[values.len() / 2])
}

fn millis(times: &[Duration]) -> impl Iterator<Item = f64> + '_ {
    times.iter().map(|t| t.as_secs_f64() * 1e3)
}

/// Prints each variant's min and median, and its ratio to each `anchors` variant two ways: the
/// ratio of the two minimums (each side's best run), and the median of the ratios taken round by
/// round (the two ran seconds apart, on the same machine state).
fn report(title: &str, variants: &[Variant], anchors: &[&str]) {
    println!("{title} ({} rounds)", variants[0].times.len());
    for v in variants {
        let (min, median) = min_median(millis(&v.times));
        let mut line = format!("  {:<14} min {min:8.1} ms  median {median:8.1} ms", v.name);
        for anchor in anchors.iter().filter(|&&a| a != v.name) {
            let a = variants.iter().find(|a| a.name == *anchor).unwrap();
            let (anchor_min, _) = min_median(millis(&a.times));
            let (_, median_ratio) = min_median(v.times.iter().zip(&a.times).map(|(t, at)| t.div_duration_f64(*at)));
            line += &format!("  | /{anchor}: {:.2}x of mins, {:.2}x median of rounds", min / anchor_min, median_ratio);
        }
        println!("{line}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|a| a == "--bench");
    let rounds = args.iter().position(|a| a == "--rounds").map_or(10, |i| args[i + 1].parse().expect("--rounds N"));
    let (size, gcbench_depths, bt_depth, rounds) =
        if benching { (Size::Default, DEFAULT_GCBENCH, 16, rounds) } else { (Size::Smoke, SMOKE_GCBENCH, 6, 1) };

    // The same program: the same checksums and output lines.
    let ours = ours_gcbench(size, None);
    assert_eq!(ours_gcbench(size, Some(ArenaPolicy::Retain)), ours, "arenas retained: GCBench differs");
    assert_eq!(native_gcbench::<Rc<RefCell<RcNode>>>(gcbench_depths), ours, "native Rc GCBench differs");
    assert_eq!(native_gcbench::<Box<BoxNode>>(gcbench_depths), ours, "native Box GCBench differs");
    let ours_lines = ours_binary_trees(bt_depth, None);
    assert_eq!(native_binary_trees(bt_depth), ours_lines, "native binary-trees differs");
    assert_eq!(
        ours_binary_trees(bt_depth, Some(ArenaPolicy::Retain)),
        ours_lines,
        "arenas retained: binary-trees differs"
    );

    let mut gcbench = [
        variant("ours-refcount", move || ours_gcbench(size, None).0),
        variant("ours-retain", move || ours_gcbench(size, Some(ArenaPolicy::Retain)).0),
        variant("rc", move || native_gcbench::<Rc<RefCell<RcNode>>>(gcbench_depths).0),
        variant("box", move || native_gcbench::<Box<BoxNode>>(gcbench_depths).0),
    ];
    let mut binary = [
        variant("ours-refcount", move || digest(&ours_binary_trees(bt_depth, None))),
        variant("ours-retain", move || digest(&ours_binary_trees(bt_depth, Some(ArenaPolicy::Retain)))),
        variant("box", move || digest(&native_binary_trees(bt_depth))),
    ];
    interleave(&mut gcbench, rounds);
    interleave(&mut binary, rounds);
    report(&format!("GCBench, trees {}", size.name()), &gcbench, &["rc", "box"]);
    report(&format!("binary-trees, depth {bt_depth}"), &binary, &["box"]);
}
