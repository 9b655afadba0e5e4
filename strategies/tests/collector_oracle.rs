//! The collector against a reachability oracle, on random object graphs (proptest).
//!
//! A graph is a few nodes (instances) with strong, back and weak edges (weakref objects, some
//! with callbacks), finalizers on some nodes, and a set of roots (nodes the test keeps a handle
//! to). The test builds it on a heap, drops every non-root handle, and, for the collecting
//! strategies, runs a full collection. The oracle computes, independently, which objects are
//! reachable from the roots. Then:
//!
//! - collector strategies: exactly the unreachable objects are freed; every reachable node still
//!   has its id and its edges; weakrefs to garbage are cleared, weakrefs to live nodes are not;
//!   a callback runs once for each reachable weakref whose referent is garbage, never twice, and
//!   never for a weakref to a live node; each finalizer of a garbage node runs once, none of a
//!   live node.
//! - `refcount`: what survives is exactly what the roots reach plus everything reachable from a
//!   cycle: the cyclic garbage leaks, nothing else does.
//! - the same for the incremental collector (its automatic increments run while the graph is
//!   built; one `collect(2)` must still finish everything), for trial deletion, and for every collector with back edges stored weakly
//!   (`back-edges=weak`: a back edge is then a weakref object, and following a dead one panics,
//!   so the walk only checks that it is still set).
//! - `weakref` (refcount with weak back edges): as `refcount`, on the graph whose back edges
//!   are weakrefs.
//! - immortal objects (`immortal=true`) under every collector and under `refcount`: the same
//!   graph built before `startup_done` becomes immortal; the one built after it behaves as above
//!   (exactly its unreachable part is freed by a full collection) while mortal references to
//!   the immortal copy come and go; the immortal copy is intact, none of its callbacks or
//!   finalizers ran, the leak report counts it apart, and the teardown frees it.
//! - `nogc`: the same as `refcount`, logically: the same objects survive and leak, the same
//!   callbacks and finalizers run in the same order; every other object is dead but kept
//!   (retained), none returned to the allocator.
//!
//! A failing case shrinks to a short, readable edge list.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

mod common;

use common::{allocator, cases};
use proptest::prelude::*;
use strategies::{FinalizerKind, Handle, Heap, HeapConfig, Local, Phase, WeakCallback, strategy};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EdgeKind {
    Strong,
    Back,
    Weak,
    WeakWithCallback,
}

#[derive(Clone, Copy, Debug)]
struct Edge {
    from: usize,
    to: usize,
    kind: EdgeKind,
}

#[derive(Clone, Debug)]
struct Graph {
    nodes: usize,
    edges: Vec<Edge>,
    roots: Vec<bool>,
    finalizers: Vec<bool>,
    /// Back edges are stored as weakref objects (`back-edges=weak`), not counted references.
    weak_back_edges: bool,
}

/// Objects the test creates, named so the oracle can reason about them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Object {
    Node(usize),
    /// The int atom holding a node's id.
    NodeId(usize),
    /// The weakref object of a weak edge.
    Weakref(usize),
    /// The weakref that every back edge to a node shares when back edges are stored weakly.
    BackEdgeWeakref(usize),
    /// The int atom a weak edge's callback gets as argument.
    CallbackArg(usize),
}

impl Graph {
    /// Counted references between the objects (what refcounting and the collector see).
    fn references(&self) -> BTreeMap<Object, Vec<Object>> {
        let mut refs: BTreeMap<Object, Vec<Object>> = BTreeMap::new();
        for node in 0..self.nodes {
            refs.entry(Object::Node(node)).or_default().push(Object::NodeId(node));
        }
        for (e, edge) in self.edges.iter().enumerate() {
            let from = refs.entry(Object::Node(edge.from)).or_default();
            match edge.kind {
                EdgeKind::Back if self.weak_back_edges => from.push(Object::BackEdgeWeakref(edge.to)),
                EdgeKind::Strong | EdgeKind::Back => from.push(Object::Node(edge.to)),
                EdgeKind::Weak => from.push(Object::Weakref(e)),
                EdgeKind::WeakWithCallback => {
                    from.push(Object::Weakref(e));
                    refs.entry(Object::Weakref(e)).or_default().push(Object::CallbackArg(e));
                }
            }
        }
        refs
    }

    fn closure(&self, start: impl IntoIterator<Item = Object>) -> BTreeSet<Object> {
        let refs = self.references();
        let mut seen: BTreeSet<Object> = BTreeSet::new();
        let mut stack: Vec<Object> = start.into_iter().collect();
        while let Some(object) = stack.pop() {
            if seen.insert(object) {
                stack.extend(refs.get(&object).into_iter().flatten().copied());
            }
        }
        seen
    }

    fn reachable(&self) -> BTreeSet<Object> {
        self.closure((0..self.nodes).filter(|&n| self.roots[n]).map(Object::Node))
    }

    /// Nodes on a cycle of counted references.
    fn cyclic_nodes(&self) -> Vec<Object> {
        let refs = self.references();
        (0..self.nodes)
            .map(Object::Node)
            .filter(|&node| self.closure(refs.get(&node).into_iter().flatten().copied()).contains(&node))
            .collect()
    }

    /// The same graph with its back edges stored weakly.
    fn with_weak_back_edges(&self) -> Graph {
        Graph { weak_back_edges: true, ..self.clone() }
    }

    fn out_degree(&self, node: usize) -> usize {
        self.edges.iter().filter(|e| e.from == node).count()
    }
}

fn graphs() -> impl Strategy<Value = Graph> {
    (1usize..=10)
        .prop_flat_map(|n| {
            let kind = prop_oneof![
                3 => Just(EdgeKind::Strong),
                1 => Just(EdgeKind::Back),
                1 => Just(EdgeKind::Weak),
                1 => Just(EdgeKind::WeakWithCallback),
            ];
            (
                Just(n),
                prop::collection::vec((0..n, 0..n, kind), 0..=3 * n),
                prop::collection::vec(prop::bool::weighted(0.3), n),
                prop::collection::vec(prop::bool::weighted(0.3), n),
            )
        })
        .prop_map(|(nodes, edges, roots, finalizers)| Graph {
            nodes,
            edges: edges.into_iter().map(|(from, to, kind)| Edge { from, to, kind }).collect(),
            roots,
            finalizers,
            weak_back_edges: false,
        })
}

const ID_BASE: i64 = 1000;
const ARG_BASE: i64 = 100_000;

/// What ran while the graph was built, dropped and collected.
#[derive(Default)]
struct Log {
    callbacks: Vec<usize>,
    finalizers: Vec<usize>,
}

/// Builds `graph`; returns the handles of every node (index = node).
fn build<'h>(heap: &'h Heap, graph: &Graph, log: &Rc<RefCell<Log>>) -> Vec<Handle<'h>> {
    let callbacks = Rc::clone(log);
    let callback = heap.register_callback(move |heap, _, arg| {
        let edge = heap.int_value(arg.expect("callback argument")) - ARG_BASE;
        callbacks.borrow_mut().callbacks.push(edge as usize);
    });
    let finalizers = Rc::clone(log);
    let finalizer = heap.register_finalizer(move |heap, node| {
        let id = heap.int_value(&heap.get(node, 0).expect("node id")) - ID_BASE;
        finalizers.borrow_mut().finalizers.push(id as usize);
    });
    let nodes: Vec<Handle<'h>> = (0..graph.nodes)
        .map(|n| {
            let node = heap.instance(1 + graph.out_degree(n));
            heap.set(&node, 0, Some(&heap.int(ID_BASE + n as i64)));
            if graph.finalizers[n] {
                heap.set_finalizer(&node, finalizer, FinalizerKind::Pep442);
            }
            node
        })
        .collect();
    let mut next_slot = vec![1; graph.nodes];
    for (e, edge) in graph.edges.iter().enumerate() {
        let (from, to) = (&nodes[edge.from], &nodes[edge.to]);
        let slot = next_slot[edge.from];
        next_slot[edge.from] += 1;
        match edge.kind {
            EdgeKind::Strong => heap.set(from, slot, Some(to)),
            EdgeKind::Back => heap.set_back_edge(from, slot, to),
            EdgeKind::Weak => heap.set(from, slot, Some(&heap.weakref(to, None))),
            EdgeKind::WeakWithCallback => {
                let arg = heap.int(ARG_BASE + e as i64);
                let weak = heap.weakref(to, Some(WeakCallback { id: callback, arg: Some(&arg) }));
                heap.set(from, slot, Some(&weak));
            }
        }
    }
    nodes
}

fn node_id(heap: &Heap, node: &Handle<'_>) -> usize {
    (heap.int_value(&heap.get(node, 0).expect("a live node keeps its id")) - ID_BASE) as usize
}

/// Checks the graph seen from the roots: every reachable node has its id and its edges.
fn check_reachable_part(heap: &Heap, graph: &Graph, roots: &BTreeMap<usize, Handle<'_>>, reachable: &BTreeSet<Object>) {
    let mut stack: Vec<Handle<'_>> = roots.values().cloned().collect();
    let mut seen = BTreeSet::new();
    while let Some(node) = stack.pop() {
        let n = node_id(heap, &node);
        if !seen.insert(n) {
            continue;
        }
        for (slot, edge) in (1..).zip(graph.edges.iter().filter(|e| e.from == n)) {
            if edge.kind == EdgeKind::Back && graph.weak_back_edges && !reachable.contains(&Object::Node(edge.to)) {
                assert!(heap.is_set(&node, slot), "a dead weak back edge stays in its slot");
                continue; // following it would panic: the workload invariant is not kept here
            }
            let value = heap.get(&node, slot).expect("edges of live nodes are intact");
            match edge.kind {
                EdgeKind::Strong | EdgeKind::Back => {
                    assert_eq!(node_id(heap, &value), edge.to, "edge {n} -> {} leads elsewhere", edge.to);
                    stack.push(value);
                }
                EdgeKind::Weak | EdgeKind::WeakWithCallback => {
                    let target = heap.upgrade(&value);
                    if reachable.contains(&Object::Node(edge.to)) {
                        let target = target.expect("a weakref to a live node still works");
                        assert_eq!(node_id(heap, &target), edge.to);
                    } else {
                        assert!(target.is_none(), "weakref {n} -> {} to garbage was not cleared", edge.to);
                    }
                }
            }
        }
    }
    let reachable_nodes: BTreeSet<usize> =
        reachable.iter().filter_map(|o| if let Object::Node(n) = o { Some(*n) } else { None }).collect();
    assert_eq!(seen, reachable_nodes, "the walk from the roots finds exactly the reachable nodes");
}

/// How `check_collector` ends the garbage's life.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Finish {
    /// One full collection, `collect(2)`.
    Full,
    /// Only the incremental collector's automatic increments, driven by allocating (and
    /// keeping) filler lists through enough scavenges: each scavenge frees at least every
    /// garbage cycle that no other garbage refers to, so as many scavenges as there are garbage
    /// containers (plus the one in progress) free everything.
    Increments,
}

/// Allocates filler lists, kept alive, until `scavenges` scavenges of the incremental collector
/// have completed; returns them.
fn drive_increments<'h>(heap: &'h Heap, scavenges: usize) -> Vec<Handle<'h>> {
    let mut fillers = Vec::new();
    let mut completed = 0;
    let mut phase = heap.incremental_status().phase;
    while completed < scavenges {
        fillers.push(heap.list());
        let now = heap.incremental_status().phase;
        if phase == Phase::Collect && now == Phase::Mark {
            completed += 1;
        }
        phase = now;
        assert!(fillers.len() < 5_000, "the increments stopped making progress");
    }
    fillers
}

fn heap_with(strategy_name: &str, params: &[(&str, &str)]) -> Heap {
    let params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Heap::new(
        HeapConfig { allocator: allocator(), ..HeapConfig::default() },
        strategy::find(strategy_name).unwrap().build(&params).unwrap(),
    )
}

fn check_collector(strategy_name: &str, params: &[(&str, &str)], graph: &Graph) {
    check_collector_with(strategy_name, params, graph, Finish::Full);
}

fn check_collector_with(strategy_name: &str, params: &[(&str, &str)], graph: &Graph, finish: Finish) {
    let heap = heap_with(strategy_name, params);
    check_collection(&heap, graph, finish);
}

/// Builds `graph` on `heap`, drops every non-root handle, ends the garbage's life as `finish`
/// says (a full collection, or automatic increments only) and checks
/// the outcome against the oracle.
fn check_collection(heap: &Heap, graph: &Graph, finish: Finish) {
    let baseline = heap.stats().live_objects;
    let log = Rc::new(RefCell::new(Log::default()));
    let nodes = build(heap, graph, &log);
    if finish == Finish::Increments {
        heap.collect(2); // nothing is garbage yet: the whole graph goes to the pending space
    }
    let roots: BTreeMap<usize, Handle<'_>> = nodes.into_iter().enumerate().filter(|(n, _)| graph.roots[*n]).collect();
    // Every other root is also registered as a local: the incremental collector's mark starts
    // from those and must find the others by itself.
    let _locals: Vec<Local<'_>> = roots.values().step_by(2).map(|root| heap.local(root.clone())).collect();
    let fillers = match finish {
        Finish::Full => {
            heap.collect(2);
            Vec::new()
        }
        Finish::Increments => drive_increments(heap, graph.nodes + graph.edges.len() + 2),
    };

    let reachable = graph.reachable();
    assert_eq!(
        heap.stats().live_objects - baseline - fillers.len() as u64,
        reachable.len() as u64,
        "exactly the unreachable objects are freed"
    );
    check_reachable_part(heap, graph, &roots, &reachable);

    let log = log.borrow();
    let mut callbacks = log.callbacks.clone();
    callbacks.sort_unstable();
    let mut once = callbacks.clone();
    once.dedup();
    assert_eq!(callbacks, once, "a callback ran twice");
    for (e, edge) in graph.edges.iter().enumerate() {
        if edge.kind != EdgeKind::WeakWithCallback || !reachable.contains(&Object::Weakref(e)) {
            continue; // a weakref that died may or may not have seen its referent die first
        }
        let ran = callbacks.contains(&e);
        let referent_dead = !reachable.contains(&Object::Node(edge.to));
        assert_eq!(ran, referent_dead, "edge {e}: callback ran = {ran}, referent dead = {referent_dead}");
    }
    let mut finalized = log.finalizers.clone();
    finalized.sort_unstable();
    let expected: Vec<usize> =
        (0..graph.nodes).filter(|&n| graph.finalizers[n] && !reachable.contains(&Object::Node(n))).collect();
    assert_eq!(finalized, expected, "each garbage node's finalizer runs once, no live node's");
}

/// `graph` built before `startup_done` under `immortal=true` (all of it held by one list, so
/// all of it immortal), then built again after it, with mortal references to the immortal copy
/// made and dropped, and checked against the oracle.
fn check_immortal(strategy_name: &str, params: &[(&str, &str)], graph: &Graph) {
    let params: Vec<(&str, &str)> = params.iter().copied().chain([("immortal", "true")]).collect();
    let heap = heap_with(strategy_name, &params);
    let old_log = Rc::new(RefCell::new(Log::default()));
    let holder = heap.list();
    for node in build(&heap, graph, &old_log) {
        heap.list_append(&holder, &node);
    }
    heap.startup_done();
    let borrowed = heap.list();
    for n in 0..graph.nodes {
        heap.list_append(&borrowed, &heap.get(&holder, n).expect("an immortal node"));
    }
    drop(borrowed); // decrements of immortal objects in a cascade
    check_collection(&heap, graph, Finish::Full);
    let old: BTreeMap<usize, Handle<'_>> = (0..graph.nodes).map(|n| (n, heap.get(&holder, n).unwrap())).collect();
    let everything: BTreeSet<Object> = all_objects(graph);
    let all_nodes = Graph { roots: vec![true; graph.nodes], ..graph.clone() };
    check_reachable_part(&heap, &all_nodes, &old, &everything);
    drop((old, holder));
    heap.collect(2);
    let log = old_log.borrow();
    assert!(log.callbacks.is_empty() && log.finalizers.is_empty(), "nothing immortal died");
    let report = heap.finish();
    assert_eq!(report.leaked.immortal_objects, everything.len() as u64 + 1, "the graph and its holder");
}

/// Every object the test creates for `graph`.
fn all_objects(graph: &Graph) -> BTreeSet<Object> {
    let refs = graph.references();
    refs.keys().chain(refs.values().flatten()).copied().collect()
}

/// Under pure refcounting (`refcount`, and `nogc`, which kills alike): the survivors are what
/// the roots and the cycles reach; once the roots go, exactly the cyclic garbage leaks. Returns
/// the callbacks and finalizers that ran, in order.
fn check_refcount_leaks_exactly_the_cycles(strategy_name: &str, graph: &Graph) -> (Vec<usize>, Vec<usize>) {
    let graph = &if strategy_name == "weakref" { graph.with_weak_back_edges() } else { graph.clone() };
    let heap = Heap::new(
        HeapConfig { allocator: allocator(), ..HeapConfig::default() },
        strategy::find(strategy_name).unwrap().build(&Default::default()).unwrap(),
    );
    let baseline = heap.stats().live_objects;
    let log = Rc::new(RefCell::new(Log::default()));
    let nodes = build(&heap, graph, &log);
    let roots: BTreeMap<usize, Handle<'_>> = nodes.into_iter().enumerate().filter(|(n, _)| graph.roots[*n]).collect();
    let reachable = graph.reachable();
    let survivors: BTreeSet<Object> = graph.closure(reachable.iter().copied().chain(graph.cyclic_nodes()));
    assert_eq!(heap.stats().live_objects - baseline, survivors.len() as u64, "survivors: {survivors:?}");
    drop(roots);
    let leaked = graph.closure(graph.cyclic_nodes());
    let report = heap.finish();
    assert_eq!(report.leaked.objects, leaked.len() as u64, "leaked: {leaked:?}");
    let dead = all_objects(graph).len() - leaked.len();
    let retained = if strategy_name == "nogc" { dead as u64 } else { 0 };
    assert_eq!(report.stats.retained_objects, retained, "the dead are kept under nogc only");
    let log = log.borrow();
    (log.callbacks.clone(), log.finalizers.clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    #[test]
    fn full_collection_frees_exactly_the_unreachable(graph in graphs()) {
        check_collector("manual", &[("freeze", "false"), ("exit-collect", "false")], &graph);
        check_collector("generational", &[("threshold", "5,2,2")], &graph);
        check_collector("incremental", &[("threshold", "3")], &graph);
        check_collector("incremental", &[], &graph);
    }

    #[test]
    fn incremental_increments_free_exactly_the_unreachable(graph in graphs()) {
        check_collector_with("incremental", &[("threshold", "3"), ("scan-rate", "1")], &graph, Finish::Increments);
    }

    #[test]
    fn trial_deletion_frees_exactly_the_unreachable(graph in graphs()) {
        check_collector("trial-deletion", &[("roots", "3")], &graph);
        check_collector("trial-deletion", &[], &graph);
    }

    #[test]
    fn weak_back_edges_under_every_collector(graph in graphs()) {
        let weak = graph.with_weak_back_edges();
        check_collector("manual", &[("freeze", "false"), ("exit-collect", "false"), ("back-edges", "weak")], &weak);
        check_collector("generational", &[("threshold", "5,2,2"), ("back-edges", "weak")], &weak);
        check_collector("incremental", &[("threshold", "3"), ("back-edges", "weak")], &weak);
        check_collector("trial-deletion", &[("roots", "3"), ("back-edges", "weak")], &weak);
        check_refcount_leaks_exactly_the_cycles("weakref", &graph);
    }

    #[test]
    fn immortal_objects_under_every_collector(graph in graphs()) {
        check_immortal("manual", &[("freeze", "false"), ("exit-collect", "false")], &graph);
        check_immortal("generational", &[("threshold", "5,2,2")], &graph);
        check_immortal("generational", &[("threshold", "5,2,2"), ("freeze", "true")], &graph);
        check_immortal("trial-deletion", &[("roots", "3")], &graph);
        check_immortal("incremental", &[("threshold", "3")], &graph);
        check_immortal("refcount", &[], &graph);
        check_immortal("weakref", &[], &graph.with_weak_back_edges());
    }

    #[test]
    fn refcount_leaks_exactly_the_cyclic_garbage(graph in graphs()) {
        check_refcount_leaks_exactly_the_cycles("refcount", &graph);
    }

    #[test]
    fn nogc_kills_exactly_as_refcount_and_returns_nothing(graph in graphs()) {
        let nogc = check_refcount_leaks_exactly_the_cycles("nogc", &graph);
        let refcount = check_refcount_leaks_exactly_the_cycles("refcount", &graph);
        prop_assert_eq!(nogc, refcount, "the same callbacks and finalizers, in the same order");
    }
}
