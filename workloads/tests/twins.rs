//! Every workload has a Python twin in `workloads/python/` that makes the same seeded choices
//! and computes the same checksum. This runs each twin under `python3` at `smoke` size (every
//! variant of the conformance matrix, two seeds) and compares it with the Rust workload.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use strategies::{Heap, HeapConfig, strategy};
use workloads::{Size, WORKLOADS, WorkloadArgs};

mod variants;

fn rust_checksum(workload: &workloads::WorkloadInfo, args: &WorkloadArgs) -> String {
    let program = workload.build(args).unwrap();
    let heap =
        Heap::new(HeapConfig::default(), strategy::find("generational").unwrap().build(&Default::default()).unwrap());
    let checksum = program.run(&heap).to_string();
    drop(heap.finish());
    checksum
}

fn python_checksum(workload: &str, args: &WorkloadArgs) -> Result<String, String> {
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/run.py");
    let mut command = Command::new("python3");
    command.arg(&runner).args(["--workload", workload, "--size", args.size.name(), "--seed", &args.seed.to_string()]);
    for (name, value) in &args.params {
        command.args(["--param", &format!("{name}={value}")]);
    }
    let output = command.output().expect("python3 must be installed to check the twins");
    if !output.status.success() {
        return Err(format!("the twin failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    let line = String::from_utf8(output.stdout).unwrap();
    let reply: BTreeMap<String, serde_json::Value> = serde_json::from_str(&line).unwrap();
    Ok(reply["checksum"].as_str().unwrap().to_string())
}

#[test]
fn every_twin_computes_the_rust_checksum() {
    let mut mismatches = Vec::new();
    for workload in WORKLOADS {
        for params in variants::of(workload.name) {
            for seed in [7, 20261122] {
                let args = WorkloadArgs { size: Size::Smoke, seed, params: params.clone() };
                let ours = rust_checksum(workload, &args);
                match python_checksum(workload.name, &args) {
                    Ok(theirs) if theirs == ours => {}
                    Ok(theirs) => mismatches
                        .push(format!("{} {params:?} seed {seed}: rust {ours}, python {theirs}", workload.name)),
                    Err(error) => mismatches.push(format!("{} {params:?} seed {seed}: {error}", workload.name)),
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "twins disagree:\n{}", mismatches.join("\n"));
}

/// The `trees` twin's weak-parent variant (`back-edges=weak`, the twin of the strategy
/// parameter that `harness validate` passes on) computes what the workload computes with its
/// back edges stored weakly.
#[test]
fn the_weak_parent_trees_twin_computes_the_rust_checksum() {
    let workload = workloads::find("trees").unwrap();
    for variant in ["gcbench", "binary-trees"] {
        let params: BTreeMap<String, String> =
            [("parents", "true"), ("variant", variant)].map(|(k, v)| (k.to_string(), v.to_string())).into();
        let args = WorkloadArgs { size: Size::Smoke, seed: 7, params: params.clone() };
        let heap =
            Heap::new(HeapConfig::default(), strategy::find("weakref").unwrap().build(&Default::default()).unwrap());
        let ours = workload.build(&args).unwrap().run(&heap).to_string();
        drop(heap.finish());
        let mut twin_args = args.clone();
        twin_args.params.insert("back-edges".into(), "weak".into());
        assert_eq!(python_checksum("trees", &twin_args).unwrap(), ours, "trees {variant} with weak parents");
    }
}

#[test]
fn the_prng_sequences_agree() {
    let script = "import sys; sys.path.insert(0, sys.argv[1]); from common import SplitMix64\n\
                  r = SplitMix64(42); print(*[r.next_u64() for _ in range(3)], r.below(1000), repr(r.unit()))";
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
    let output = Command::new("python3").args(["-c", script]).arg(&dir).output().expect("python3");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut rng = workloads::rng::SplitMix64::new(42);
    let ours = format!("{} {} {} {} {:?}", rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.below(1000), rng.unit());
    assert_eq!(String::from_utf8(output.stdout).unwrap().trim(), ours);
}

/// The values a twin's `configure` puts in force for each `(size, params)` case, by name, written
/// as the Rust side writes them.
fn python_configs(workload: &str, cases: &[(Size, BTreeMap<String, String>)]) -> Vec<BTreeMap<String, String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
    let script = "import importlib, json, sys\n\
                  sys.path.insert(0, sys.argv[1])\n\
                  from common import Params\n\
                  twin = importlib.import_module(sys.argv[2])\n\
                  show = lambda v: str(v).lower() if isinstance(v, bool) else str(v)\n\
                  configs = [twin.configure(size, Params(sys.argv[2], pairs)) for size, pairs in json.loads(sys.argv[3])]\n\
                  print(json.dumps([{k: show(v) for k, v in c.items() if not k.startswith('_')} for c in configs]))";
    let cases: Vec<(&str, &BTreeMap<String, String>)> = cases.iter().map(|(size, p)| (size.name(), p)).collect();
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(&dir)
        .args([workload, &serde_json::to_string(&cases).unwrap()])
        .output()
        .expect("python3");
    assert!(output.status.success(), "{workload}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The twins cannot read the Rust declarations, so each writes its defaults again; this checks
/// that they agree at every size (the checksum test only runs `smoke`). Keys a twin starts with
/// `_` are not workload parameters (the trees twin's `_weak-parents` comes from the strategy's
/// `back-edges`).
#[test]
fn every_twin_has_the_declared_defaults_at_every_size() {
    let same = |a: &str, b: &str| a == b || a.parse::<f64>().ok().is_some_and(|x| b.parse::<f64>() == Ok(x));
    for workload in WORKLOADS {
        let cases: Vec<(Size, BTreeMap<String, String>)> =
            variants::of(workload.name).into_iter().flat_map(|p| Size::ALL.map(|size| (size, p.clone()))).collect();
        for ((size, params), theirs) in cases.iter().zip(python_configs(workload.name, &cases)) {
            let args = WorkloadArgs { size: *size, seed: 1, params: params.clone() };
            let ours: BTreeMap<String, String> = workload.build(&args).unwrap().params().into_iter().collect();
            let case = format!("{} {size:?} {params:?}", workload.name);
            assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>(), "{case}");
            for (name, value) in &ours {
                let twin = &theirs[name];
                assert!(same(value, twin), "{case}: `{name}` is {value}, the twin's {twin}");
            }
        }
    }
}
