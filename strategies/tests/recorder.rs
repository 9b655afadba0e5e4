//! The heap as a measuring instrument: memory samples (when they are taken, on which axis),
//! the recording switch, and what `nogc` records.

mod common;

use common::allocator;
use strategies::{Heap, HeapConfig, MemorySample, SampleTrigger, strategy};

const SAMPLE_EVERY: u64 = 1000;
/// `SAMPLE_EVERY / 16`: the fewest allocations between a sample and a checkpoint sample.
const CHECKPOINT_GAP: u64 = SAMPLE_EVERY / 16;
const REQUESTS: u64 = 300;

fn heap(strategy_name: &str, config: HeapConfig) -> Heap {
    let strategy = strategy::find(strategy_name).unwrap().build(&Default::default()).unwrap();
    Heap::new(HeapConfig { allocator: allocator(), ..config }, strategy)
}

fn sampling(every: u64) -> HeapConfig {
    HeapConfig { sample_every: every, cascade_pause_threshold: 1, ..HeapConfig::default() }
}

/// A small server: a long-lived list, then requests that each build and drop a ring (a cycle
/// closed by a back edge) and a few acyclic objects.
fn serve(heap: &Heap) {
    let long_lived = heap.list();
    for i in 0..500 {
        heap.list_append(&long_lived, &heap.tuple(&[Some(&heap.int(1000 + i))]));
    }
    heap.startup_done();
    for request in 0..REQUESTS as i64 {
        let first = heap.instance(2);
        let mut last = first.clone();
        for i in 0..8 {
            let next = heap.instance(2);
            heap.set(&next, 1, Some(&heap.int(request * 100 + i + 1000)));
            heap.set(&last, 0, Some(&next));
            last = next;
        }
        heap.set_back_edge(&last, 0, &first);
        drop(heap.tuple(&[Some(&heap.str("response")), Some(&heap.dict())]));
        heap.request_done();
    }
}

fn triggers(samples: &[MemorySample], trigger: SampleTrigger) -> Vec<&MemorySample> {
    samples.iter().filter(|s| s.trigger == trigger).collect()
}

#[test]
fn samples_at_startup_requests_intervals_and_the_end() {
    let heap = heap("generational", sampling(SAMPLE_EVERY));
    serve(&heap);
    let before_finish = heap.stats();
    let report = heap.finish();
    let samples = &report.memory_samples;

    let startup = triggers(samples, SampleTrigger::Startup);
    assert_eq!(startup.len(), 1);
    assert_eq!((startup[0].allocations, startup[0].requests_done), (1001, 0), "list, 500 tuples and ints");

    let intervals = triggers(samples, SampleTrigger::Interval);
    let expected: Vec<u64> = (1..=before_finish.allocations / SAMPLE_EVERY).map(|k| k * SAMPLE_EVERY).collect();
    assert_eq!(intervals.iter().map(|s| s.allocations).collect::<Vec<_>>(), expected);

    let requests = triggers(samples, SampleTrigger::Request);
    assert!(requests.len() > 10 && (requests.len() as u64) < REQUESTS, "rate-limited: {}", requests.len());
    for pair in samples.windows(2) {
        if pair[1].trigger == SampleTrigger::Request {
            assert!(pair[1].allocations - pair[0].allocations >= CHECKPOINT_GAP, "{pair:?}");
        }
        assert!(pair[1].time_ns >= pair[0].time_ns && pair[1].allocations >= pair[0].allocations);
    }

    let last = samples.last().unwrap();
    assert_eq!(last.trigger, SampleTrigger::Final);
    assert_eq!((last.allocations, last.requests_done), (before_finish.allocations, REQUESTS));
    assert_eq!((last.live_objects, last.live_bytes), (before_finish.live_objects, before_finish.live_bytes));
    assert_eq!(last.allocator_bytes_used, before_finish.alloc.bytes_used);
    assert_eq!(last.allocator_bytes_reserved, before_finish.alloc.bytes_reserved);
    assert_eq!(last.arenas, before_finish.alloc.arenas_live());
    assert!(samples.iter().all(|s| s.rss_bytes.is_some_and(|rss| rss > 0)));
    assert!(samples.iter().all(|s| s.retained_bytes == 0), "only nogc retains");
}

#[test]
fn every_strategy_samples_the_same_points_of_the_program() {
    // The alignment axis: back-edge weakrefs (the `weakref` strategy) are not counted, so every
    // strategy reaches each allocation count at the same point of the program.
    let points = |name: &str| {
        let heap = heap(name, sampling(SAMPLE_EVERY));
        serve(&heap);
        let report = heap.finish();
        report.memory_samples.iter().map(|s| (s.trigger, s.allocations, s.requests_done)).collect::<Vec<_>>()
    };
    let reference = points("refcount");
    for info in strategy::STRATEGIES {
        assert_eq!(points(info.name), reference, "{}", info.name);
    }
}

#[test]
fn interval_samples_can_be_turned_off() {
    let heap = heap("refcount", sampling(0));
    serve(&heap);
    let report = heap.finish();
    assert!(triggers(&report.memory_samples, SampleTrigger::Interval).is_empty());
    assert_eq!(triggers(&report.memory_samples, SampleTrigger::Startup).len(), 1);
    assert_eq!(report.memory_samples.last().unwrap().trigger, SampleTrigger::Final);
}

#[test]
fn recording_off_records_nothing_but_collections_still_run() {
    for info in strategy::STRATEGIES {
        let heap = heap(info.name, HeapConfig { record: false, ..sampling(SAMPLE_EVERY) });
        serve(&heap);
        heap.program_collect();
        let report = heap.finish();
        assert!(report.pauses.is_empty(), "{}: {:?}", info.name, report.pauses);
        assert!(report.request_latencies_ns.is_empty(), "{}", info.name);
        assert!(report.memory_samples.is_empty(), "{}", info.name);
        assert_eq!(report.memory_management_ns, 0, "{}: no clock was read", info.name);
        assert_eq!(report.stats.requests_done, REQUESTS);
        if info.name == "generational" {
            let collections: u64 = report.stats.collections.iter().sum();
            assert!(collections > 5, "collections still run: {collections}");
            assert_eq!(report.leaked.objects, 0, "and still find the rings");
        }
    }
    // The same run with recording on records all three logs.
    let heap = heap("generational", sampling(SAMPLE_EVERY));
    serve(&heap);
    let report = heap.finish();
    assert!(!report.pauses.is_empty() && !report.memory_samples.is_empty());
    assert_eq!(report.request_latencies_ns.len() as u64, REQUESTS);
    assert!(report.memory_management_ns > 0);
}

/// Pause and sample times count from the end of `Heap::new` (where the cell starts its wall
/// clock), not from its start: building the runtime's objects (which maps and faults in the first
/// arena) is no part of the workload, and the MMU curves drop any pause that seems to start after
/// the workload's wall time.
#[test]
fn times_count_from_the_ready_heap() {
    let heap = heap("generational", sampling(SAMPLE_EVERY));
    let ready = std::time::Instant::now();
    heap.collect(2);
    let elapsed = ready.elapsed().as_nanos() as u64;
    let report = heap.finish();
    let pause = report.pauses.first().expect("the collection is a pause");
    assert!(pause.start_ns <= elapsed, "the pause began {} ns in, but only {elapsed} ns had passed", pause.start_ns);
}

#[test]
fn nogc_records_no_pause_and_its_live_figures_are_refcounts() {
    let run = |name: &str| {
        let heap = heap(name, sampling(SAMPLE_EVERY));
        serve(&heap);
        heap.finish()
    };
    let (nogc, refcount) = (run("nogc"), run("refcount"));
    assert!(nogc.pauses.is_empty(), "no pause, even at a cascade threshold of 1");
    assert_eq!(nogc.memory_management_ns, 0);
    assert!(!refcount.pauses.is_empty());
    assert_eq!(nogc.leaked, refcount.leaked, "the same rings leak");
    for (a, b) in nogc.memory_samples.iter().zip(&refcount.memory_samples) {
        assert_eq!((a.live_objects, a.live_bytes), (b.live_objects, b.live_bytes), "logically the same heap");
    }
    let retained: Vec<u64> = nogc.memory_samples.iter().map(|s| s.retained_bytes).collect();
    assert!(retained.windows(2).all(|w| w[0] <= w[1]) && retained.last() > Some(&0), "only grows: {retained:?}");
}
