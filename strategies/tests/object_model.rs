//! The object model through the safe Mutator API: sizes, refcounting, the iterative free,
//! weak references and their callbacks, back edges, lists and dicts, leak counting, teardown.
//! Every test runs on every allocator configuration; `.ci/run` runs this file under valgrind
//! with the malloc-per-object backend.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

mod common;

use common::{allocators, cases};
use proptest::prelude::*;
use strategies::alloc::ArenaPolicy;
use strategies::{
    AllocatorConfig, FinalizerKind, Handle, Heap, HeapCapExceeded, HeapConfig, Kind, WeakCallback, strategy,
};

fn heap_with(strategy_name: &str, allocator: AllocatorConfig) -> Heap {
    let strategy = strategy::find(strategy_name).unwrap().build(&Default::default()).unwrap();
    Heap::new(HeapConfig { allocator, cascade_pause_threshold: 100, ..HeapConfig::default() }, strategy)
}

fn for_each_heap(strategy_name: &str, test: impl Fn(&Heap)) {
    for allocator in allocators() {
        let heap = heap_with(strategy_name, allocator);
        test(&heap);
    }
}

/// Live bytes an allocation adds, measured on a fresh heap.
fn bytes_of(make: impl for<'h> Fn(&'h Heap) -> Handle<'h>) -> u64 {
    let heap = heap_with("refcount", AllocatorConfig::default());
    let before = heap.stats().live_bytes;
    let handle = make(&heap);
    let after = heap.stats().live_bytes;
    drop(handle);
    assert_eq!(heap.stats().live_bytes, before, "dropping the only handle frees the object");
    after - before
}

#[test]
fn sizes_match_layout() {
    // CPython 3.11 figures (sys.getsizeof, GC head included) are in object.rs's table.
    assert_eq!(bytes_of(|h| h.int(1_000_000)), 24); // CPython 28
    assert_eq!(bytes_of(|h| h.str("hello")), 46); // CPython 54
    assert_eq!(bytes_of(|h| h.tuple(&[None, None])), 48); // CPython 56
    assert_eq!(bytes_of(|h| h.list()), 56); // CPython 56
    assert_eq!(bytes_of(|h| h.dict()), 64); // CPython 64
    assert_eq!(bytes_of(|h| h.instance(2)), 56); // CPython 56 with __slots__ + __weakref__
    assert_eq!(bytes_of(|h| h.instance(4)), 72); // CPython 72
    let heap = heap_with("refcount", AllocatorConfig::default());
    let target = heap.instance(0);
    let before = heap.stats().live_bytes;
    let _weak = heap.weakref(&target, None);
    assert_eq!(heap.stats().live_bytes - before, 72); // CPython 80
}

#[test]
fn small_ints_are_cached_and_others_are_not() {
    for_each_heap("refcount", |heap| {
        let live = heap.stats().live_objects;
        let a = heap.int(7);
        let b = heap.int(7);
        assert_eq!(a, b, "small ints are shared");
        assert_eq!(heap.stats().live_objects, live);
        let c = heap.int(1000);
        let d = heap.int(1000);
        assert_ne!(c, d, "large ints are distinct objects");
        assert_eq!(heap.int_value(&d), 1000);
        assert_eq!(heap.stats().live_objects, live + 2);
    });
}

#[test]
fn atoms_round_trip() {
    for_each_heap("refcount", |heap| {
        let s = heap.str("héllo, wörld");
        assert_eq!(heap.str_value(&s), "héllo, wörld");
        assert_eq!(heap.len(&s), "héllo, wörld".len());
        assert_eq!(heap.kind(&s), Kind::Str);
        assert_eq!(heap.int_value(&heap.int(-123_456_789)), -123_456_789);
    });
}

#[test]
fn slots_round_trip() {
    for_each_heap("refcount", |heap| {
        let node = heap.instance(3);
        assert_eq!(heap.len(&node), 3);
        assert!(heap.get(&node, 0).is_none());
        let value = heap.int(5000);
        heap.set(&node, 1, Some(&value));
        assert_eq!(heap.get(&node, 1), Some(value.clone()));
        assert!(heap.is_set(&node, 1) && !heap.is_set(&node, 2));
        heap.set(&node, 1, None);
        assert!(heap.get(&node, 1).is_none());
        let tuple = heap.tuple(&[Some(&value), None, Some(&node)]);
        assert_eq!(heap.get(&tuple, 0), Some(value));
        assert_eq!(heap.get(&tuple, 2), Some(node));
    });
}

#[test]
fn refcounts_balance() {
    for_each_heap("refcount", |heap| {
        let baseline = heap.stats();
        {
            let parent = heap.instance(2);
            let child = heap.list();
            for i in 0..100 {
                heap.list_append(&child, &heap.int(i * 1000));
            }
            heap.set(&parent, 0, Some(&child));
            let alias = parent.clone();
            heap.set(&alias, 1, Some(&heap.str("x")));
            drop(child);
            assert_eq!(heap.stats().live_objects, baseline.live_objects + 2 + 99 + 1);
        }
        let after = heap.stats();
        assert_eq!((after.live_objects, after.live_bytes), (baseline.live_objects, baseline.live_bytes));
        assert_eq!(after.tracked_containers, 0);
    });
}

#[test]
fn ten_million_chain_frees_iteratively() {
    // A small stack proves the free is not recursive: 10 million frames would need gigabytes.
    let worker = std::thread::Builder::new().stack_size(256 << 10).spawn(|| {
        let heap = heap_with("refcount", AllocatorConfig::default());
        let baseline = heap.stats().live_objects;
        let head = heap.instance(1);
        let mut tail = head.clone();
        for _ in 1..10_000_000 {
            let next = heap.instance(1);
            heap.set(&tail, 0, Some(&next));
            tail = next;
        }
        drop(tail);
        assert_eq!(heap.stats().live_objects, baseline + 10_000_000);
        drop(head);
        assert_eq!(heap.stats().live_objects, baseline);
        let report = heap.finish();
        assert_eq!(report.pauses.len(), 1, "one cascade, recorded as one pause");
        assert_eq!(report.pauses[0].objects, 10_000_000);
    });
    worker.unwrap().join().expect("freeing a long chain must not overflow the stack");
}

#[test]
fn weakref_dies_with_target() {
    for_each_heap("refcount", |heap| {
        let target = heap.instance(1);
        let weak = heap.weakref(&target, None);
        let weak2 = heap.weakref(&target, None);
        assert_eq!(heap.upgrade(&weak), Some(target.clone()));
        drop(weak2); // unlinks itself while the target lives
        drop(target);
        assert!(heap.upgrade(&weak).is_none());
        assert_eq!(heap.kind(&weak), Kind::Weakref);
    });
}

#[test]
fn weakref_callback_runs_once() {
    for_each_heap("refcount", |heap| {
        let calls = Rc::new(RefCell::new(Vec::new()));
        let seen = Rc::clone(&calls);
        let callback = heap.register_callback(move |heap, weak, arg| {
            assert!(heap.upgrade(weak).is_none(), "the weakref is cleared before its callback");
            seen.borrow_mut().push(heap.int_value(arg.expect("argument passed")));
        });
        let target = heap.instance(0);
        let arg = heap.int(4242);
        let weak = heap.weakref(&target, Some(WeakCallback { id: callback, arg: Some(&arg) }));
        drop(arg);
        drop(target);
        assert!(heap.upgrade(&weak).is_none());
        assert_eq!(*calls.borrow(), vec![4242]);
        drop(weak);
        assert_eq!(*calls.borrow(), vec![4242], "no second call");
    });
}

#[test]
fn weakref_dying_with_its_target_gets_no_callback() {
    for_each_heap("refcount", |heap| {
        let calls = Rc::new(Cell::new(0));
        let counter = Rc::clone(&calls);
        let callback = heap.register_callback(move |_, _, _| counter.set(counter.get() + 1));
        // owner -> target, owner -> weakref(target): dropping the owner frees both in one cascade.
        let owner = heap.instance(2);
        let target = heap.instance(0);
        let weak = heap.weakref(&target, Some(WeakCallback { id: callback, arg: None }));
        heap.set(&owner, 0, Some(&target));
        heap.set(&owner, 1, Some(&weak));
        drop((target, weak));
        let baseline = heap.stats().live_objects - 3;
        drop(owner);
        assert_eq!(heap.stats().live_objects, baseline);
        // CPython runs a callback only for a weakref that is itself still alive.
        assert!(calls.get() <= 1);
    });
}

#[test]
fn callback_may_use_the_heap() {
    for_each_heap("refcount", |heap| {
        // The weak-value cache pattern: the callback removes the dead entry from a dict.
        let evict = heap.register_callback(|heap, _, arg| {
            let cache = arg.expect("cache");
            let key = heap.dict_keys(cache)[0];
            heap.dict_remove(cache, key);
        });
        let cache = heap.dict();
        let value = heap.instance(0);
        let weak = heap.weakref(&value, Some(WeakCallback { id: evict, arg: Some(&cache) }));
        heap.dict_set(&cache, 7, &weak);
        drop(weak);
        assert_eq!(heap.len(&cache), 1);
        drop(value);
        assert_eq!(heap.len(&cache), 0, "the callback evicted the entry");
    });
}

#[test]
fn list_insert_remove_match_python() {
    for_each_heap("refcount", |heap| {
        let list = heap.list();
        for i in 0..5 {
            heap.list_append(&list, &heap.int(i));
        }
        heap.list_insert(&list, 0, &heap.int(-1));
        heap.list_insert(&list, 3, &heap.int(99));
        let popped = heap.list_remove(&list, 1).unwrap();
        assert_eq!(heap.int_value(&popped), 0);
        let values: Vec<i64> = (0..heap.len(&list)).map(|i| heap.int_value(&heap.get(&list, i).unwrap())).collect();
        assert_eq!(values, vec![-1, 1, 99, 2, 3, 4]);
        for _ in 0..6 {
            heap.list_remove(&list, 0);
        }
        assert_eq!(heap.len(&list), 0);
    });
}

#[test]
fn dict_grows_and_keeps_order() {
    for_each_heap("refcount", |heap| {
        let dict = heap.dict();
        for key in 0..1000u64 {
            heap.dict_set(&dict, key * 7919, &heap.int(key as i64 + 1000));
        }
        for key in (0..1000u64).step_by(2) {
            assert!(heap.dict_remove(&dict, key * 7919).is_some());
        }
        assert!(heap.dict_remove(&dict, 3).is_none());
        heap.dict_set(&dict, 1, &heap.int(5000)); // replaces nothing: 1 was never a key
        heap.dict_set(&dict, 7919, &heap.int(6000)); // replaces in place, keeps its position
        let expected: Vec<u64> = (1..1000u64).step_by(2).map(|k| k * 7919).chain([1]).collect();
        assert_eq!(heap.dict_keys(&dict), expected);
        assert_eq!(heap.int_value(&heap.dict_get(&dict, 7919).unwrap()), 6000);
        assert_eq!(heap.int_value(&heap.dict_get(&dict, 3 * 7919).unwrap()), 1003);
        assert!(heap.dict_get(&dict, 2 * 7919).is_none());
        assert_eq!(heap.len(&dict), 501);
    });
}

#[test]
fn refcount_leaks_exactly_the_cycles() {
    for allocator in allocators() {
        let heap = heap_with("refcount", allocator);
        // 10 rings of 5 instances, each closed by a back edge, then dropped: all leak.
        for _ in 0..10 {
            let first = heap.instance(1);
            let mut last = first.clone();
            for _ in 1..5 {
                let next = heap.instance(1);
                heap.set(&last, 0, Some(&next));
                last = next;
            }
            heap.set_back_edge(&last, 0, &first);
        }
        // Acyclic garbage is freed as it goes.
        drop(heap.tuple(&[Some(&heap.list())]));
        let report = heap.finish();
        assert_eq!(report.leaked.objects, 50);
        assert_eq!(report.leaked.bytes, 50 * 48);
        assert_eq!(report.leaked.by_kind.get(&Kind::Instance), Some(&(50, 50 * 48)));
    }
}

#[test]
fn weakref_strategy_frees_the_same_rings() {
    for allocator in allocators() {
        let heap = heap_with("weakref", allocator);
        for _ in 0..10 {
            let first = heap.instance(1);
            let mut last = first.clone();
            for _ in 1..5 {
                let next = heap.instance(1);
                heap.set(&last, 0, Some(&next));
                last = next;
            }
            heap.set_back_edge(&last, 0, &first);
            assert_eq!(heap.get(&last, 0), Some(first.clone()), "a back edge reads like any edge");
        }
        let report = heap.finish();
        assert_eq!(report.leaked.objects, 0);
    }
}

/// Under weak back edges, every back edge to one target is one weakref object, as CPython's
/// `weakref.ref(parent)` returns the parent's existing basic reference.
#[test]
fn weak_back_edges_to_one_target_share_a_weakref() {
    for_each_heap("weakref", |heap| {
        let parent = heap.instance(2);
        let (left, right) = (heap.instance(1), heap.instance(1));
        heap.set(&parent, 0, Some(&left));
        heap.set(&parent, 1, Some(&right));
        let before = heap.stats().live_objects;
        heap.set_back_edge(&left, 0, &parent);
        assert_eq!(heap.stats().live_objects, before + 1, "the first back edge makes a weakref");
        heap.set_back_edge(&right, 0, &parent);
        assert_eq!(heap.stats().live_objects, before + 1, "the second shares it");
        assert_eq!(heap.get(&right, 0), Some(parent.clone()));
        heap.set(&left, 0, None);
        assert_eq!(heap.get(&right, 0), Some(parent.clone()), "still held by the other child");
        drop((parent, left, right));
        assert_eq!(heap.stats().live_objects, before - 3, "all freed by refcounting");
    });
}

#[test]
#[should_panic(expected = "workload invariant broken")]
fn following_a_dead_back_edge_panics() {
    let heap = heap_with("weakref", AllocatorConfig::default());
    let child = heap.instance(1);
    let parent = heap.instance(0);
    heap.set_back_edge(&child, 0, &parent);
    drop(parent); // only the back edge referred to it
    let _ = heap.get(&child, 0);
}

#[test]
#[should_panic(expected = "another heap")]
fn handles_cannot_cross_heaps() {
    let a = heap_with("refcount", AllocatorConfig::default());
    let b = heap_with("refcount", AllocatorConfig::default());
    let list = a.list();
    b.list_append(&b.list(), &list);
}

#[test]
#[should_panic(expected = "expected a list, got a dict")]
fn kinds_are_checked() {
    let heap = heap_with("refcount", AllocatorConfig::default());
    heap.list_append(&heap.dict(), &heap.int(1));
}

#[test]
#[should_panic(expected = "out of range")]
fn slots_are_bounds_checked() {
    let heap = heap_with("refcount", AllocatorConfig::default());
    heap.get(&heap.instance(2), 2);
}

/// Frees a tree of about 5 MiB (several 1 MiB arenas) and returns how many arenas went back to
/// the OS.
fn arenas_freed_after_a_big_tree(arenas: Option<ArenaPolicy>) -> u64 {
    let strategy = strategy::find("refcount").unwrap().build(&Default::default()).unwrap();
    let heap = Heap::new(HeapConfig { arenas, ..HeapConfig::default() }, strategy);
    let root = heap.list();
    for _ in 0..64_000 {
        heap.list_append(&root, &heap.instance(4));
    }
    drop(root);
    let freed = heap.stats().alloc.arenas_freed;
    heap.finish();
    freed
}

#[test]
fn the_arena_policy_is_the_strategys_unless_the_config_sets_one() {
    assert!(arenas_freed_after_a_big_tree(None) > 0, "refcount: CPython's policy unmaps free arenas");
    assert_eq!(arenas_freed_after_a_big_tree(Some(ArenaPolicy::Retain)), 0, "retained arenas stay mapped");
}

#[test]
fn teardown_frees_everything() {
    for allocator in allocators() {
        let heap = heap_with("refcount", allocator);
        // Cycles through every container kind, weakrefs with callbacks into the cycle.
        let callback = heap.register_callback(|_, _, _| panic!("callbacks do not run at teardown"));
        let dict = heap.dict();
        let list = heap.list();
        let node = heap.instance(2);
        heap.dict_set(&dict, 1, &list);
        heap.list_append(&list, &node);
        heap.set(&node, 0, Some(&dict));
        let weak = heap.weakref(&node, Some(WeakCallback { id: callback, arg: Some(&list) }));
        heap.set(&node, 1, Some(&weak));
        heap.list_append(&list, &heap.tuple(&[Some(&dict), Some(&heap.str("s"))]));
        drop((dict, list, node, weak));
        let report = heap.finish(); // Drop asserts (debug) that nothing is left alive
        assert_eq!(report.leaked.objects, 6);
    }
}

// ----- nogc -----------------------------------------------------------------------------------

/// Builds a little of everything, with a callback and a finalizer that log, and drops it all.
/// Returns the log: what died, in order, seen through callbacks and finalizers.
fn build_and_drop_everything(heap: &Heap) -> Vec<i64> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&log);
    let callback = heap.register_callback(move |heap, _, arg| seen.borrow_mut().push(heap.int_value(arg.unwrap())));
    let seen = Rc::clone(&log);
    let finalizer = heap.register_finalizer(move |heap, this| {
        seen.borrow_mut().push(heap.int_value(&heap.get(this, 0).unwrap()));
    });
    let watcher = heap.list(); // holds the weakrefs, which outlive their targets
    {
        let root = heap.dict();
        for i in 0..50 {
            let node = heap.instance(2);
            heap.set(&node, 0, Some(&heap.int(1000 + i)));
            heap.set(&node, 1, Some(&heap.tuple(&[Some(&heap.str("payload")), Some(&heap.list())])));
            if i % 3 == 0 {
                heap.set_finalizer(&node, finalizer, FinalizerKind::Pep442);
            }
            let arg = heap.int(2000 + i);
            heap.list_append(&watcher, &heap.weakref(&node, Some(WeakCallback { id: callback, arg: Some(&arg) })));
            heap.dict_set(&root, i as u64, &node);
        }
    }
    let cleared = (0..heap.len(&watcher)).all(|i| heap.upgrade(&heap.get(&watcher, i).unwrap()).is_none());
    assert!(cleared, "every weakref to a dead node is cleared");
    log.borrow().clone()
}

#[test]
fn nogc_objects_die_as_under_refcount() {
    for allocator in allocators() {
        let reference = heap_with("refcount", allocator);
        let nogc = heap_with("nogc", allocator);
        assert_eq!(build_and_drop_everything(&nogc), build_and_drop_everything(&reference));
        let (a, b) = (reference.stats(), nogc.stats());
        assert_eq!((b.live_objects, b.live_bytes), (a.live_objects, a.live_bytes), "the same objects are alive");
        assert_eq!(a.retained_objects, 0);
        // Per node: instance, int, tuple, str, list; the root dict; then, with the watcher, each
        // weakref and its callback's argument, and the watcher itself.
        assert_eq!(b.retained_objects, 50 * 5 + 1 + 50 * 2 + 1);
        assert!(b.alloc.bytes_used > a.alloc.bytes_used, "the dead blocks were kept");
    }
}

#[test]
fn nogc_keeps_dead_blocks_until_teardown() {
    for allocator in allocators() {
        let heap = heap_with("nogc", allocator);
        let baseline = heap.stats();
        {
            let list = heap.list();
            for i in 0..1000 {
                heap.list_append(&list, &heap.int(i * 1000)); // the items block moves as it grows
            }
            let dict = heap.dict();
            heap.dict_set(&dict, 1, &list);
            heap.dict_set(&dict, 2, &heap.str("some text"));
        }
        let after = heap.stats();
        assert_eq!((after.live_objects, after.live_bytes), (baseline.live_objects, baseline.live_bytes));
        assert_eq!(after.retained_objects, 999 + 3, "ints (not the cached 0), list, dict, str");
        assert!(after.alloc.bytes_used - baseline.alloc.bytes_used >= after.retained_bytes);
        let report = heap.finish(); // Drop frees the graveyard; valgrind checks nothing is left
        assert_eq!(report.leaked.objects, 0, "the dead are not leaked: nothing logically alive is left");
        assert!(report.pauses.is_empty() && report.memory_management_ns == 0, "nogc has no pauses");
        assert_eq!(report.stats.retained_objects, 1002);
    }
}

#[test]
fn nogc_leaks_the_same_cycles_as_refcount() {
    for allocator in allocators() {
        let heap = heap_with("nogc", allocator);
        for _ in 0..10 {
            let first = heap.instance(1);
            let second = heap.instance(1);
            heap.set(&first, 0, Some(&second));
            heap.set_back_edge(&second, 0, &first);
        }
        drop(heap.tuple(&[Some(&heap.list())]));
        let report = heap.finish();
        assert_eq!(report.leaked.objects, 20);
        assert_eq!(report.stats.retained_objects, 2);
    }
}

// ----- the heap cap -------------------------------------------------------------------------------

const CAP: u64 = 64 << 10;

fn capped_heap(strategy_name: &str, allocator: AllocatorConfig, cap: u64) -> Heap {
    let strategy = strategy::find(strategy_name).unwrap().build(&Default::default()).unwrap();
    Heap::new(HeapConfig { allocator, max_live_bytes: Some(cap), ..HeapConfig::default() }, strategy)
}

/// Runs `workload` as the harness does: under `catch_unwind`, expecting the cap to stop it.
fn stopped_at_cap(workload: impl FnOnce()) -> HeapCapExceeded {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(workload)).expect_err("the cap stops it");
    *payload.downcast_ref::<HeapCapExceeded>().expect("the payload is a HeapCapExceeded")
}

#[test]
fn heap_cap_stops_refcount_leaking_cycles() {
    for allocator in allocators() {
        let heap = capped_heap("refcount", allocator, CAP);
        let baseline = heap.stats().live_objects;
        let rings = Cell::new(0u64);
        let exceeded = stopped_at_cap(|| {
            let scratch = heap.list(); // acyclic, held when the cap strikes: freed by the unwinding
            loop {
                let first = heap.instance(1);
                let mut last = first.clone();
                for _ in 1..5 {
                    let next = heap.instance(1);
                    heap.set(&last, 0, Some(&next));
                    last = next;
                }
                heap.list_append(&scratch, &last);
                heap.set_back_edge(&last, 0, &first);
                rings.set(rings.get() + 1);
            }
        });
        assert_eq!(exceeded.cap, CAP);
        assert!(exceeded.live_bytes <= CAP && exceeded.live_bytes + exceeded.requested_bytes > CAP, "{exceeded:?}");
        let leaked = rings.get() * 5;
        assert_eq!(heap.stats().live_objects, baseline + leaked, "unwinding dropped every handle");
        let report = heap.finish();
        assert_eq!(report.cap_exceeded, Some(exceeded));
        assert_eq!(report.leaked.objects, leaked);
        assert_eq!(report.leaked.by_kind.get(&Kind::Instance), Some(&(leaked, leaked * 48)));
    }
}

#[test]
fn heap_cap_stops_nogc_on_acyclic_garbage() {
    for allocator in allocators() {
        let heap = capped_heap("nogc", allocator, CAP);
        let exceeded = stopped_at_cap(|| {
            for i in 0.. {
                drop(heap.tuple(&[Some(&heap.int(1000 + i)), Some(&heap.str("x"))]));
            }
        });
        assert!(exceeded.live_bytes + exceeded.requested_bytes > CAP);
        let report = heap.finish();
        assert_eq!(report.leaked.objects, 0);
        assert!(report.stats.retained_bytes > CAP - (16 << 10), "retained bytes count against the cap");
    }
    // The same program under refcount runs in constant memory and is never stopped.
    let heap = capped_heap("refcount", AllocatorConfig::default(), CAP);
    for i in 0..20_000 {
        drop(heap.tuple(&[Some(&heap.int(1000 + i)), Some(&heap.str("x"))]));
    }
    assert_eq!(heap.finish().cap_exceeded, None);
}

#[test]
fn heap_cap_stops_list_and_dict_growth_with_the_heap_unchanged() {
    for allocator in allocators() {
        let heap = capped_heap("refcount", allocator, CAP);
        let baseline = heap.stats();
        // No new object: 1 is a cached small int. Only the items block and the table grow.
        let one = heap.int(1);
        stopped_at_cap(|| {
            let list = heap.list();
            loop {
                heap.list_append(&list, &one);
            }
        });
        stopped_at_cap(|| {
            let dict = heap.dict();
            for key in 0.. {
                heap.dict_set(&dict, key, &one);
            }
        });
        drop(one);
        let after = heap.stats();
        assert_eq!((after.live_objects, after.live_bytes), (baseline.live_objects, baseline.live_bytes));
        heap.finish(); // teardown asserts (debug) that every refcount balanced
    }
}

#[test]
fn heap_cap_never_stops_a_finalizer_but_stops_the_next_allocation() {
    for allocator in allocators() {
        let heap = capped_heap("refcount", allocator, CAP);
        // A finalizer that stores 128 KiB of objects in the globals: past the cap, inside user code.
        let hoard = heap.register_finalizer(|heap, _| {
            let list = heap.list();
            for i in 0..4000 {
                heap.list_append(&list, &heap.int(1000 + i));
            }
            heap.dict_set(&heap.globals(), 1, &list);
        });
        let stopped_after_finalizer = Cell::new(false);
        stopped_at_cap(|| {
            let x = heap.instance(0);
            heap.set_finalizer(&x, hoard, FinalizerKind::Pep442);
            drop(x);
            stopped_after_finalizer.set(true);
            let _next = heap.int(5000);
        });
        assert!(stopped_after_finalizer.get(), "the finalizer ran to the end");
        assert_eq!(heap.stats().ignored_panics, 0, "no cap panic was raised (and swallowed) in the finalizer");
        heap.finish();
    }
}

#[derive(Clone, Debug)]
enum ListOp {
    Append(i64),
    Insert(usize, i64),
    Remove(usize),
}

#[derive(Clone, Debug)]
enum DictOp {
    Set(u8, i64),
    Remove(u8),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    /// Lists behave like a `Vec` under random inserts and removals.
    #[test]
    fn list_matches_vec(ops in prop::collection::vec(prop_oneof![
        any::<i64>().prop_map(ListOp::Append),
        (any::<usize>(), any::<i64>()).prop_map(|(i, v)| ListOp::Insert(i, v)),
        any::<usize>().prop_map(ListOp::Remove),
    ], 0..200)) {
        let heap = heap_with("refcount", AllocatorConfig::default());
        let list = heap.list();
        let mut model = Vec::new();
        for op in ops {
            match op {
                ListOp::Append(v) => { heap.list_append(&list, &heap.int(v)); model.push(v); }
                ListOp::Insert(i, v) => {
                    let i = i % (model.len() + 1);
                    heap.list_insert(&list, i, &heap.int(v));
                    model.insert(i, v);
                }
                ListOp::Remove(i) if !model.is_empty() => {
                    let i = i % model.len();
                    let got = heap.list_remove(&list, i).map(|h| heap.int_value(&h));
                    prop_assert_eq!(got, Some(model.remove(i)));
                }
                ListOp::Remove(_) => {}
            }
        }
        let values: Vec<i64> = (0..heap.len(&list)).map(|i| heap.int_value(&heap.get(&list, i).unwrap())).collect();
        prop_assert_eq!(values, model);
        drop(list);
        prop_assert_eq!(heap.stats().tracked_containers, 0);
    }

    /// Dicts behave like an insertion-ordered map (Python's dict) under random sets and removals.
    #[test]
    fn dict_matches_ordered_map(ops in prop::collection::vec(prop_oneof![
        (any::<u8>(), any::<i64>()).prop_map(|(k, v)| DictOp::Set(k, v)),
        any::<u8>().prop_map(DictOp::Remove),
    ], 0..300)) {
        let heap = heap_with("refcount", AllocatorConfig::default());
        let dict = heap.dict();
        let mut model: Vec<(u64, i64)> = Vec::new();
        for op in ops {
            match op {
                DictOp::Set(k, v) => {
                    heap.dict_set(&dict, k as u64, &heap.int(v));
                    match model.iter_mut().find(|(key, _)| *key == k as u64) {
                        Some(entry) => entry.1 = v,
                        None => model.push((k as u64, v)),
                    }
                }
                DictOp::Remove(k) => {
                    let got = heap.dict_remove(&dict, k as u64).map(|h| heap.int_value(&h));
                    let position = model.iter().position(|(key, _)| *key == k as u64);
                    prop_assert_eq!(got, position.map(|p| model.remove(p).1));
                }
            }
        }
        let keys: Vec<u64> = model.iter().map(|(k, _)| *k).collect();
        prop_assert_eq!(heap.dict_keys(&dict), keys);
        for (k, v) in &model {
            prop_assert_eq!(heap.dict_get(&dict, *k).map(|h| heap.int_value(&h)), Some(*v));
        }
    }
}

#[test]
fn many_callbacks_due_at_once_run_without_nesting() {
    // WeakValueDictionary's pattern: a dict holds the weakrefs, and each callback deletes its own
    // entry, which frees the weakref. 20,000 callbacks fall due when one list of targets is
    // dropped; on a small stack this overflowed while each weakref's free drained the queue again.
    let worker = std::thread::Builder::new().stack_size(256 << 10).spawn(|| {
        for_each_heap("refcount", |heap| {
            let calls = std::rc::Rc::new(std::cell::Cell::new(0u32));
            let counter = calls.clone();
            let callback = heap.register_callback(move |heap, _, key| {
                counter.set(counter.get() + 1);
                let key = heap.int_value(key.expect("the key")) as u64;
                assert!(heap.dict_remove(&heap.globals(), key).is_some(), "the entry was there");
            });
            let owners = heap.list();
            for i in 0..20_000 {
                let target = heap.instance(1);
                heap.list_append(&owners, &target);
                let key = heap.int(i);
                let weak = heap.weakref(&target, Some(WeakCallback { id: callback, arg: Some(&key) }));
                heap.dict_set(&heap.globals(), i as u64, &weak);
            }
            drop(owners);
            assert_eq!(calls.get(), 20_000, "every callback ran once");
            assert_eq!(heap.dict_keys(&heap.globals()).len(), 0, "every entry removed itself");
        });
    });
    worker.unwrap().join().expect("draining many callbacks must not overflow the stack");
}
