//! The conformance matrix: every workload under every strategy at `smoke` size, on every
//! allocator, must compute the same checksum. A strategy decides when memory is freed, never
//! what the program computes.

use std::collections::BTreeMap;

use strategies::{AllocatorConfig, Heap, HeapConfig, strategy};
use workloads::{Size, WORKLOADS, WorkloadArgs};

mod variants;

#[test]
fn every_workload_computes_the_same_checksum_under_every_strategy() {
    for workload in WORKLOADS {
        for params in variants::of(workload.name) {
            let args = WorkloadArgs { size: Size::Smoke, seed: 7, params: params.clone() };
            let program = workload.build(&args).unwrap();
            let mut checksums = BTreeMap::new();
            for info in strategy::STRATEGIES {
                for allocator in AllocatorConfig::all() {
                    let heap = Heap::new(
                        HeapConfig { allocator, ..HeapConfig::default() },
                        info.build(&Default::default()).unwrap(),
                    );
                    let checksum = program.run(&heap);
                    let report = heap.finish();
                    if info.name == "weakref" {
                        assert_eq!(
                            report.leaked.objects, 0,
                            "{} {params:?}: weak back edges leave no cycle",
                            workload.name
                        );
                    }
                    checksums.insert(format!("{}/{allocator:?}", info.name), checksum);
                }
            }
            let distinct: std::collections::BTreeSet<_> = checksums.values().collect();
            assert_eq!(distinct.len(), 1, "{} {params:?}: {checksums:#?}", workload.name);
        }
    }
}

#[test]
fn unknown_and_invalid_parameters_are_refused() {
    let trees = workloads::find("trees").unwrap();
    let args = |pairs: &[(&str, &str)]| WorkloadArgs {
        size: Size::Smoke,
        seed: 1,
        params: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    };
    let error = |pairs| trees.build(&args(pairs)).err().expect("refused").to_string();
    assert!(error(&[("dpeth", "3")]).contains("no parameter `dpeth`"));
    assert!(error(&[("depth", "-1")]).contains("`depth` = `-1`"));
    assert!(error(&[("depth", "2")]).contains("at least 4"));
    assert!(error(&[("depth", "40")]).contains("at most 26"));
    assert!(error(&[("variant", "quadtrees")]).contains("expected gcbench or binary-trees"));
    assert!(error(&[("variant", "binary-trees"), ("stretch-depth", "9")]).contains("only the gcbench variant"));
}
