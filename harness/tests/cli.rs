//! The real binary: help, a smoke run producing every file, and bad input refused with exit
//! code 2 and nothing written.

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn harness() -> Command {
    Command::cargo_bin("harness").unwrap()
}

#[test]
fn help_documents_the_options() {
    harness().arg("--help").assert().success().stdout(
        predicate::str::contains("--workload")
            .and(predicate::str::contains("--strategy"))
            .and(predicate::str::contains("--cascade-threshold"))
            .and(predicate::str::contains("--param manual.every="))
            .and(predicate::str::contains("--param generational.threshold=")),
    );
}

#[test]
fn list_shows_workload_and_strategy_parameters() {
    harness().arg("--list").assert().success().stdout(
        predicate::str::contains("trees")
            .and(predicate::str::contains("--wparam variant="))
            .and(predicate::str::contains("weakref")),
    );
}

#[test]
fn smoke_run_writes_every_file_and_matching_checksums() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness()
        .args(["--workload", "trees", "--size", "smoke", "--parents", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("identical under every strategy"));
    let csv = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with(
        "run_id,cell,workload,strategy,repeat,size,seed,recording,allocator,build_profile,workload_params,\
         strategy_params,status,checksum,error,wall_time_ms,mm_time_ms"
    ));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3 * strategies::STRATEGIES.len(), "three repeats per strategy by default");
    let refcount = rows.iter().find(|r| r.contains(",refcount,")).unwrap();
    let weakref = rows.iter().find(|r| r.contains(",weakref,")).unwrap();
    let generational = rows.iter().find(|r| r.contains(",generational,")).unwrap();
    let (columns, _) = csv_table(&csv);
    let leaked_column = columns.iter().position(|c| c == "leaked_objects").unwrap();
    let leaked = |row: &str| csv_table(&format!("{header}\n{row}\n")).1[0][leaked_column].parse::<u64>().unwrap();
    assert!(leaked(refcount) > 0, "parent pointers leak under pure refcounting: {refcount}");
    assert_eq!(leaked(weakref), 0, "weak back edges leak nothing: {weakref}");
    assert_eq!(leaked(generational), 0, "the cycle collector frees every tree: {generational}");
    for file in ["pauses.csv", "memory.csv"] {
        assert!(std::fs::read_to_string(out.join(file)).unwrap().lines().count() > 1, "{file} has rows");
    }
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
    for key in
        ["git_commit", "rustc", "cpu_model", "kernel", "seed", "command_line", "cells", "build_profile", "environment"]
    {
        assert!(meta.get(key).is_some(), "meta.json has {key}");
    }
    // `cargo test` builds the binary with the test profile: the dev profile's name, assertions on.
    assert_eq!(meta["build_profile"], "dev+debug-assertions");
    assert!(meta["system"]["load_average"].is_array(), "the machine's load is recorded: {}", meta["system"]);
    assert!(meta["system"]["warnings"].is_array());
    // Only the finished folder is left: no staging folder beside it.
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries, vec![std::ffi::OsString::from("run")]);
}

/// Every case: arguments, and a fragment the error message must contain.
#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let cases: &[(&[&str], &str)] = &[
        (&["--workload", "forest"], "possible values: trees"),
        (
            &["--workload", "trees", "--strategy", "refcount,magic"],
            "possible values: refcount, weakref, generational, manual",
        ),
        (&["--workload", "trees", "--size", "huge"], "possible values: smoke, small, default, large"),
        (&["--workload", "trees", "--wparam", "depth=2"], "at least 4"),
        (&["--workload", "trees", "--wparam", "nodes=5"], "no parameter `nodes`"),
        (&["--workload", "trees", "--wparam", "depth"], "expected KEY=VALUE"),
        (
            &["--workload", "trees", "--strategy", "refcount", "--param", "threshold=700"],
            "no selected strategy has a parameter `threshold`",
        ),
        (&["--workload", "trees", "--param", "generational.threshold=0,10,10"], "gen0 out of range (at least 1)"),
        (&["--workload", "trees", "--param", "threshold=700,10"], "expected 3 integers gen0,gen1,gen2"),
        (
            &["--workload", "trees", "--param", "generational.threshold0=99999999999999999999"],
            "`threshold0` = `99999999999999999999`: out of range (max 18446744073709551615)",
        ),
        (&["--workload", "trees", "--param", "trial-deletion.roots=0"], "`roots` = `0`: out of range (at least 1)"),
        (
            &["--workload", "trees", "--strategy", "nogc", "--param", "nogc.immortal=true"],
            "strategy `nogc`: parameter `immortal` = `true`: no block is ever freed here",
        ),
        (&["--workload", "trees", "--param", "manual.every=often"], "`every` = `often`"),
        (&["--workload", "trees", "--param", "manual.freeze=maybe"], "`freeze` = `maybe`"),
        (&["--workload", "trees", "--param", "generational.every=3"], "has no parameter `every`"),
        (&["--workload", "trees", "--strategy", "refcount", "--param", "weakref.x=1"], "`weakref` is not selected"),
        (&["--workload", "trees", "--cascade-threshold", "0"], "at least 1"),
        (&["--workload", "trees", "--repeat", "0"], "--repeat must be at least 1"),
        (&["--workload", "trees", "--timeout=-3"], "expected a positive number of seconds"),
        (&["--workload", "trees", "--max-heap", "12Q"], "unknown unit `Q`"),
        (&["--workload", "trees", "--max-heap", "0"], "positive size"),
        (&["--workload", "trees", "--max-heap", "4GBIBI"], "unknown unit `GBIBI` (valid: K, M, G, T"),
        (&["--workload", "trees", "--max-heap", "1"], "below the smallest heap cap, 1M"),
        (&["--workload", "trees", "--timeout", "1e20"], "--timeout 100000000000000000000: at most 604800 seconds"),
        (&["--workload", "trees", "--timeout", "inf"], "expected a positive number of seconds"),
        (&["--workload", "trees", "--repeat", "1000000000"], "--repeat 1000000000: at most 1000 repeats"),
        (
            &["--workload", "trees", "--strategy", "refcount,generational", "--repeat", "20", "--max-cells", "10"],
            "raise it with --max-cells 40",
        ),
        (&["--workload", "trees", "--strategy", "refcount,refcount"], "`refcount` is listed twice"),
        (&["--workload", "trees", "--strategy", "refcount,,generational"], "an empty strategy name"),
        (&["--workload", "trees", "--out", "/proc/harness-run"], "--out /proc/harness-run: cannot write there"),
        (&["experiment", "thresholds", "--out", "/proc/harness-run"], "--out /proc/harness-run: cannot write there"),
        (&["validate", "--workload", "cycles", "--out", "/proc/harness-run"], "cannot write there"),
        (&["merge", "nowhere-part", "--out", "/proc/harness-run"], "cannot write there"),
        (&["merge", "nowhere-part"], "nowhere-part: not a run folder"),
        (&["resume", "nowhere-run"], "nowhere-run: not a run folder"),
        (&["report", "nowhere-run"], "not a run folder"),
        (&["--workload", "trees", "--shard", "3/2"], "expected i/n with 1 <= i <= n"),
        (
            &["--workload", "trees", "--allocator", "tcmalloc"],
            "possible values: pymalloc, pymalloc-classic, per-object",
        ),
        (&["validate", "--workload", "forest"], "possible values: trees"),
        (
            &["validate", "--workload", "cycles", "--wparam", "ring-size=1"],
            "`ring-size` = `1`: out of range (at least 2)",
        ),
        (
            &["validate", "--workload", "cycles", "--python", "python-2.7-nowhere"],
            "looked for `python-2.7-nowhere` on PATH",
        ),
        (&["validate", "--workload", "cycles", "--python", "true"], "did not answer like Python 3"),
    ];
    for (args, message) in cases {
        let dir = TempDir::new().unwrap();
        harness().current_dir(dir.path()).args(*args).assert().code(2).stderr(predicate::str::contains(*message));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{args:?} wrote nothing");
    }
}

/// An `--out` that cannot be written is refused up front, exit 2, in every command that writes.
#[test]
fn an_unwritable_out_is_refused_before_anything_runs() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("a-file"), "").unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), dir.path().join("dangling")).unwrap();
    let commands: [&[&str]; 3] = [
        &["--workload", "cycles", "--size", "smoke", "--strategy", "refcount"],
        &["experiment", "thresholds", "--size", "smoke"],
        &["validate", "--workload", "cycles", "--size", "smoke"],
    ];
    for command in commands {
        for (out, message) in [("a-file/run", "cannot write there"), ("dangling", "already exists")] {
            harness()
                .current_dir(dir.path())
                .args(command)
                .args(["--out", out])
                .assert()
                .code(2)
                .stderr(predicate::str::contains(format!("--out {out}: {message}")));
        }
    }
    let mut left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert_eq!(left, ["a-file", "dangling"], "nothing written");
}

/// `report` refuses (exit 2) a runs.csv that is empty or corrupt.
#[test]
fn report_refuses_empty_and_corrupt_runs() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness()
        .args(["--workload", "cycles", "--size", "smoke", "--strategy", "refcount", "--no-report", "--out"])
        .arg(&out)
        .assert()
        .success();
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let header = runs.lines().next().unwrap();
    std::fs::write(out.join("runs.csv"), format!("{header}\n")).unwrap();
    harness().arg("report").arg(&out).assert().code(2).stderr(predicate::str::contains("runs.csv has no rows"));
    std::fs::write(out.join("runs.csv"), format!("{header}\nx,y\n{}", runs.lines().nth(1).unwrap())).unwrap();
    harness().arg("report").arg(&out).assert().code(2).stderr(predicate::str::contains("runs.csv: line 2"));
}

#[test]
fn existing_output_folder_is_refused() {
    let dir = TempDir::new().unwrap();
    harness()
        .args(["--workload", "trees", "--size", "smoke", "--out"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
}

#[test]
fn validate_compares_with_cpython_and_writes_its_figures() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("validation");
    harness()
        .args(["validate", "--workload", "cycles", "--size", "smoke", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("identical on both sides").and(predicate::str::contains("collections")));
    let csv = std::fs::read_to_string(out.join("validate.csv")).unwrap();
    assert!(csv.starts_with("workload,size,seed,metric,generation,unit,cpython,ours,ratio,within_target\n"), "{csv}");
    for metric in ["collections", "collected", "examined_per_collection", "collection_pause_p99", "peak_rss"] {
        assert!(csv.contains(&format!(",{metric},")), "validate.csv has {metric}");
    }
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("cpython_gc_log.json")).unwrap()).unwrap();
    assert!(log["python"].as_str().unwrap().starts_with("3."), "{log}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["python"]["implementation"], "CPython");
}

#[test]
fn a_crashing_and_a_timed_out_cell_are_recorded_and_the_run_goes_on() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness()
        .env("HARNESS_TEST_CRASH_STRATEGY", "generational")
        .args(["--workload", "cycles", "--size", "smoke", "--strategy", "refcount,weakref,generational", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("generational: failed"));
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let status = |strategy: &str| runs.lines().find(|l| l.contains(&format!(",{strategy},"))).unwrap().to_string();
    let failed = status("generational");
    assert!(failed.contains(",failed,") && failed.contains("aborting this cell"), "{runs}");
    assert!(status("refcount").contains(",ok,") && status("weakref").contains(",ok,"), "{runs}");
    // A failed row writes the parameters in force, as an `ok` row would.
    assert!(failed.contains("threshold=700,10,10"), "{runs}");

    let out = dir.path().join("slow");
    harness()
        .args(["--workload", "trees", "--size", "default", "--strategy", "refcount", "--timeout", "0.5", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("timed out after"));
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert!(runs.contains(",timeout,") && runs.contains("killed after the"), "{runs}");
}

#[test]
fn repeats_run_every_cell_and_write_one_row_each() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness()
        .args([
            "--workload",
            "cycles",
            "--size",
            "smoke",
            "--strategy",
            "refcount,generational",
            "--repeat",
            "3",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"refcount +[0-9.]+ \([0-9.]+–[0-9.]+\)").unwrap());
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 6, "{runs}");
    let pauses = std::fs::read_to_string(out.join("pauses.csv")).unwrap();
    assert!(
        pauses.starts_with("run_id,cell,workload,strategy,repeat,kind,generation,start_ns,duration_ns,"),
        "{pauses}"
    );
    assert!(pauses.lines().skip(1).any(|l| l.contains(",generational,") && l.contains(",collection,")));
}

/// A small experiment over the `cycles` workload: two strategies, one swept parameter.
const SMOKE_EXPERIMENT: &str = r#"
name = "smoke-test"
description = "two strategies, a swept ring size"
seed = 7
size = "smoke"
repeat = 1
workloads = ["cycles"]
strategies = ["refcount", "generational"]

[[sweep]]
param = "cycles.ring-size"
values = [2, 21]

[[sweep]]
param = "generational.threshold0"
values = [100, 700]
"#;

fn experiment_file(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.path().join("smoke.toml");
    std::fs::write(&path, SMOKE_EXPERIMENT).unwrap();
    path
}

#[test]
fn a_smoke_experiment_writes_every_file() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness().arg("experiment").arg(experiment_file(&dir)).arg("--out").arg(&out).assert().success();
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 2 + 4, "refcount × 2 ring sizes + generational × 2 × 2: {runs}");
    assert!(std::fs::read_to_string(out.join("pauses.csv")).unwrap().lines().count() > 1);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["experiment"], "smoke-test");
    assert_eq!(meta["plan_cells"], 6);
}

#[test]
fn experiment_list_names_the_built_ins() {
    harness().args(["experiment", "--list"]).assert().success().stdout(
        predicate::str::contains("thresholds")
            .and(predicate::str::contains("instagram"))
            .and(predicate::str::contains("pauses")),
    );
}

#[test]
fn bad_experiment_files_exit_2_with_file_line_and_column() {
    let cases: &[(&str, &str)] = &[
        ("name = \"x\"\nworkloads = [\"cycles\"\n", "bad.toml:2:"),
        (
            "name = \"x\"\nworkloads = [\"cycles\"]\nstrategies = [\"refcount\"]\nrepeats = 3\n",
            "bad.toml:4:1: unknown field `repeats`",
        ),
        (
            "name = \"x\"\nworkloads = [\"cycles\"]\nstrategies = [\"generational\"]\n[strategy_params.generational]\nthreshold = \"0,10,10\"\n",
            "bad.toml:5:13:",
        ),
        (
            "name = \"x\"\nworkloads = [\"cycles\"]\nstrategies = [\"refcount\"]\n[workload_params.cycles]\nrings = -5\n",
            "`rings` = `-5`",
        ),
        (
            "name = \"x\"\nworkloads = [\"cycles\"]\nstrategies = [\"refcount\"]\n[strategy_params.refcount]\nx = 1\n",
            "has no parameter `x`",
        ),
    ];
    let base = "workloads = [\"cycles\"]\nstrategies = [\"refcount\", \"generational\"]\n";
    let named = |name: &str| format!("name = \"{name}\"\n{base}");
    let mut cases: Vec<(String, &str)> = cases.iter().map(|(t, m)| (t.to_string(), *m)).collect();
    cases.extend([
        (named("/../../../escaped2"), "bad.toml:1:8: name `/../../../escaped2`: expected 1 to 64 letters"),
        (named(""), "name ``: expected 1 to 64 letters"),
        (named("a/b"), "it names the run folder"),
        (
            "name = \"x\"\nworkloads = [\"cycles\"]\nstrategies = [\"refcount\", \"refcount\"]\n".into(),
            "bad.toml:3:27: strategies: `refcount` is listed twice",
        ),
        (
            format!("{}[[sweep]]\nparam = \"generational.threshold0\"\nvalues = [100, 100.0, 1e2]\n", named("x")),
            "100 is given twice",
        ),
        (
            format!(
                "{}[[sweep]]\nparam = \"generational.threshold0\"\nvalues = [100]\n[[sweep]]\nparam = \"generational.threshold0\"\nvalues = [200]\n",
                named("x")
            ),
            "is swept twice",
        ),
        (
            format!("{}[[sweep]]\nparam = \"manual.every\"\nvalues = [1, 2]\n", named("x")),
            "`manual` is not a selected workload or strategy (selected: cycles, refcount, generational)",
        ),
        (
            format!("{}[strategy_params.manual]\nevery = 2\n", named("x")),
            "strategy_params: `manual` is not selected in this experiment",
        ),
        (
            format!("{}[workload_params.trees]\ndepth = 6\n", named("x")),
            "workload_params: `trees` is not selected",
        ),
        (
            format!("{}[workload_params.cycles]\nrings = 99999999999999999999\n", named("x")),
            "bad.toml:5:9: integer 99999999999999999999 is out of range",
        ),
        (format!("{}[workload_params.cycles]\nrings = [1]\n", named("x")), "a string, an integer"),
        (format!("{}repeat = 1000000000\n", named("x")), "repeat: expected an integer from 1 to 1000"),
        (
            format!(
                "{}[[sweep]]\nparam = \"generational.threshold0\"\nvalues = [{}]\n\
                 [[sweep]]\nparam = \"cycles.rings\"\nvalues = [{}]\n",
                named("x"),
                (1..=200).map(|v| v.to_string()).collect::<Vec<_>>().join(", "),
                (1..=100).map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
            ),
            "the plan has 60300 cells, more than the limit of 10000; raise it with --max-cells 60300",
        ),
    ]);
    for (text, message) in &cases {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        harness().current_dir(dir.path()).args(["experiment", "bad.toml"]).assert().code(2).stderr(
            predicate::str::contains(*message)
                .and(predicate::str::contains("untagged").not())
                .and(predicate::str::contains("i128").not()),
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("bad.toml")], "{text}: nothing written");
    }
    harness()
        .args(["experiment", "no-such-experiment"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("built in: thresholds"));
}

/// Rows without the figures that depend on timing or on the run id.
fn comparable(csv: &str) -> Vec<String> {
    let (header, rows) = csv_table(csv);
    let timing = |name: &str| {
        name == "run_id"
            || name.ends_with("_ms")
            || name.ends_with("_us")
            || name.ends_with("_ns")
            || name.ends_with("_bytes")
    };
    rows.iter()
        .map(|fields| {
            header
                .iter()
                .zip(fields)
                .filter(|(name, _)| !timing(name))
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// A CSV file's header and rows, fields unquoted (parameters such as `threshold=700,10,10` are).
fn csv_table(csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

#[test]
fn two_shards_merge_into_the_unsharded_run() {
    let dir = TempDir::new().unwrap();
    let file = experiment_file(&dir);
    let run = |extra: &[&str], out: &str| {
        harness().arg("experiment").arg(&file).args(extra).arg("--out").arg(dir.path().join(out)).assert().success();
    };
    run(&[], "whole");
    run(&["--shard", "1/2"], "part1");
    run(&["--shard", "2/2"], "part2");
    harness()
        .arg("merge")
        .arg(dir.path().join("part1"))
        .arg(dir.path().join("part2"))
        .arg("--out")
        .arg(dir.path().join("merged"))
        .assert()
        .success();
    let read = |folder: &str, file: &str| std::fs::read_to_string(dir.path().join(folder).join(file)).unwrap();
    assert_eq!(comparable(&read("merged", "runs.csv")), comparable(&read("whole", "runs.csv")));
    let pause_count = |folder: &str| read(folder, "pauses.csv").lines().count();
    assert_eq!(pause_count("merged"), pause_count("part1") + pause_count("part2") - 1);
    // A shard given twice, or one missing, is refused.
    harness()
        .arg("merge")
        .arg(dir.path().join("part1"))
        .arg(dir.path().join("part1"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("appears in two parts"));
    harness()
        .arg("merge")
        .arg(dir.path().join("part1"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cells missing"));
    // A part that lost a row, or whose last row was cut, is refused: no merged folder with a hole.
    let runs = read("part2", "runs.csv");
    let lines: Vec<&str> = runs.lines().collect();
    for (damaged, message) in [
        (lines[..lines.len() - 1].join("\n") + "\n", "has no row in runs.csv"),
        (runs.trim_end_matches('\n')[..runs.trim_end_matches('\n').len() - 3].to_string(), "torn"),
    ] {
        std::fs::write(dir.path().join("part2/runs.csv"), damaged).unwrap();
        harness()
            .arg("merge")
            .arg(dir.path().join("part1"))
            .arg(dir.path().join("part2"))
            .arg("--out")
            .arg(dir.path().join("holes"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
        assert!(!dir.path().join("holes").exists());
    }
}

#[test]
fn a_leak_past_the_heap_cap_stops_the_cell_not_the_run() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness()
        .args(["--workload", "cycles", "--size", "small", "--strategy", "refcount,generational", "--max-heap", "4M"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("leaked-over-cap"));
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let row = |strategy: &str| runs.lines().find(|l| l.contains(&format!(",{strategy},"))).unwrap().to_string();
    assert!(row("refcount").contains(",leaked-over-cap,"), "{runs}");
    assert!(row("generational").contains(",ok,"), "the collector keeps the heap under the cap: {runs}");

    // The stop at the cap is silent: no panic message, no backtrace symbolised inside the
    // measured region, even with RUST_BACKTRACE=1.
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
    let refcount = meta["cells"].as_array().unwrap().iter().find(|c| c["spec"]["strategy"] == "refcount").unwrap();
    let child = harness()
        .env("RUST_BACKTRACE", "1")
        .arg("--run-cell")
        .arg(refcount["spec"].to_string())
        .assert()
        .success()
        .stdout(predicate::str::contains("leaked-over-cap"));
    let stderr = String::from_utf8_lossy(&child.get_output().stderr).to_string();
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
    // The environment that changes figures is recorded.
    let out = dir.path().join("with-backtrace");
    harness()
        .env("RUST_BACKTRACE", "1")
        .args(["--workload", "cycles", "--size", "smoke", "--strategy", "refcount", "--no-report", "--out"])
        .arg(&out)
        .assert()
        .success();
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["environment"]["RUST_BACKTRACE"], "1");
}

#[test]
fn recording_both_ways_reports_its_overhead_and_memory_samples() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness()
        .args(["--workload", "cycles", "--size", "smoke", "--strategy", "generational", "--recording", "both"])
        .args(["--sample-every", "1000", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("recording overhead, cycles generational"));
    let memory = std::fs::read_to_string(out.join("memory.csv")).unwrap();
    let mut lines = memory.lines();
    assert_eq!(
        lines.next().unwrap(),
        "run_id,cell,workload,strategy,repeat,trigger,time_ns,allocations,live_objects,live_bytes,\
         allocator_in_use_bytes,allocator_reserved_bytes,arenas,rss_bytes,requests_done,retained_bytes"
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.iter().any(|r| r.contains(",interval,")) && rows.iter().any(|r| r.contains(",final,")), "{memory}");
    assert!(
        rows.iter().all(|r| r.split(',').nth(1).is_some_and(|cell| cell.parse::<usize>().unwrap() % 2 == 1)),
        "samples come from the recording cells (odd: off, on for each repeat) only: {memory}"
    );
}

#[test]
fn runs_draw_their_report_unless_told_not_to_and_report_redraws_it() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness()
        .args([
            "--workload",
            "cycles",
            "--size",
            "smoke",
            "--strategy",
            "refcount,generational",
            "--no-report",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    assert!(!out.join("report.html").exists() && !out.join("charts").exists(), "--no-report draws nothing");
    harness().arg("report").arg(&out).assert().success().stdout(predicate::str::contains("report.html"));
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("<img"), "the page shows the charts inline");
    let charts: Vec<_> = std::fs::read_dir(out.join("charts")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(charts.iter().any(|n| n.to_string_lossy().ends_with(".svg")));
    assert!(charts.iter().any(|n| n.to_string_lossy().ends_with(".png")));
    harness().arg("report").arg(dir.path()).assert().code(2).stderr(predicate::str::contains("not a run folder"));
}

/// The pids of a process's children, from `/proc`.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

/// Starts `harness args` with `weakref` cells stalled, waits until one of them runs, and returns
/// the harness process and the stalled child's pid.
fn start_until_weakref_runs(args: &[&std::ffi::OsStr]) -> (std::process::Child, u32) {
    let mut harness = std::process::Command::new(assert_cmd::cargo::cargo_bin("harness"))
        .args(args)
        .env("HARNESS_TEST_STALL_STRATEGY", "weakref")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let stalled = children(harness.id()).into_iter().find(|child| {
            std::fs::read(format!("/proc/{child}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(r#""strategy":"weakref""#))
        });
        if let Some(child) = stalled {
            return (harness, child);
        }
        assert!(started.elapsed().as_secs() < 60, "the weakref cell never started");
        assert!(harness.try_wait().unwrap().is_none(), "the harness ended before the weakref cell");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Fault injection: a sweep killed with SIGKILL in the middle of a cell, its last rows torn,
/// then resumed, equals the same sweep run without interruption (timings and run ids aside); the
/// killed harness's running cell does not outlive it.
#[test]
fn a_killed_harness_leaves_no_cell_running_and_its_sweep_resumes_to_the_same_result() {
    let dir = TempDir::new().unwrap();
    let file = experiment_file(&dir);
    let sweep = |out: &str| -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = vec!["experiment".into(), file.clone().into_os_string()];
        args.extend(["--no-report".into(), "--out".into(), dir.path().join(out).into_os_string()]);
        args
    };
    let mut with_weakref = std::fs::read_to_string(&file).unwrap();
    with_weakref = with_weakref.replace(
        r#"strategies = ["refcount", "generational"]"#,
        r#"strategies = ["refcount", "weakref", "generational"]"#,
    );
    std::fs::write(&file, with_weakref).unwrap();

    harness().args(sweep("whole")).assert().success();

    let args = sweep("killed");
    let (mut killed, stalled_child) = start_until_weakref_runs(&args.iter().map(|a| a.as_os_str()).collect::<Vec<_>>());
    killed.kill().unwrap(); // SIGKILL
    killed.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while alive(stalled_child) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!alive(stalled_child), "the running cell died with its parent");

    let folder = dir.path().join("killed");
    let runs = std::fs::read_to_string(folder.join("runs.csv")).unwrap();
    let total = std::fs::read_to_string(dir.path().join("whole/runs.csv")).unwrap().lines().count();
    let done = runs.lines().count().saturating_sub(1);
    assert!(done >= 1 && done < total - 1, "killed mid-way: {done} of {} cells done", total - 1);
    // A kill in the middle of a write: torn last rows in two files.
    let mut torn = std::fs::OpenOptions::new().append(true).open(folder.join("runs.csv")).unwrap();
    std::io::Write::write_all(&mut torn, b"20261206-000000.0-0000-x,99,cyc").unwrap();
    let mut torn = std::fs::OpenOptions::new().append(true).open(folder.join("pauses.csv")).unwrap();
    std::io::Write::write_all(&mut torn, b"20261206-000000.0-0000-x,99,cycles,refcount,1,coll").unwrap();

    harness().arg("report").arg(&folder).assert().code(2).stderr(predicate::str::contains("harness resume"));
    harness().arg("merge").arg(&folder).assert().code(2).stderr(predicate::str::contains("not complete"));
    harness().arg("resume").arg(&folder).arg("--no-report").assert().success();
    let read = |folder: &str, file: &str| std::fs::read_to_string(dir.path().join(folder).join(file)).unwrap();
    for file in ["runs.csv", "pauses.csv", "memory.csv"] {
        assert_eq!(comparable(&read("killed", file)), comparable(&read("whole", file)), "{file}");
    }
    let meta: serde_json::Value = serde_json::from_str(&read("killed", "meta.json")).unwrap();
    assert_eq!(meta["complete"], true);
    harness().arg("resume").arg(&folder).assert().code(2).stderr(predicate::str::contains("nothing to resume"));
}

/// SIGINT and SIGTERM stop the running cell, keep what finished, exit 130 / 143 and say how
/// to resume.
#[test]
fn a_signal_stops_the_run_resumably() {
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let dir = TempDir::new().unwrap();
        let out = dir.path().join("run");
        let args: Vec<&std::ffi::OsStr> =
            ["--workload", "cycles", "--size", "smoke", "--strategy", "refcount,weakref", "--out"]
                .iter()
                .map(std::ffi::OsStr::new)
                .chain([out.as_os_str()])
                .collect();
        let (mut harness, stalled_child) = start_until_weakref_runs(&args);
        let sent = std::process::Command::new("kill").arg(format!("-{signal}")).arg(harness.id().to_string()).status();
        assert!(sent.unwrap().success());
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut harness.stderr.take().unwrap(), &mut stderr).unwrap();
        let status = harness.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{signal}: {stderr}");
        assert!(stderr.contains(&format!("harness resume {}", out.display())), "{stderr}");
        assert!(!alive(stalled_child), "the running cell is stopped");
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
        assert_eq!(meta["complete"], false);
    }
}

/// Prefork's bad input: 0 workers, more than `strategies::MAX_WORKERS` (64), workers without
/// prefork, prefork on a workload that does not split its requests among workers.
#[test]
fn bad_prefork_input_exits_2_and_writes_nothing() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--workload", "requests", "--wparam", "prefork=true", "--wparam", "workers=0"],
            "`workers` = `0`: out of range (at least 1)",
        ),
        (
            &["--workload", "requests", "--wparam", "prefork=true", "--wparam", "workers=65"],
            "`workers` = `65`: out of range (max 64)",
        ),
        (&["--workload", "requests", "--wparam", "workers=2"], "only with prefork=true"),
        (&["--workload", "trees", "--wparam", "prefork=true"], "`trees` has no parameter `prefork`"),
    ];
    for (args, message) in cases {
        let dir = TempDir::new().unwrap();
        harness().current_dir(dir.path()).args(*args).assert().code(2).stderr(predicate::str::contains(*message));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{args:?} wrote nothing");
    }
}

/// `cow.csv`'s rows as maps from column to value.
fn cow_rows(run: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(run.join("cow.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

#[test]
fn a_prefork_run_writes_cow_csv_with_every_phase_for_every_worker() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness()
        .args(["--workload", "requests", "--size", "smoke", "--strategy", "generational,manual,refcount"])
        .args(["--wparam", "prefork=true", "--wparam", "workers=3", "--no-report", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("identical under every strategy"));
    let rows = cow_rows(&out);
    for cell in 0..3 {
        for worker in 0..3 {
            let phases: Vec<&str> = rows
                .iter()
                .filter(|r| r["cell"] == cell.to_string() && r["worker"] == worker.to_string())
                .map(|r| r["phase"].as_str())
                .collect();
            assert_eq!(phases.first(), Some(&"fork"), "cell {cell} worker {worker}: {phases:?}");
            assert_eq!(phases[phases.len() - 2..], ["served", "collected"], "cell {cell} worker {worker}");
            assert!(phases.contains(&"serving"), "cell {cell} worker {worker}: {phases:?}");
        }
    }
    assert!(rows.iter().all(|r| r["rss_bytes"].parse::<u64>().unwrap() > 0), "every sample read smaps_rollup");
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let header = runs.lines().next().unwrap();
    assert!(header.ends_with("shared_after_serving_bytes,private_after_serving_bytes"), "{header}");
    assert!(runs.lines().skip(1).all(|l| !l.ends_with(",,")), "every prefork cell has its means: {runs}");
}

#[test]
fn a_crashing_worker_fails_its_cell_and_the_run_goes_on() {
    // Under refcount every cyclic request leaks, so the workers pass the 1 MiB heap cap (the
    // cell process, which serves nothing, does not); under generational they do not.
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness()
        .args(["--workload", "requests", "--size", "smoke", "--strategy", "refcount,generational", "--max-heap", "1M"])
        .args(["--wparam", "prefork=true", "--wparam", "cycle-fraction=1", "--wparam", "requests=400"])
        .args(["--wparam", "long-lived=500", "--no-report", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("refcount").and(predicate::str::contains("failed")));
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let row = |strategy: &str| runs.lines().find(|l| l.contains(&format!(",{strategy},"))).unwrap().to_string();
    assert!(
        row("refcount").contains(",failed,") && row("refcount").contains("worker 0 exited with status 101"),
        "{runs}"
    );
    assert!(row("generational").contains(",ok,"), "{runs}");
    assert!(cow_rows(&out).iter().all(|r| r["strategy"] == "generational"), "a failed cell writes no cow rows");
}

/// Shared pages are the kernel's count, not a timing: the ordering is stable. The heap (30,000
/// long-lived containers, about 4.5 MiB of pages) spans a thousand pages; each worker serves
/// 2,500 requests, enough for CPython's rules to run a full collection in each.
#[test]
fn the_collector_unshares_the_heap_and_freeze_keeps_it_shared() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness()
        .args(["--workload", "requests", "--size", "small", "--strategy", "generational,manual", "--repeat", "1"])
        .args(["--param", "manual.freeze=true", "--wparam", "prefork=true", "--wparam", "sample=0"])
        .args(["--wparam", "requests=5000", "--no-report", "--out"])
        .arg(&out)
        .assert()
        .success();
    let rows = cow_rows(&out);
    let mean = |strategy: &str, phase: &str| {
        let values: Vec<f64> = rows
            .iter()
            .filter(|r| r["strategy"] == strategy && r["phase"] == phase)
            .map(|r| r["shared_bytes"].parse::<f64>().unwrap())
            .collect();
        assert_eq!(values.len(), 2, "{strategy} {phase}: one sample per worker");
        values.iter().sum::<f64>() / 2.0
    };
    let (generational, frozen) = (mean("generational", "served"), mean("manual", "served"));
    assert!(mean("manual", "fork") > 4e6, "the heap spans many pages");
    assert!(generational < 0.7 * frozen, "generational {generational} against freeze {frozen}");
    assert!(frozen > 0.95 * mean("manual", "fork"), "freeze without touching keeps the sharing");
}

/// A run folder with one `ok` row per (strategy, wall time) given: `runs.csv` and `meta.json`,
/// as `harness compare` reads them.
fn synthetic_folder(dir: &std::path::Path, workload_params: &str, cells: &[(&str, f64)]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut csv = String::from(
        "run_id,cell,workload,strategy,repeat,size,seed,recording,allocator,build_profile,workload_params,\
         strategy_params,status,checksum,error,wall_time_ms,mm_time_ms,mutator_time_ms,pause_count,pause_p50_us,\
         pause_p99_us,pause_max_us,requests,request_p50_us,request_p99_us,request_max_us,peak_rss_bytes,\
         peak_reserved_bytes,leaked_objects,leaked_bytes,immortal_objects,immortal_bytes,collections_gen0,\
         collections_gen1,collections_gen2,shared_after_serving_bytes,private_after_serving_bytes\n",
    );
    for (cell, (strategy, wall)) in cells.iter().enumerate() {
        csv += &format!(
            "fixture,{cell},cycles,{strategy},{},smoke,42,true,pymalloc/jemalloc,release,{workload_params},\
             back-edges=strong,ok,abc,,{wall},{mm},{mutator},3,10,{p99},{p99},0,,,,10000000,4000000,0,0,0,0,1,0,0,,\n",
            cell + 1,
            mm = wall / 10.0,
            mutator = wall * 0.9,
            p99 = wall * 2.0,
        );
    }
    std::fs::write(dir.join("runs.csv"), csv).unwrap();
    std::fs::write(dir.join("meta.json"), "{}").unwrap();
}

#[test]
fn compare_finds_a_significant_difference_and_calls_noise_not_significant() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    synthetic_folder(
        &a,
        "rings=10",
        &[
            ("refcount", 100.0),
            ("refcount", 101.0),
            ("refcount", 102.0),
            ("nogc", 90.0),
            ("nogc", 99.0),
            ("nogc", 94.0),
        ],
    );
    synthetic_folder(
        &b,
        "rings=10",
        &[
            ("refcount", 150.0),
            ("refcount", 151.0),
            ("refcount", 153.0),
            ("nogc", 96.0),
            ("nogc", 91.0),
            ("nogc", 98.0),
        ],
    );
    let output = harness().arg("compare").arg(&a).arg(&b).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(output).unwrap();
    let line = |strategy: &str, figure: &str| {
        text.lines()
            .find(|l| l.contains(strategy) && l.contains(&format!(" {figure} ")))
            .unwrap_or_else(|| panic!("{strategy} {figure}:\n{text}"))
            .to_string()
    };
    let refcount = line("refcount", "wall");
    assert!(refcount.contains("1.495×") && refcount.ends_with("slower"), "{refcount}");
    let nogc = line("nogc", "wall");
    assert!(nogc.ends_with("not significant"), "{nogc}");
    assert!(text.contains("95% bootstrap interval"), "{text}");
}

#[test]
fn compare_of_matching_folders_finds_no_difference() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let cells = [("refcount", 100.0), ("refcount", 104.0), ("refcount", 98.0)];
    synthetic_folder(&a, "rings=10", &cells);
    synthetic_folder(&b, "rings=10", &cells);
    harness()
        .arg("compare")
        .arg(&a)
        .arg(&b)
        .assert()
        .success()
        .stdout(predicate::str::contains("1.000×").and(predicate::str::contains("slower").not()));
}

#[test]
fn compare_refuses_folders_of_different_workload_configurations() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    synthetic_folder(&a, "rings=10", &[("refcount", 100.0)]);
    synthetic_folder(&b, "rings=20", &[("refcount", 100.0)]);
    harness().arg("compare").arg(&a).arg(&b).assert().code(2).stderr(
        predicate::str::contains("ran different workload configurations")
            .and(predicate::str::contains("only in the first: cycles smoke seed 42 {rings=10}")),
    );
    harness()
        .arg("compare")
        .arg(&a)
        .arg(dir.path().join("missing"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a run folder"));
}

#[test]
fn exports_write_the_summary_and_overhead_table_in_every_format() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("run");
    harness()
        .args(["--workload", "cycles", "--size", "smoke", "--strategy", "refcount,nogc", "--repeat", "2"])
        .args(["--no-report", "--export", "markdown,latex,json,csv", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("summary.tex"));
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    let markdown = read("summary.md");
    assert!(markdown.contains("### Summary: cycles smoke") && markdown.contains("### LBO overhead:"), "{markdown}");
    assert!(markdown.contains("| refcount |") && markdown.contains("Time bound:"), "{markdown}");
    let latex = read("summary.tex");
    assert!(latex.contains("\\begin{tabular}") && latex.contains("\\caption{LBO overhead:"), "{latex}");
    let json: serde_json::Value = serde_json::from_str(&read("summary.json")).unwrap();
    assert_eq!(json["tables"].as_array().unwrap().len(), 2, "summary and overhead tables");
    assert!(read("summary.csv").starts_with("table,row,column,value\n"));

    // report --export redraws them; compare --export writes compare.EXT where told.
    std::fs::remove_file(out.join("summary.md")).unwrap();
    harness().arg("report").arg(&out).args(["--export", "markdown"]).assert().success();
    assert!(out.join("summary.md").is_file());
    harness()
        .arg("compare")
        .arg(&out)
        .arg(&out)
        .args(["--export", "latex", "--export-dir"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(read("../compare.tex").contains("not significant"));
}

/// The `runs.csv` columns before RunRow was split into groups (the cell key first, then its
/// setup, how it ended, and the figures).
const OLD_RUNS_COLUMNS: &str = "run_id,cell,workload,size,seed,strategy,repeat,recording,allocator,build_profile,\
    status,checksum,wall_time_ms,mm_time_ms,mutator_time_ms,pause_count,pause_p50_us,pause_p99_us,pause_max_us,\
    requests,request_p50_us,request_p99_us,request_max_us,peak_rss_bytes,peak_reserved_bytes,leaked_objects,\
    leaked_bytes,immortal_objects,immortal_bytes,collections_gen0,collections_gen1,collections_gen2,\
    workload_params,strategy_params,error,shared_after_serving_bytes,private_after_serving_bytes";

/// A `runs.csv` of an older harness (the same columns in their old order) is refused by every
/// command that reads one, with exit 2 and the column that differs, never a panic.
#[test]
fn an_old_format_runs_csv_is_refused_by_report_compare_merge_and_resume() {
    let dir = TempDir::new().unwrap();
    let part = |i: u32| dir.path().join(format!("part{i}"));
    for i in [1, 2] {
        harness()
            .args(["--workload", "cycles", "--size", "smoke", "--strategy", "refcount", "--repeat", "2"])
            .args(["--shard", &format!("{i}/2"), "--no-report", "--out"])
            .arg(part(i))
            .assert()
            .success();
    }
    let runs = part(2).join("runs.csv");
    let (columns, rows) = csv_table(&std::fs::read_to_string(&runs).unwrap());
    let mut writer = csv::Writer::from_writer(Vec::new());
    let old: Vec<&str> = OLD_RUNS_COLUMNS.split(',').collect();
    writer.write_record(&old).unwrap();
    for row in &rows {
        writer.write_record(old.iter().map(|name| &row[columns.iter().position(|c| c == name).unwrap()])).unwrap();
    }
    std::fs::write(&runs, writer.into_inner().unwrap()).unwrap();
    let refused = "runs.csv: the columns are not the ones this harness writes (a file of another version of the \
                   harness?): column 4 is `size`, expected `strategy`";
    let meta = part(2).join("meta.json");
    let complete = std::fs::read_to_string(&meta).unwrap();
    let commands: [Vec<std::ffi::OsString>; 3] = [
        vec!["report".into(), part(2).into()],
        vec!["compare".into(), part(1).into(), part(2).into()],
        vec!["merge".into(), part(1).into(), part(2).into(), "--out".into(), dir.path().join("merged").into()],
    ];
    for args in commands {
        harness().args(&args).assert().code(2).stderr(predicate::str::contains(refused));
    }
    assert!(!dir.path().join("merged").exists(), "nothing merged");
    std::fs::write(&meta, complete.replace("\"complete\": true", "\"complete\": false")).unwrap();
    harness().arg("resume").arg(part(2)).assert().code(2).stderr(predicate::str::contains(refused));
}
