//! `churn`: random graph mutation (create, link, unlink, drop), with sizes and degrees drawn
//! from `rand_distr` distributions; the general stress test for every strategy.
//!
//! It stands for long-running programs whose object graph keeps changing shape with no set
//! order: a document model under editing, a game's entity graph, an ORM session, a GUI widget
//! tree. Objects are attached, cross-linked and detached at random, so garbage of every age and
//! shape appears: single objects, whole subtrees, subtrees that hold cycles.
//!
//! **The graph.** A list of `roots` slots holds trees of nodes. A node is an instance whose slot
//! 0 holds its value (an int) followed by `size` edge slots, or, with probability
//! `list-fraction`, a list of `size` value ints to which its edges are appended. Strong edges
//! form a forest hanging from the roots: exactly one strong edge points at each node. Every
//! other edge is a back edge (`set_back_edge`) from a node to an instance on its strong path
//! from the root, itself included, so it closes a cycle. Nodes never move, so an ancestor stays
//! an ancestor for as long as both live, and if it dies the node holding the back edge dies with
//! it: a back edge is never the only thing keeping its target alive. Edges need no bookkeeping:
//! walking down from a root, an edge is a back edge exactly when it points at a node on the
//! walk's path.
//!
//! **Operations.** Each operation walks from a random root slot down random strong edges,
//! going one level deeper with probability `descend` (and stopping at a node without strong
//! edges). At the node where the walk stops, the holder:
//! - *create*: a new node is stored in the holder (in the root slot if it was empty), then gets
//!   Poisson(`degree-mean`) back edges to random instances on its path, itself included;
//! - *link*: the holder gets a back edge to a random instance on its path;
//! - *unlink*: a random back edge of the holder is removed;
//! - *drop*: the strong edge into the holder is cleared (the root slot, for a root), and its
//!   whole subtree becomes garbage: cyclic garbage if a back edge inside it points inside it.
//!
//! Storing into a list appends. Storing into an instance fills a random empty edge slot or, if
//! none is left, overwrites a random one, as an attribute assignment does: the subtree or back
//! edge it held is released. `initial` create operations build the long-lived graph; then
//! `operations` operations are drawn with the weights `mix` (create:link:unlink:drop). With the
//! defaults the graph settles at about 8 nodes per root slot (about 17,000 nodes at `default`),
//! and nearly half of the nodes created end up as cyclic garbage, at every age: dropped just
//! after creation or after surviving long in the old generations.
//!
//! **Distributions** (`rand_distr` 0.6 drawing from [`SplitMix64`]; every uniform they draw is
//! `rand`'s `random::<f64>()`, which is our `unit()`, and the twin repeats their samplers
//! operation for operation, with the same libm `pow`, `exp` and `log`):
//! - sizes: `Zipf(max-size, size-exponent)`, Jason Crease's rejection sampler: an inverse-CDF
//!   draw from a continuous envelope and one uniform to accept, usually on the first try.
//!   Values lie in `1..=max-size`; exponent 0 is uniform.
//! - degrees: `Poisson(degree-mean)`, which below a mean of 12 is Knuth's method: multiply
//!   uniforms until the product falls to e^−mean or below; the number of factors minus one.
//!   From 12 up `rand_distr` switches to a rejection sampler built on normal and exponential
//!   draws that the twin does not reproduce, so `degree-mean` is refused there. 0 means no
//!   back edges at creation (nothing drawn).
//!
//! **The same result under every strategy.** The program only reads what it reaches from the
//! roots: down strong edges, or along back edges from reachable nodes, which lead to reachable
//! ancestors. A subtree once dropped is never read again, whether it is freed at once
//! (`refcount` when acyclic, `weakref` always, back edges being weak references there), found by
//! the cycle collector later (`generational`, `manual`) or leaked forever (`refcount`).
//!
//! **Checksum**: every drawn size and degree; for every operation its kind, the walk's depth,
//! the holder's value and the outcome (what a store overwrote: nothing, a subtree or a back
//! edge; or a miss, when there was nothing to act on); at the end a walk of the whole reachable
//! graph mixing every node's value, kind, length and back-edge distances, and the node count.
//!
//! Checkpoints: `startup_done` after the `initial` create operations, `request_done` every
//! `request-ops` operations.
//!
//! **Against CPython.** The twin (`workloads/python/churn.py`) makes the same tracked objects
//! in the same order with the same lifetimes. At `default`, seed 1, CPython 3.11.7 ran 340, 30
//! and 2 collections of generations 0, 1 and 2 and collected 5,016, 53,341 and 128,980
//! objects in them; this workload under `generational` ran 342, 31 and 2 and collected 5,070,
//! 54,072 and 127,954: all within 4 %. Collections are rare for the work done, about one per
//! 3,000 operations, because refcounting frees most garbage and every free lowers the gen-0
//! count; what triggers them is the cyclic garbage.

use std::ops::Range;

use rand_distr::{Distribution, Poisson, Zipf};
use strategies::params::Defaults::{BySize, Fixed};
use strategies::params::{Float, Int, Ints, Param, ParamError, Reader};
use strategies::{Handle, Heap, Kind};

use crate::rng::SplitMix64;
use crate::{Checksum, Workload, WorkloadInfo};

pub(crate) const INFO: WorkloadInfo = WorkloadInfo {
    name: "churn",
    summary: "random graph mutation (create, link, unlink, drop) with Zipf sizes and Poisson degrees",
    params: &[
        &OPERATIONS,
        &INITIAL,
        &ROOTS,
        &MAX_SIZE,
        &SIZE_EXPONENT,
        &LIST_FRACTION,
        &DEGREE_MEAN,
        &DESCEND,
        &MIX,
        &REQUEST_OPS,
    ],
    build,
};

const OPERATIONS: Param<Int<u64>> = Param::new(
    "operations",
    Int::at_least(0),
    BySize([10_000, 100_000, 1_000_000, 10_000_000]),
    "random operations after startup",
);
const INITIAL: Param<Int<u64>> = Param::new(
    "initial",
    Int::at_least(0),
    BySize([200, 2_000, 20_000, 200_000]),
    "create operations that build the long-lived graph before startup_done",
);
const ROOTS: Param<Int<u64>> =
    Param::new("roots", Int::at_least(1), BySize([20, 200, 2_000, 20_000]), "root slots the trees hang from");
/// Sizes above 1000 are refused: a node with a thousand edges is no longer a graph node.
const MAX_SIZE: Param<Int<u64>> = Param::new(
    "max-size",
    Int::new(1, 1000),
    Fixed(8),
    "largest size drawn: edge slots of an instance, value items of a list",
);
const SIZE_EXPONENT: Param<Float> = Param::new(
    "size-exponent",
    Float::at_least(0.0),
    Fixed(1.2),
    "exponent of the Zipf distribution of sizes (0 = uniform)",
);
const LIST_FRACTION: Param<Float> =
    Param::new("list-fraction", Float::PROBABILITY, Fixed(0.25), "probability that a new node is a list");
/// `rand_distr`'s Poisson uses Knuth's method below a mean of 12, and from 12 up a rejection
/// sampler that the Python twin does not reproduce.
const DEGREE_MEAN: Param<Float> = Param::new(
    "degree-mean",
    Float::below(0.0, 12.0),
    Fixed(0.5),
    "mean of the Poisson number of back edges a new node gets (the twin reproduces Knuth's sampler, used below 12)",
);
const DESCEND: Param<Float> =
    Param::new("descend", Float::PROBABILITY, Fixed(0.8), "probability that a walk goes one level deeper");
const MIX: Param<Ints<4>> = Param::new(
    "mix",
    Ints { labels: ["create", "link", "unlink", "drop"], separator: ':', each: Int::at_least(0), presets: &[] },
    Fixed([50, 20, 20, 10]),
    "weights of the operations create:link:unlink:drop (at least one positive)",
);
const REQUEST_OPS: Param<Int<u64>> =
    Param::new("request-ops", Int::at_least(1), Fixed(100), "operations per request_done");

/// Node values are drawn from `0..VALUE_RANGE`; `VALUE_RANGE` itself stands for "no node" in
/// the checksum.
const VALUE_RANGE: u64 = 1000;
/// Slot 0 of an instance, item 0 of a list: the node's value.
const VALUE: usize = 0;

/// What an edge slot (or list item) holds, seen from a walk's path. Also an operation's
/// outcome: what a store overwrote, or what an unlink or drop removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    Empty = 0,
    Value = 1,
    Child = 2,
    BackEdge = 3,
}

/// The outcome of an operation that found nothing to act on.
const MISS: u64 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    Create = 0,
    Link = 1,
    Unlink = 2,
    Drop = 3,
}

const OPERATION_KINDS: [Operation; 4] = [Operation::Create, Operation::Link, Operation::Unlink, Operation::Drop];

#[derive(Debug)]
struct Churn {
    seed: u64,
    operations: u64,
    initial: u64,
    roots: u64,
    max_size: u64,
    size_exponent: f64,
    list_fraction: f64,
    degree_mean: f64,
    descend: f64,
    mix: [u64; 4],
    request_ops: u64,
}

fn build(p: &mut Reader, seed: u64) -> Result<Box<dyn Workload>, ParamError> {
    let workload = Churn {
        seed,
        operations: p.get(&OPERATIONS)?,
        initial: p.get(&INITIAL)?,
        roots: p.get(&ROOTS)?,
        max_size: p.get(&MAX_SIZE)?,
        size_exponent: p.get(&SIZE_EXPONENT)?,
        list_fraction: p.get(&LIST_FRACTION)?,
        degree_mean: p.get(&DEGREE_MEAN)?,
        descend: p.get(&DESCEND)?,
        mix: p.get(&MIX)?,
        request_ops: p.get(&REQUEST_OPS)?,
    };
    if workload.mix.iter().all(|&w| w == 0) {
        return Err(p.invalid(&MIX, "0:0:0:0", "at least one weight must be positive"));
    }
    Ok(Box::new(workload))
}

impl Workload for Churn {
    fn run(&self, heap: &Heap) -> Checksum {
        let mut run = Run::new(self, heap);
        for _ in 0..self.initial {
            run.operate(Operation::Create);
        }
        heap.startup_done();
        for done in 1..=self.operations {
            let operation = run.draw_operation();
            run.operate(operation);
            if done % self.request_ops == 0 {
                heap.request_done();
            }
        }
        run.digest_graph();
        run.checksum
    }
}

/// The distribution of node sizes.
fn sizes(max_size: u64, exponent: f64) -> Zipf<f64> {
    Zipf::new(max_size as f64, exponent).expect("checked in build")
}

/// The distribution of back edges per new node, if any.
fn degrees(mean: f64) -> Option<Poisson<f64>> {
    (mean > 0.0).then(|| Poisson::new(mean).expect("checked in build"))
}

/// Where a walk stopped: the root slot it started from, the nodes from that root down to the
/// holder, and the position of each node in the one above (the root slot for the first).
struct Path<'h> {
    root: usize,
    nodes: Vec<Handle<'h>>,
    positions: Vec<usize>,
}

/// One run's state: the generator, the distributions, the roots and the checksum.
struct Run<'h> {
    heap: &'h Heap,
    rng: SplitMix64,
    checksum: Checksum,
    sizes: Zipf<f64>,
    max_size: u64,
    degrees: Option<Poisson<f64>>,
    list_fraction: f64,
    descend: f64,
    mix: [u64; 4],
    roots: Handle<'h>,
}

impl<'h> Run<'h> {
    fn new(churn: &Churn, heap: &'h Heap) -> Run<'h> {
        let roots = heap.list();
        for _ in 0..churn.roots {
            heap.list_append(&roots, &heap.int(0));
        }
        for root in 0..churn.roots as usize {
            heap.set(&roots, root, None);
        }
        Run {
            heap,
            rng: SplitMix64::new(churn.seed),
            checksum: Checksum::new(),
            sizes: sizes(churn.max_size, churn.size_exponent),
            max_size: churn.max_size,
            degrees: degrees(churn.degree_mean),
            list_fraction: churn.list_fraction,
            descend: churn.descend,
            mix: churn.mix,
            roots,
        }
    }

    // ----- drawing ---------------------------------------------------------------------

    fn draw_size(&mut self) -> u64 {
        let size = (self.sizes.sample(&mut self.rng) as u64).min(self.max_size);
        self.checksum.mix(size);
        size
    }

    fn draw_degree(&mut self) -> u64 {
        let degree = self.degrees.map_or(0, |d| d.sample(&mut self.rng) as u64);
        self.checksum.mix(degree);
        degree
    }

    fn draw_operation(&mut self) -> Operation {
        let mut pick = self.rng.below(self.mix.iter().sum());
        for (operation, weight) in OPERATION_KINDS.into_iter().zip(self.mix) {
            if pick < weight {
                return operation;
            }
            pick -= weight;
        }
        unreachable!("the pick lies below the sum of the weights")
    }

    /// A list of `size` values, or an instance of a value and `size` empty edge slots.
    fn new_node(&mut self) -> Handle<'h> {
        let heap = self.heap;
        let size = self.draw_size();
        if self.rng.chance(self.list_fraction) {
            let node = heap.list();
            for _ in 0..size {
                heap.list_append(&node, &heap.int(self.rng.below(VALUE_RANGE) as i64));
            }
            node
        } else {
            let node = heap.instance(1 + size as usize);
            heap.set(&node, VALUE, Some(&heap.int(self.rng.below(VALUE_RANGE) as i64)));
            node
        }
    }

    // ----- walking ---------------------------------------------------------------------

    /// Picks a root slot and walks down strong edges from the node in it, if any.
    fn walk(&mut self) -> Path<'h> {
        let heap = self.heap;
        let root = self.rng.index(heap.len(&self.roots));
        let mut path = Path { root, nodes: Vec::new(), positions: Vec::new() };
        let Some(first) = heap.get(&self.roots, root) else { return path };
        path.nodes.push(first);
        path.positions.push(root);
        while self.rng.chance(self.descend) {
            let node = path.nodes.last().expect("the path starts at a root");
            let count = count_edges(heap, node, &path.nodes, Held::Child);
            if count == 0 {
                break;
            }
            let position = nth_edge(heap, node, &path.nodes, Held::Child, self.rng.index(count));
            let child = heap.get(node, position).expect("a child edge is set");
            path.nodes.push(child);
            path.positions.push(position);
        }
        path
    }

    // ----- operations ------------------------------------------------------------------

    fn operate(&mut self, operation: Operation) {
        let heap = self.heap;
        let mut path = self.walk();
        self.checksum.mix(operation as u64);
        self.checksum.mix(path.nodes.len() as u64);
        self.checksum.mix(path.nodes.last().map_or(VALUE_RANGE, |holder| value_of(heap, holder)));
        let outcome = match operation {
            Operation::Create => Some(self.create(&mut path)),
            _ if path.nodes.is_empty() => None,
            Operation::Link => {
                let holder = path.nodes.last().expect("not empty");
                self.add_back_edge(holder, &path.nodes)
            }
            Operation::Unlink => self.unlink(&path.nodes),
            Operation::Drop => Some(self.drop_holder(&path)),
        };
        self.checksum.mix(outcome.map_or(MISS, |held| held as u64));
    }

    /// Creates a node, stores it in the holder (or the empty root slot) and gives it back edges.
    fn create(&mut self, path: &mut Path<'h>) -> Held {
        let node = self.new_node();
        let outcome = match path.nodes.last() {
            Some(holder) => self.store(holder, &path.nodes, &node, false),
            None => {
                self.heap.set(&self.roots, path.root, Some(&node));
                Held::Empty
            }
        };
        path.nodes.push(node.clone());
        for _ in 0..self.draw_degree() {
            let outcome = self.add_back_edge(&node, &path.nodes);
            self.checksum.mix(outcome.map_or(MISS, |held| held as u64));
        }
        outcome
    }

    /// Stores a back edge from `holder` to a random instance on `path`; `None` if there is none.
    fn add_back_edge(&mut self, holder: &Handle<'h>, path: &[Handle<'h>]) -> Option<Held> {
        let count = count_instances(self.heap, path);
        if count == 0 {
            return None;
        }
        let target = nth_instance(self.heap, path, self.rng.index(count));
        Some(self.store(holder, path, target, true))
    }

    /// Appends `target` to a list holder, or stores it in a random empty edge slot of an
    /// instance holder (a random edge slot if none is empty); returns what the slot held.
    fn store(&mut self, holder: &Handle<'h>, path: &[Handle<'h>], target: &Handle<'h>, back_edge: bool) -> Held {
        let heap = self.heap;
        if heap.kind(holder) == Kind::List {
            let position = heap.len(holder);
            if back_edge {
                heap.list_append(holder, &heap.int(0));
                heap.set_back_edge(holder, position, target);
            } else {
                heap.list_append(holder, target);
            }
            return Held::Empty;
        }
        let empty = count_edges(heap, holder, path, Held::Empty);
        let slot = if empty > 0 {
            nth_edge(heap, holder, path, Held::Empty, self.rng.index(empty))
        } else {
            1 + self.rng.index(heap.len(holder) - 1)
        };
        let outcome = held(heap, holder, slot, path);
        if back_edge {
            heap.set_back_edge(holder, slot, target);
        } else {
            heap.set(holder, slot, Some(target));
        }
        outcome
    }

    /// Removes a random back edge of the holder; `None` if it has none.
    fn unlink(&mut self, path: &[Handle<'h>]) -> Option<Held> {
        let holder = path.last().expect("not empty");
        let count = count_edges(self.heap, holder, path, Held::BackEdge);
        if count == 0 {
            return None;
        }
        clear(self.heap, holder, nth_edge(self.heap, holder, path, Held::BackEdge, self.rng.index(count)));
        Some(Held::BackEdge)
    }

    /// Clears the strong edge into the holder: its subtree becomes garbage once `path` is gone.
    fn drop_holder(&mut self, path: &Path<'h>) -> Held {
        match path.nodes.len() {
            1 => self.heap.set(&self.roots, path.root, None),
            len => clear(self.heap, &path.nodes[len - 2], path.positions[len - 1]),
        }
        Held::Child
    }

    // ----- the final walk --------------------------------------------------------------

    /// Walks every node reachable from the roots, depth first, mixing each one's value, kind,
    /// length and back-edge distances, then the node count.
    fn digest_graph(&mut self) {
        let heap = self.heap;
        let mut nodes = 0;
        let mut path: Vec<Handle<'h>> = Vec::new();
        let mut stack: Vec<(Handle<'h>, usize)> = Vec::new();
        for root in 0..heap.len(&self.roots) {
            let Some(node) = heap.get(&self.roots, root) else {
                self.checksum.mix(VALUE_RANGE);
                continue;
            };
            stack.push((node, 0));
            while let Some((node, depth)) = stack.pop() {
                nodes += 1;
                self.checksum.mix(value_of(heap, &node));
                self.checksum.mix((heap.kind(&node) == Kind::List) as u64);
                self.checksum.mix(heap.len(&node) as u64);
                path.truncate(depth);
                path.push(node);
                let node = &path[depth];
                for position in edge_positions(heap, node) {
                    let Some(target) = heap.get(node, position) else { continue };
                    if heap.kind(&target) == Kind::Int {
                        continue;
                    }
                    match index_on(&path, &target) {
                        Some(ancestor) => self.checksum.mix((depth - ancestor) as u64),
                        None => stack.push((target, depth + 1)),
                    }
                }
            }
            path.clear();
        }
        self.checksum.mix(nodes);
    }
}

fn value_of(heap: &Heap, node: &Handle<'_>) -> u64 {
    heap.int_value(&heap.get(node, VALUE).expect("a node has a value")) as u64
}

/// Where a node's edges can be: every item of a list (its values are ints), the slots after
/// the value of an instance.
fn edge_positions(heap: &Heap, node: &Handle<'_>) -> Range<usize> {
    let len = heap.len(node);
    if heap.kind(node) == Kind::List { 0..len } else { VALUE + 1..len }
}

/// Clears an edge: a list item is removed, an instance slot emptied.
fn clear(heap: &Heap, holder: &Handle<'_>, position: usize) {
    if heap.kind(holder) == Kind::List {
        heap.list_remove(holder, position);
    } else {
        heap.set(holder, position, None);
    }
}

fn index_on(path: &[Handle<'_>], target: &Handle<'_>) -> Option<usize> {
    path.iter().position(|node| node == target)
}

/// What `node` holds at `position`: a back edge exactly when it points at a node on `path`.
fn held(heap: &Heap, node: &Handle<'_>, position: usize, path: &[Handle<'_>]) -> Held {
    match heap.get(node, position) {
        None => Held::Empty,
        Some(target) if heap.kind(&target) == Kind::Int => Held::Value,
        Some(target) if index_on(path, &target).is_some() => Held::BackEdge,
        Some(_) => Held::Child,
    }
}

fn count_edges(heap: &Heap, node: &Handle<'_>, path: &[Handle<'_>], kind: Held) -> usize {
    edge_positions(heap, node).filter(|&position| held(heap, node, position, path) == kind).count()
}

fn nth_edge(heap: &Heap, node: &Handle<'_>, path: &[Handle<'_>], kind: Held, n: usize) -> usize {
    edge_positions(heap, node)
        .filter(|&position| held(heap, node, position, path) == kind)
        .nth(n)
        .expect("fewer edges than counted")
}

/// Instances on the path: the nodes a back edge may point at.
fn count_instances(heap: &Heap, path: &[Handle<'_>]) -> usize {
    path.iter().filter(|node| heap.kind(node) == Kind::Instance).count()
}

fn nth_instance<'p, 'h>(heap: &Heap, path: &'p [Handle<'h>], n: usize) -> &'p Handle<'h> {
    path.iter().filter(|node| heap.kind(node) == Kind::Instance).nth(n).expect("fewer instances than counted")
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use crate::testing::{heap, refusal, smoke};

    use super::*;

    const DRAWS: usize = 3000;

    /// Draws `DRAWS` samples from `distribution` with `SplitMix64::new(seed)`.
    fn rust_samples<D: Distribution<f64>>(distribution: D, seed: u64) -> Vec<u64> {
        let mut rng = SplitMix64::new(seed);
        (0..DRAWS).map(|_| distribution.sample(&mut rng) as u64).collect()
    }

    /// Draws `DRAWS` samples with the twin's sampler `constructor` (Python source) from
    /// `SplitMix64(seed)` under `python3`.
    fn python_samples(constructor: &str, seed: u64) -> Vec<u64> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
        let script = format!(
            "import sys; sys.path.insert(0, sys.argv[1])\n\
             from common import SplitMix64\nfrom churn import Poisson, Zipf\n\
             d, rng = {constructor}, SplitMix64({seed})\n\
             print(*[int(d.sample(rng)) for _ in range({DRAWS})])"
        );
        let output = Command::new("python3").args(["-c", &script]).arg(&dir).output().expect("python3");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().split_whitespace().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn the_twin_draws_what_rand_distr_draws() {
        for (n, s) in [(8.0, 1.2), (8.0, 1.0), (3.0, 0.0), (50.0, 0.5), (1000.0, 2.5)] {
            let ours = rust_samples(Zipf::new(n, s).unwrap(), 11);
            assert_eq!(python_samples(&format!("Zipf({n:?}, {s:?})"), 11), ours, "Zipf({n}, {s})");
            assert!(ours.iter().all(|&x| (1..=n as u64).contains(&x)), "Zipf({n}, {s}) out of range");
        }
        for mean in [0.5, 3.0, 11.9] {
            let ours = rust_samples(Poisson::new(mean).unwrap(), 12);
            assert_eq!(python_samples(&format!("Poisson({mean:?})"), 12), ours, "Poisson({mean})");
            let average = ours.iter().sum::<u64>() as f64 / DRAWS as f64;
            assert!((average - mean).abs() < 0.1 * mean + 0.05, "Poisson({mean}) averaged {average}");
        }
    }

    fn leaked(params: &[(&str, &str)], strategy: &str) -> u64 {
        let program = INFO.build(&smoke(3, params)).unwrap();
        let heap = heap(strategy);
        program.run(&heap);
        heap.finish().leaked.objects
    }

    #[test]
    fn cycles_appear_only_through_back_edges() {
        assert!(leaked(&[], "refcount") > 0, "the default mix makes cyclic garbage");
        assert_eq!(leaked(&[], "weakref"), 0);
        assert_eq!(leaked(&[("degree-mean", "0"), ("mix", "60:0:0:40")], "refcount"), 0);
    }

    #[test]
    fn impossible_parameters_are_refused() {
        let error = |name: &str, value: &str| refusal(&INFO, &[(name, value)]);
        assert!(error("roots", "0").ends_with("`roots` = `0`: out of range (at least 1)"));
        assert!(error("roots", "99999999999999999999").ends_with("out of range (max 18446744073709551615)"));
        assert!(error("max-size", "1001").ends_with("out of range (max 1000)"));
        assert!(error("size-exponent", "-1").ends_with("out of range (at least 0)"));
        assert!(error("size-exponent", "inf").contains("expected a finite number (>= 0)"));
        assert!(error("descend", "1.5").ends_with("out of range (max 1)"));
        assert!(error("degree-mean", "12").ends_with("out of range (below 12)"));
        assert!(error("request-ops", "0").ends_with("out of range (at least 1)"));
        assert!(error("mix", "1:2:3").contains("expected 4 integers create:link:unlink:drop"));
        assert!(error("mix", "0:0:0:0").contains("at least one weight"));
        assert!(error("mix", "1:-2:0:0").ends_with("link out of range (at least 0)"));
    }
}
