//! The cycle collector against CPython 3.11: the classic examples, each with the figures
//! CPython 3.11.7 printed on this machine (scripts in `tests/cpython/`, run by
//! `tests/cpython_examples.rs`), and the generation mechanics (counts, thresholds, the 25% rule).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

mod common;

use common::allocator;
use strategies::{FinalizerKind, GenerationStats, Handle, Heap, HeapConfig, WeakCallback, strategy};

fn heap_with(strategy_name: &str, params: &[(&str, &str)]) -> Heap {
    let params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let strategy = strategy::find(strategy_name).unwrap().build(&params).unwrap();
    Heap::new(HeapConfig { allocator: allocator(), ..HeapConfig::default() }, strategy)
}

/// `gc.disable()`: the collector runs only when asked (the classic examples collect by hand).
fn disabled() -> Heap {
    heap_with("manual", &[("freeze", "false"), ("exit-collect", "false")])
}

/// Two slotted instances referring to each other (`class S: __slots__ = ('other', '__weakref__')`).
fn two_node_cycle(heap: &Heap) -> (Handle<'_>, Handle<'_>) {
    let a = heap.instance(1);
    let b = heap.instance(1);
    heap.set(&a, 0, Some(&b));
    heap.set(&b, 0, Some(&a));
    (a, b)
}

#[test]
fn two_node_cycle_is_collected() {
    let heap = disabled();
    let baseline = heap.stats().live_objects;
    drop(two_node_cycle(&heap));
    assert_eq!(heap.stats().live_objects, baseline + 2, "refcounting alone cannot free a cycle");
    let collection = heap.collect(2);
    assert_eq!(collection.unreachable(), 2); // CPython 3.11.7: gc.collect() -> 2
    assert_eq!(heap.stats().live_objects, baseline);
    assert_eq!(heap.gc_stats()[2], GenerationStats { collections: 1, collected: 2, uncollectable: 0 });
    assert_eq!(heap.collect(2).unreachable(), 0);
}

#[test]
fn list_containing_itself_is_collected() {
    let heap = disabled();
    let list = heap.list();
    heap.list_append(&list, &list);
    drop(list);
    assert_eq!(heap.collect(2).unreachable(), 1); // CPython: l = []; l.append(l); del l -> 1
    let dict = heap.dict();
    heap.dict_set(&dict, 1, &dict);
    drop(dict);
    assert_eq!(heap.collect(2).unreachable(), 1); // CPython: d['self'] = d -> 1
}

#[test]
fn weakref_callback_runs_once_for_a_live_weakref_to_garbage() {
    let heap = disabled();
    let calls = Rc::new(Cell::new(0));
    let counter = Rc::clone(&calls);
    let callback = heap.register_callback(move |heap, weak, _| {
        assert!(heap.upgrade(weak).is_none(), "w() is None inside the callback");
        counter.set(counter.get() + 1);
    });
    let (a, b) = two_node_cycle(&heap);
    let weak = heap.weakref(&a, Some(WeakCallback { id: callback, arg: None }));
    drop((a, b));
    assert_eq!(heap.collect(2).unreachable(), 2); // CPython: 2, callback runs once
    assert_eq!(calls.get(), 1);
    assert!(heap.upgrade(&weak).is_none());
    assert_eq!(heap.collect(2).unreachable(), 0);
    assert_eq!(calls.get(), 1);
}

#[test]
fn weakref_that_is_garbage_gets_no_callback() {
    let heap = disabled();
    let calls = Rc::new(Cell::new(0));
    let counter = Rc::clone(&calls);
    let callback = heap.register_callback(move |_, _, _| counter.set(counter.get() + 1));
    // a -> b -> list -> a, and the list holds ref(a, cb): a, b, list and the weakref are garbage.
    let a = heap.instance(1);
    let b = heap.instance(1);
    let list = heap.list();
    heap.set(&a, 0, Some(&b));
    heap.set(&b, 0, Some(&list));
    heap.list_append(&list, &a);
    heap.list_append(&list, &heap.weakref(&a, Some(WeakCallback { id: callback, arg: None })));
    drop((a, b, list));
    assert_eq!(heap.collect(2).unreachable(), 4); // CPython: 4, callback never runs
    assert_eq!(calls.get(), 0);
}

#[test]
fn weakref_freed_by_its_own_callback_counts_as_collected() {
    let heap = disabled();
    // The weakref lives only in the globals; its callback deletes it from there.
    let callback = heap.register_callback(|heap, _, _| {
        heap.dict_remove(&heap.globals(), 1);
    });
    let (a, b) = two_node_cycle(&heap);
    heap.dict_set(&heap.globals(), 1, &heap.weakref(&a, Some(WeakCallback { id: callback, arg: None })));
    drop((a, b));
    assert_eq!(heap.collect(2).unreachable(), 3); // CPython: 3 (2 + the weakref, via num_freed)
}

#[test]
fn resurrecting_finalizer_runs_once() {
    let heap = disabled();
    let calls = Rc::new(Cell::new(0));
    let counter = Rc::clone(&calls);
    // class R: def __del__(self): saved.append(self)
    let resurrect = heap.register_finalizer(move |heap, this| {
        counter.set(counter.get() + 1);
        heap.dict_set(&heap.globals(), 1, this);
    });
    let (r, s) = two_node_cycle(&heap);
    heap.set_finalizer(&r, resurrect, FinalizerKind::Pep442);
    drop((r, s));
    assert_eq!(heap.collect(2).unreachable(), 0); // CPython: 0; __del__ ran once; r saved
    assert_eq!(calls.get(), 1);
    let r = heap.dict_get(&heap.globals(), 1).expect("resurrected");
    assert!(heap.is_finalized(&r));
    assert!(heap.get(&heap.get(&r, 0).unwrap(), 0).unwrap() == r, "the cycle is intact");
    assert!(heap.is_tracked(&r));
    drop(r);
    heap.dict_remove(&heap.globals(), 1);
    assert_eq!(heap.collect(2).unreachable(), 2); // CPython: 2, and __del__ is not called again
    assert_eq!(calls.get(), 1);
    assert_eq!(heap.collect(2).unreachable(), 0);
}

#[test]
fn finalizers_of_plain_cyclic_garbage_each_run_once() {
    let heap = disabled();
    let calls = Rc::new(Cell::new(0));
    let counter = Rc::clone(&calls);
    let finalizer = heap.register_finalizer(move |_, _| counter.set(counter.get() + 1));
    let (a, b) = two_node_cycle(&heap);
    heap.set_finalizer(&a, finalizer, FinalizerKind::Pep442);
    heap.set_finalizer(&b, finalizer, FinalizerKind::Pep442);
    drop((a, b));
    assert_eq!(heap.collect(2).unreachable(), 2); // CPython: 2, __del__ called 2 times
    assert_eq!(calls.get(), 2);
}

#[test]
fn finalizer_runs_when_refcount_frees_the_object() {
    let heap = heap_with("refcount", &[]);
    let calls = Rc::new(Cell::new(0));
    let counter = Rc::clone(&calls);
    let finalizer = heap.register_finalizer(move |_, _| counter.set(counter.get() + 1));
    let baseline = heap.stats().live_objects;
    let owner = heap.instance(1);
    let node = heap.instance(1);
    heap.set_finalizer(&node, finalizer, FinalizerKind::Pep442);
    heap.set(&node, 0, Some(&heap.list()));
    heap.set(&owner, 0, Some(&node));
    drop(node);
    drop(owner);
    assert_eq!(calls.get(), 1);
    assert_eq!(heap.stats().live_objects, baseline);
}

#[test]
fn freeze_hides_garbage_until_unfreeze() {
    let heap = disabled();
    drop(two_node_cycle(&heap));
    let tracked = heap.stats().tracked_containers;
    heap.freeze();
    assert_eq!(heap.freeze_count(), tracked);
    assert_eq!(heap.gc_counts(), [0, 0, 0], "freeze zeroes the counts");
    assert_eq!(heap.collect(2).unreachable(), 0); // CPython: 0 while frozen
    heap.unfreeze();
    assert_eq!(heap.freeze_count(), 0);
    assert_eq!(heap.collect(2).unreachable(), 2); // CPython: 2 after unfreeze
}

/// References from frozen objects are outside references, and references to them leave them
/// alone (a full collection with something frozen must not take every tracked object as
/// collected).
#[test]
fn a_full_collection_counts_references_from_frozen_objects() {
    let heap = disabled();
    let frozen = heap.list();
    heap.freeze();
    let (kept, other) = two_node_cycle(&heap);
    heap.list_append(&frozen, &kept);
    drop((kept, other));
    let garbage = heap.list(); // a cycle that refers to the frozen list
    heap.list_append(&garbage, &frozen);
    heap.list_append(&garbage, &garbage);
    drop(garbage);
    assert_eq!(heap.collect(2).unreachable(), 1, "only the cycle no frozen object holds");
    heap.unfreeze();
    assert_eq!(heap.collect(2).unreachable(), 0, "the list still holds the other cycle");
    drop(frozen);
    assert_eq!(heap.collect(2).unreachable(), 2);
}

/// A container that held only atoms at one full collection and gained a reference to a cycle
/// since keeps the cycle alive at the next (nothing about the first may be remembered).
#[test]
fn a_container_that_gains_a_reference_is_scanned_again() {
    let heap = disabled();
    let holder = heap.list();
    heap.list_append(&holder, &heap.int(1));
    assert_eq!(heap.collect(2).unreachable(), 0); // `holder` refers to no container
    let (kept, other) = two_node_cycle(&heap);
    heap.list_append(&holder, &kept);
    drop((kept, other));
    let live = heap.stats().live_objects;
    assert_eq!(heap.collect(2).unreachable(), 0, "the list holds the cycle");
    assert_eq!(heap.stats().live_objects, live);
    drop(heap.list_remove(&holder, 1));
    assert_eq!(heap.collect(2).unreachable(), 2);
}

#[test]
fn legacy_finalizer_makes_a_cycle_uncollectable() {
    let heap = disabled();
    let calls = Rc::new(Cell::new(0));
    let counter = Rc::clone(&calls);
    let legacy = heap.register_finalizer(move |_, _| counter.set(counter.get() + 1));
    let (l, s) = two_node_cycle(&heap);
    heap.set_finalizer(&l, legacy, FinalizerKind::Legacy);
    drop((l, s));
    let collection = heap.collect(2);
    // CPython (`_testcapi.with_tp_del`): collect -> 2, gc.garbage == [L], uncollectable += 2.
    assert_eq!((collection.collected, collection.uncollectable), (0, 2));
    assert_eq!(heap.garbage_count(), 1);
    assert_eq!(heap.gc_stats()[2].uncollectable, 2);
    assert_eq!(calls.get(), 0, "the collector never calls a legacy finalizer");
    assert_eq!(heap.collect(2).unreachable(), 0, "gc.garbage keeps them alive");
    let report = heap.finish();
    assert_eq!(report.leaked.objects, 2);
}

#[test]
fn tuples_of_atoms_are_untracked_by_a_collection() {
    let heap = disabled();
    let atoms = heap.tuple(&[Some(&heap.int(1)), Some(&heap.str("a"))]);
    let empty_slots = heap.tuple(&[None, None]);
    let holds_list = heap.tuple(&[Some(&heap.int(1)), Some(&heap.list())]);
    let nested = heap.tuple(&[Some(&heap.tuple(&[Some(&heap.int(1))]))]);
    assert!(heap.is_tracked(&atoms) && heap.is_tracked(&empty_slots));
    heap.collect(0);
    assert!(!heap.is_tracked(&atoms)); // CPython: tuple([1, 'a']) untracked after collect(0)
    assert!(!heap.is_tracked(&empty_slots));
    assert!(heap.is_tracked(&holds_list)); // CPython: (1, []) stays tracked
    // CPython: the inner tuple is untracked by collect(0), the outer one only by collect(1).
    assert!(heap.is_tracked(&nested));
    heap.collect(1);
    assert!(!heap.is_tracked(&nested));
}

#[test]
fn dicts_of_atoms_are_untracked_by_full_collections_only() {
    let heap = disabled();
    let dict = heap.dict();
    heap.dict_set(&dict, 1, &heap.list());
    heap.dict_set(&dict, 1, &heap.int(1));
    heap.collect(0);
    heap.collect(1);
    assert!(heap.is_tracked(&dict)); // CPython: still tracked after collect(0) and collect(1)
    heap.collect(2);
    assert!(!heap.is_tracked(&dict)); // CPython: untracked after collect(2)
    // Storing a container tracks it again (MAINTAIN_TRACKING), so a cycle through it is found.
    heap.dict_set(&dict, 2, &dict);
    assert!(heap.is_tracked(&dict));
    drop(dict);
    assert_eq!(heap.collect(2).unreachable(), 1);
}

/// `gc.enable()` with thresholds (700, 10, 10); keeps `n` new lists alive in one list, as
/// `keep.append([])` does, and returns the counts and the automatic collections per generation.
fn keep_alive(heap: &Heap, prelude: usize, n: usize) -> ([u64; 3], [u64; 3]) {
    let keep = heap.list();
    for _ in 0..prelude {
        heap.list_append(&keep, &heap.list());
    }
    heap.collect(2); // the script's gc.collect() before gc.enable()
    let before = heap.gc_stats().map(|g| g.collections);
    for _ in 0..n {
        heap.list_append(&keep, &heap.list());
    }
    let after = heap.gc_stats().map(|g| g.collections);
    (heap.gc_counts(), [0, 1, 2].map(|g| after[g] - before[g]))
}

#[test]
fn generation_counts_match_cpython() {
    // CPython 3.11.7, `keep.append([])` N times with default thresholds:
    // N -> (gc.get_count(), automatic collections gen0/gen1/gen2)
    let cpython = [
        (699, [699, 0, 0], [0, 0, 0]),
        (700, [700, 0, 0], [0, 0, 0]),
        (701, [0, 1, 0], [1, 0, 0]),
        (702, [1, 1, 0], [1, 0, 0]),
        (1402, [0, 2, 0], [2, 0, 0]),
        (7000, [691, 9, 0], [9, 0, 0]),
        (70_000, [601, 3, 8], [91, 8, 0]),
        (77_000, [591, 1, 9], [100, 9, 0]),
    ];
    for (n, counts, collections) in cpython {
        let heap = heap_with("generational", &[]);
        assert_eq!(keep_alive(&heap, 0, n), (counts, collections), "N = {n}");
    }
}

#[test]
fn full_collections_wait_for_the_long_lived_rule() {
    // CPython 3.11.7 started this script with 11,096 tracked objects (the interpreter's own) and
    // made 1300 / 118 / 8 automatic collections for 1,000,000 kept-alive lists, with counts
    // (374, 2, 5): the first four full collections come every 93,231 allocations, later ones only
    // once the heap has grown by a quarter.
    let heap = heap_with("generational", &[]);
    assert_eq!(keep_alive(&heap, 11_094, 1_000_000), ([374, 2, 5], [1300, 118, 8]));
}

#[test]
fn manual_strategy_freezes_at_startup_and_collects_every_n_requests() {
    let heap = heap_with("manual", &[("freeze", "true"), ("every", "3")]);
    let long_lived = heap.list();
    heap.list_append(&long_lived, &heap.list());
    drop(two_node_cycle(&heap)); // garbage from startup: frozen, never collected
    heap.startup_done();
    assert!(heap.freeze_count() >= 4);
    let mut full_collections = Vec::new();
    for _ in 0..6 {
        drop(two_node_cycle(&heap));
        heap.request_done();
        full_collections.push(heap.gc_stats()[2].collections);
    }
    assert_eq!(full_collections, vec![0, 0, 1, 1, 1, 2], "a full collection every 3 requests");
    assert_eq!(heap.gc_stats()[2].collected, 12, "3 two-node cycles each time");
    drop(long_lived);
    assert_eq!(heap.gc_stats()[0].collections, 0, "no automatic collection");
    let report = heap.finish();
    assert_eq!(report.leaked.objects, 2, "the frozen startup garbage is never collected");
}

/// What a pre-fork server does under `generational` with `params`: builds a long-lived heap of
/// `long_lived` lists plus one garbage cycle, announces `startup_done`, serves 600 requests that
/// each leave a two-node cycle. Returns the heap's state at `startup_done` (collections so far,
/// frozen containers), the full collections while serving (objects each examined) and the leak.
fn serve_prefork(params: &[(&str, &str)], long_lived: usize) -> ([u64; 3], u64, Vec<u64>, u64) {
    let heap = heap_with("generational", params);
    let keep = heap.list();
    for _ in 0..long_lived {
        heap.list_append(&keep, &heap.list());
    }
    drop(two_node_cycle(&heap)); // garbage at startup
    let before = heap.gc_stats().map(|g| g.collections);
    heap.startup_done();
    let frozen = heap.freeze_count();
    for _ in 0..600 {
        drop(two_node_cycle(&heap));
        heap.request_done();
    }
    assert!(heap.gc_stats()[0].collections > before[0] + 50, "collections run while serving");
    let serving = (heap.gc_stats()[2].collections - before[2]) as usize;
    drop(keep);
    let report = heap.finish();
    let fulls = report.pauses.iter().filter(|p| p.generation == Some(2)).map(|p| p.objects);
    let while_serving = fulls.skip(before[2] as usize).take(serving).collect();
    (before, frozen, while_serving, report.leaked.objects)
}

#[test]
fn generational_freeze_collects_only_after_startup_and_never_examines_the_frozen_heap() {
    let thresholds = ("threshold", "10,2,2");
    let (before, frozen, frozen_fulls, frozen_leak) = serve_prefork(&[thresholds, ("freeze", "true")], 3000);
    assert_eq!(before, [0, 0, 0], "automatic collection is off during startup");
    assert!(frozen > 3000, "the long-lived heap is in the permanent generation ({frozen})");
    let (plain_before, plain_frozen, plain_fulls, plain_leak) = serve_prefork(&[thresholds], 3000);
    assert!(plain_before[0] > 0 && plain_frozen == 0);
    // After freeze, frozen objects no longer count as long-lived: full collections run while
    // serving (8 here), each examining only what was made since, never the 3000 frozen lists.
    // Without freeze, the 25% rule holds them back: the long-lived heap counts.
    assert!(frozen_fulls.len() >= 5, "{frozen_fulls:?}");
    assert!(frozen_fulls.iter().all(|&examined| examined < 100), "{frozen_fulls:?}");
    assert!(plain_fulls.is_empty(), "{plain_fulls:?}");
    // Garbage at freeze time is never collected, not even by the collection at exit.
    assert_eq!((frozen_leak, plain_leak), (2, 0));
}

#[test]
fn generational_freeze_turns_automatic_collection_on_with_the_usual_thresholds() {
    let heap = heap_with("generational", &[("freeze", "true")]);
    assert!(!heap.gc_isenabled());
    for _ in 0..2000 {
        drop(heap.list());
    }
    assert_eq!(heap.gc_stats()[0].collections, 0);
    heap.startup_done();
    assert!(heap.gc_isenabled());
    assert_eq!(heap.gc_counts(), [0, 0, 0]);
    // Instances: no free list, so each allocation counts.
    let mut keep: Vec<Handle<'_>> = (0..700).map(|_| heap.instance(1)).collect();
    assert_eq!((heap.gc_counts()[0], heap.gc_stats()[0].collections), (700, 0));
    keep.push(heap.instance(1));
    assert_eq!(heap.gc_stats()[0].collections, 1, "the 701st container passes threshold 700");
    drop(keep);
    let params = strategy::find("generational").unwrap().build(&[("freeze".into(), "true".into())].into()).unwrap();
    assert!(params.params().contains(&("freeze".into(), "true".into())));
}

#[test]
fn manual_strategy_collects_above_a_live_bytes_limit() {
    let heap = heap_with("manual", &[("freeze", "false"), ("live-bytes", "20000")]);
    let baseline = heap.stats().live_bytes; // the small-int cache
    let mut collections = Vec::new();
    for _ in 0..400 {
        drop(two_node_cycle(&heap)); // 2 × 48 bytes of garbage per request
        heap.request_done();
        collections.push(heap.gc_stats()[2].collections);
    }
    // A collection at the first request that leaves more than 20000 live bytes, and again
    // every as many requests after it (each collection returns to the baseline).
    let period = (20_000 - baseline) / 96 + 1;
    let expected: Vec<u64> = (1..=400).map(|request| request / period).collect();
    assert_eq!(collections, expected, "baseline {baseline} B, period {period} requests");
}

#[test]
fn every_collection_is_a_recorded_pause() {
    let heap = heap_with("generational", &[]);
    let keep = heap.list();
    for _ in 0..5000 {
        heap.list_append(&keep, &heap.list());
        drop(two_node_cycle(&heap));
    }
    drop(keep);
    let stats = heap.gc_stats();
    let report = heap.finish();
    let collections: Vec<_> = report.pauses.iter().filter(|p| p.generation.is_some()).collect();
    let total: u64 = stats.iter().map(|g| g.collections).sum();
    assert_eq!(collections.len() as u64, total + 1, "every collection, plus the one at exit");
    assert!(collections.iter().all(|p| p.objects > 0 && p.duration_ns > 0));
    // Every cycle is collected exactly once (the kept lists are freed by refcounting).
    let collected: u64 = collections.iter().map(|p| p.collected).sum();
    assert_eq!(collected, 10_000);
}

#[test]
fn callbacks_and_finalizers_may_allocate_during_a_collection() {
    let heap = heap_with("generational", &[("threshold", "10,10,10")]);
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&log);
    let finalizer = heap.register_finalizer(move |heap, _| {
        // Allocating here must not start a nested collection.
        let scratch = heap.list();
        for i in 0..50 {
            heap.list_append(&scratch, &heap.int(i + 1000));
        }
        sink.borrow_mut().push(heap.len(&scratch));
    });
    for _ in 0..100 {
        let (a, _b) = two_node_cycle(&heap);
        heap.set_finalizer(&a, finalizer, FinalizerKind::Pep442);
    }
    heap.collect(2);
    assert_eq!(log.borrow().len(), 100);
    assert!(log.borrow().iter().all(|&n| n == 50));
}

// ----- regressions found in review ------------------------------------------------------------

#[test]
fn a_panicking_finalizer_is_reported_and_ignored() {
    let heap = disabled();
    // Resurrects its object, then fails: CPython prints "Exception ignored in ..." and goes on.
    let failing = heap.register_finalizer(|heap, this| {
        heap.dict_set(&heap.globals(), 1, this);
        panic!("finalizer fails");
    });
    let (a, b) = two_node_cycle(&heap);
    heap.set_finalizer(&a, failing, FinalizerKind::Pep442);
    drop((a, b));
    assert_eq!(heap.collect(2).unreachable(), 0, "resurrected before it failed");
    assert_eq!(heap.stats().ignored_panics, 1);
    let a = heap.dict_remove(&heap.globals(), 1).unwrap();
    heap.set(&a, 0, None); // breaks the cycle: b is freed by refcounting
    drop(a);
    drop(two_node_cycle(&heap));
    assert_eq!(heap.collect(2).unreachable(), 2, "the collector still works");
}

#[test]
fn a_panicking_weakref_callback_is_reported_and_ignored() {
    let heap = disabled();
    let failing = heap.register_callback(|_, _, _| panic!("callback fails"));
    let (a, b) = two_node_cycle(&heap);
    let weak = heap.weakref(&a, Some(WeakCallback { id: failing, arg: None }));
    drop((a, b));
    assert_eq!(heap.collect(2).unreachable(), 2);
    assert_eq!(heap.stats().ignored_panics, 1);
    assert!(heap.upgrade(&weak).is_none());
}

#[test]
fn no_finalizer_runs_while_the_heap_is_dropped() {
    let heap = disabled();
    let store = heap.register_finalizer(|heap, this| heap.dict_set(&heap.globals(), 1, this));
    let x = heap.instance(0);
    heap.set_finalizer(&x, store, FinalizerKind::Pep442);
    heap.dict_set(&heap.globals(), 1, &x);
    drop(x);
    drop(heap); // debug builds assert that teardown leaves nothing alive
}

#[test]
fn a_dict_cleared_by_the_collector_but_kept_alive_stays_consistent() {
    let heap = disabled();
    // b's finalizer stores b back into the dict and the dict into the globals; it is given to b
    // by a's finalizer, so it first runs inside delete_garbage, after the dict was cleared.
    let store_back = heap.register_finalizer(|heap, this| {
        let dict = heap.get(this, 0).unwrap();
        heap.dict_set(&dict, 1, this);
        heap.dict_set(&heap.globals(), 100, &dict);
    });
    let arm = heap.register_finalizer(move |heap, this| {
        let dict = heap.get(this, 0).unwrap();
        let b = heap.dict_get(&dict, 1).unwrap();
        heap.set_finalizer(&b, store_back, FinalizerKind::Pep442);
    });
    {
        let dict = heap.dict();
        let a = heap.instance(1);
        let b = heap.instance(1);
        heap.dict_set(&dict, 1, &b);
        heap.set(&b, 0, Some(&dict));
        heap.set(&a, 0, Some(&dict));
        heap.dict_set(&dict, 2, &a);
        heap.set_finalizer(&a, arm, FinalizerKind::Pep442);
    }
    heap.collect(2);
    let dict = heap.dict_get(&heap.globals(), 100).unwrap();
    assert_eq!(heap.len(&dict), heap.dict_keys(&dict).len());
    for key in heap.dict_keys(&dict) {
        assert!(heap.dict_remove(&dict, key).is_some());
    }
    assert_eq!(heap.len(&dict), 0);
}

#[test]
fn new_dicts_are_untracked_like_cpython() {
    let heap = heap_with("generational", &[]);
    let dict = heap.dict();
    assert!(!heap.is_tracked(&dict)); // CPython: gc.is_tracked({}) is False
    heap.dict_set(&dict, 1, &heap.int(1));
    assert!(!heap.is_tracked(&dict)); // {'a': 1} is never tracked
    let tuple = heap.tuple(&[Some(&heap.int(1)), Some(&heap.int(2))]);
    heap.collect(0);
    assert!(!heap.is_tracked(&tuple));
    heap.dict_set(&dict, 2, &tuple);
    // CPython: t = (1, 2); gc.collect(); d[2] = t -> neither is tracked
    assert!(!heap.is_tracked(&dict));
    heap.dict_set(&dict, 3, &heap.list());
    assert!(heap.is_tracked(&dict));
    assert!(!heap.is_tracked(&heap.tuple(&[])), "() is one untracked object");
}

#[test]
fn kept_alive_empty_dicts_never_trigger_a_full_collection() {
    // CPython 3.11.7: `keep.append({})` 1,000,000 times after gc.collect() made 1308 / 118 / 0
    // automatic collections: untracked dicts never count as long-lived.
    let heap = heap_with("generational", &[]);
    let keep = heap.list();
    for _ in 0..11_094 {
        heap.list_append(&keep, &heap.list());
    }
    heap.collect(2);
    let before = heap.gc_stats().map(|g| g.collections);
    for _ in 0..1_000_000 {
        heap.list_append(&keep, &heap.dict());
    }
    let after = heap.gc_stats().map(|g| g.collections);
    assert_eq!([0, 1, 2].map(|g| after[g] - before[g]), [1308, 118, 0]);
}

#[test]
fn free_lists_hide_reused_tuples_lists_and_dicts_from_the_gen0_count() {
    // CPython 3.11, automatic collection off, after gc.collect():
    //   101 lists alive, then freed: 80 go to the list free list, 21 are counted (count -21);
    //   50 new lists come from the free list (count unchanged);
    //   3,000 1-tuples: counted (+3000); freed: 2,000 to the tuple free list, 1,000 counted.
    let heap = disabled();
    heap.collect(2);
    let count = || heap.gc_counts()[0] as i64;
    let start = count();
    let lists: Vec<_> = (0..101).map(|_| heap.list()).collect();
    assert_eq!(count() - start, 101);
    drop(lists);
    assert_eq!(count() - start, 80, "80 lists went back to the free list uncounted");
    let reused: Vec<_> = (0..50).map(|_| heap.list()).collect();
    assert_eq!(count() - start, 80, "lists from the free list are not counted");
    let one = heap.int(1);
    let tuples: Vec<_> = (0..3000).map(|_| heap.tuple(&[Some(&one)])).collect();
    assert_eq!(count() - start, 3080);
    drop(tuples);
    assert_eq!(count() - start, 2080, "2,000 tuples of size 1 fit on their free list");
    drop(reused);
    heap.collect(2);
    let dicts: Vec<_> = (0..10).map(|_| heap.dict()).collect();
    assert_eq!(count(), 10, "a full collection empties the free lists, as clear_freelists does");
    drop(dicts);
}

/// Trial deletion: a decrement that leaves a count above zero buffers a possible root; the
/// allocation after the buffer fills collects the cycle, with no generations involved.
#[test]
fn trial_deletion_collects_a_cycle_once_the_buffer_is_full() {
    let heap = heap_with("trial-deletion", &[("roots", "2")]);
    let (a, b) = two_node_cycle(&heap);
    assert_eq!(heap.possible_roots(), 0);
    drop(a); // a: 2 -> 1, buffered
    assert_eq!(heap.possible_roots(), 1);
    drop(b); // b: 2 -> 1, buffered: the buffer is full
    assert_eq!(heap.possible_roots(), 2);
    let before = heap.stats().live_objects;
    let _trigger = heap.list(); // the next container allocation collects
    assert_eq!(heap.possible_roots(), 0, "a collection empties the buffer");
    assert_eq!(heap.stats().live_objects, before - 2 + 1, "the cycle is freed");
    assert_eq!(heap.gc_stats()[0], GenerationStats { collections: 1, collected: 2, uncollectable: 0 });
}

/// Trial deletion: a buffered object freed by refcounting leaves the buffer (its slot is reused),
/// and a root still referred to from outside survives a collection.
#[test]
fn trial_deletion_forgets_roots_that_refcounting_frees() {
    let heap = heap_with("trial-deletion", &[]);
    let node = heap.instance(1);
    let extra = node.clone();
    drop(extra); // 2 -> 1: buffered
    assert_eq!(heap.possible_roots(), 1);
    drop(node); // 1 -> 0: freed, and out of the buffer
    assert_eq!(heap.possible_roots(), 0);
    let (a, b) = two_node_cycle(&heap);
    let keep = heap.instance(1);
    heap.set(&keep, 0, Some(&a));
    drop(a);
    drop(b);
    assert_eq!(heap.possible_roots(), 2);
    assert_eq!(heap.collect(2).unreachable(), 0, "the cycle is referred to from `keep`");
    heap.set(&keep, 0, None); // a: 2 -> 1, buffered again
    assert_eq!(heap.possible_roots(), 1);
    assert_eq!(heap.collect(2).unreachable(), 2);
}

/// Trial deletion: a decrement inside a refcount cascade that leaves a count above zero buffers
/// too: here it is the one that makes the cycle garbage.
#[test]
fn trial_deletion_buffers_decrements_inside_a_cascade() {
    let heap = heap_with("trial-deletion", &[]);
    let (a, b) = two_node_cycle(&heap);
    let holder = heap.instance(1);
    heap.set(&holder, 0, Some(&a));
    drop(a);
    drop(b);
    assert_eq!(heap.collect(2).unreachable(), 0, "held from `holder`: scanned black, unbuffered");
    assert_eq!(heap.possible_roots(), 0);
    drop(holder); // freed; the cascade takes a from 2 to 1
    assert_eq!(heap.possible_roots(), 1);
    assert_eq!(heap.collect(2).unreachable(), 2);
}
