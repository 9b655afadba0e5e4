//! The conformance matrix: every workload under every strategy at `smoke` size, on every
//! allocator, must compute the same checksum, with immortal objects too (`immortal=true`, on
//! every strategy that offers it). A strategy decides when memory is freed, never what the
//! program computes.

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
            let immortal: BTreeMap<String, String> = [("immortal".into(), "true".into())].into();
            for info in strategy::STRATEGIES {
                let offers_immortal = info.params.iter().any(|p| p.name() == "immortal");
                let configurations = [Some(BTreeMap::new()), offers_immortal.then(|| immortal.clone())];
                for strategy_params in configurations.into_iter().flatten() {
                    for allocator in AllocatorConfig::all() {
                        let strategy = info.build(&strategy_params).unwrap();
                        let heap = Heap::new(HeapConfig { allocator, ..HeapConfig::default() }, strategy);
                        let checksum = program.run(&heap);
                        let report = heap.finish();
                        if info.name == "weakref" && strategy_params.is_empty() {
                            assert_eq!(
                                report.leaked.objects, 0,
                                "{} {params:?}: weak back edges leave no cycle",
                                workload.name
                            );
                        }
                        checksums.insert(format!("{}{strategy_params:?}/{allocator:?}", info.name), checksum);
                    }
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
    assert!(error(&[("depth", "-1")]).ends_with("out of range (at least 4)"));
    assert!(error(&[("depth", "2")]).ends_with("`depth` = `2`: out of range (at least 4)"));
    assert!(error(&[("depth", "40")]).ends_with("out of range (max 26)"));
    assert!(error(&[("depth", "99999999999999999999")]).ends_with("out of range (max 26)"));
    assert!(error(&[("stretch-depth", "5")]).ends_with("must be at least `depth`"));
    assert!(error(&[("variant", "quadtrees")]).ends_with("expected gcbench or binary-trees"));
    let other_variant = error(&[("variant", "binary-trees"), ("stretch-depth", "9")]);
    assert!(other_variant.ends_with("`stretch-depth` = `9`: only with variant=gcbench (here variant=binary-trees)"));
}

#[test]
fn every_default_is_in_range_at_every_size() {
    for workload in WORKLOADS {
        for size in Size::ALL {
            for params in variants::of(workload.name) {
                let args = WorkloadArgs { size, seed: 1, params: params.clone() };
                let built = workload.build(&args).unwrap_or_else(|e| panic!("{} at {size:?}: {e}", workload.name));
                let in_force: Vec<String> = built.params().into_iter().map(|(name, _)| name).collect();
                for name in params.keys() {
                    assert!(
                        in_force.contains(name),
                        "{} {params:?}: `{name}` not in the result columns",
                        workload.name
                    );
                }
            }
        }
    }
}
