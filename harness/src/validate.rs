//! `harness validate`: runs a workload's Python twin under real CPython and the workload itself
//! under the strategy that models that interpreter's collector (`generational` for 3.8–3.13 and
//! 3.14.5+, `incremental` for 3.14.0–3.14.4), and compares what the two cycle collectors did.
//!
//! 1. **Probe** the interpreter: it must be CPython 3.8 or newer (the twin runner reads
//!    `gc.get_objects(generation)`); versions no strategy models get a warning.
//! 2. **Run the twin** (embedded in this binary, unpacked into a temporary folder) twice with
//!    GC on at CPython's default thresholds: once to time every collection through
//!    `gc.callbacks`, once counting the objects each collection examines (counting costs time
//!    inside the callback, so it never shares a run with the timings).
//! 3. **Run ours**: the same workload, size, seed and parameters under that strategy in a
//!    child process, like any cell of a run, with the `--param`s given (default: the
//!    interpreter's own thresholds, `cpython313` for 3.13 and newer, else `cpython311`);
//!    `--param back-edges=weak` reaches the twin too (the `trees` twin has weak parents).
//! 4. **Compare** side by side, with ratios: collections and objects collected per generation
//!    (the model's target: within 10% of CPython), objects examined per collection, collection
//!    pauses p50/p99/max, request latencies, peak RSS and wall time. The checksums must agree.
//!    The figures go to `validate.csv` in the run folder, beside `meta.json` and CPython's raw
//!    log.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use workloads::{Size, WorkloadArgs};

use crate::cell::{self, CellOutcome, CellResult, CellSpec, GenerationRecord, LatencySummary, StopFlag};
use crate::cli::{ValidateArgs, parse_pairs, parse_timeout, refuse};
use crate::plan::{CellSettings, Plan, number_cells};
use crate::results::{self, format_bytes, format_duration_us};
use crate::{folder, system};

include!(concat!(env!("OUT_DIR"), "/twins.rs"));

/// Oldest CPython whose `gc` module the twin runner can read.
const MIN_PYTHON: (u32, u32) = (3, 8);
/// CPython versions whose collector a strategy models ([`model`]): 3.11–3.13 and 3.14.5+
/// `generational` (3.13 with its own thresholds), 3.14.0–3.14.4 `incremental`.
const MODELLED_PYTHONS: [(u32, u32); 4] = [(3, 11), (3, 12), (3, 13), (3, 14)];
/// The model's target: collections and objects collected within this fraction of CPython's.
const TOLERANCE: f64 = 0.10;

/// The interpreter `--python` names.
#[derive(Clone, Debug, Serialize)]
struct Interpreter {
    command: String,
    implementation: String,
    version: (u32, u32, u32),
}

/// What the twin runner (`workloads/python/run.py --gc-log`) writes.
#[derive(Debug, Serialize, Deserialize)]
struct TwinLog {
    python: String,
    thresholds: [u64; 3],
    stats_before: [GenerationRecord; 3],
    stats: [GenerationRecord; 3],
    collections: Vec<TwinCollection>,
    request_latencies_ns: Vec<u64>,
    explicit_collects: u64,
    wall_ns: u64,
    peak_rss_bytes: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TwinCollection {
    generation: u8,
    collected: u64,
    uncollectable: u64,
    duration_ns: u64,
    examined: Option<u64>,
}

/// What the twin printed on stdout.
#[derive(Debug, Deserialize)]
struct TwinReply {
    checksum: String,
}

/// One line of `validate.csv`: one figure, CPython's and ours.
#[derive(Debug, Serialize)]
struct ComparisonRow {
    workload: String,
    size: String,
    seed: u64,
    metric: &'static str,
    /// Empty for figures that are not per generation.
    generation: Option<u8>,
    unit: &'static str,
    cpython: f64,
    ours: f64,
    /// ours / CPython; empty when CPython's figure is 0.
    ratio: Option<f64>,
    /// Whether the figure meets the model's ±10% target; empty for figures without one.
    within_target: Option<bool>,
}

/// `meta.json` of a validation run.
#[derive(Debug, Serialize)]
struct ValidateMeta {
    #[serde(flatten)]
    run: results::Meta,
    python: Interpreter,
    tolerance: f64,
}

pub fn run(args: &ValidateArgs) -> ExitCode {
    let timeout = parse_timeout(args.timeout).unwrap_or_else(|e| refuse(e));
    let interpreter = probe(&args.python).unwrap_or_else(|e| refuse(e));
    let spec = plan(args, &interpreter);
    let (major, minor, _) = interpreter.version;
    if !MODELLED_PYTHONS.contains(&(major, minor)) {
        eprintln!(
            "warning: no strategy models {} {major}.{minor}'s collector; `{}` (CPython 3.11's) may collect differently",
            interpreter.implementation, spec.strategy
        );
    }
    let run_id = results::new_run_id(&format!("validate-{}", spec.workload));
    let folder = args.out.clone().unwrap_or_else(|| results::default_folder(&run_id));
    folder::check_out(&folder).unwrap_or_else(|e| refuse(e));
    let (cells, plan_cells, plan_digest) = number_cells(vec![spec], None).unwrap_or_else(|e| refuse(e));
    let plan = Plan {
        cells,
        plan_cells,
        plan_digest,
        shard: None,
        seed: args.seed,
        timeout,
        experiment: "validate".into(),
        out: args.out.clone(),
        warmup: 0,
        reproduces: None,
    };
    match compare(&plan, &interpreter, &run_id, &folder) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Checks the arguments and builds the cell our side runs; refuses (exit 2) on bad input.
fn plan(args: &ValidateArgs, interpreter: &Interpreter) -> CellSpec {
    let size = Size::from_name(&args.size).expect("clap checked the size");
    let workload_params = parse_pairs(&args.workload_params, "--wparam");
    let workload_args = WorkloadArgs { size, seed: args.seed, params: workload_params.clone() };
    let info = workloads::find(&args.workload).expect("clap checked the workload");
    if let Err(e) = info.build(&workload_args) {
        refuse(e);
    }
    if !TWIN_FILES.iter().any(|(name, _)| *name == twin_file_name(&args.workload)) {
        refuse(format!("workload `{}` has no Python twin in workloads/python", args.workload));
    }
    let mut strategy_params = parse_pairs(&args.params, "--param");
    let (model, defaults) = model(interpreter.version);
    for (name, value) in defaults {
        strategy_params.entry(name.to_string()).or_insert_with(|| value.to_string());
    }
    if let Err(e) = strategies::strategy::find(model).expect("registered").build(&strategy_params) {
        refuse(e);
    }
    let settings = CellSettings {
        size: args.size.clone(),
        seed: args.seed,
        allocator: "pymalloc".into(),
        backend: "jemalloc".into(),
        cascade_threshold: 1000,
        max_heap_bytes: system::default_heap_cap(),
        sample_every: strategies::DEFAULT_SAMPLE_EVERY,
        repeats: 1,
        recordings: vec![true],
    };
    settings.cells(&args.workload, &workload_params, model, &strategy_params).remove(0)
}

/// The strategy that models the interpreter's collector, with the parameters that make it that
/// interpreter's unless `--param` says otherwise: 3.14.0 to 3.14.4 ran the incremental collector
/// (young threshold 2000; 3.14.1 changed its arithmetic), the others the generational one at
/// their own thresholds.
fn model(version: (u32, u32, u32)) -> (&'static str, Vec<(&'static str, &'static str)>) {
    match version {
        (3, 14, 0) => ("incremental", vec![("threshold", "2000"), ("version", "3.14.0")]),
        (3, 14, 1..=4) => ("incremental", vec![("threshold", "2000"), ("version", "3.14.1")]),
        _ => ("generational", vec![("threshold", interpreter_thresholds(version))]),
    }
}

/// The threshold preset of the interpreter's own default thresholds.
fn interpreter_thresholds((major, minor, _): (u32, u32, u32)) -> &'static str {
    if (major, minor) >= (3, 13) { "cpython313" } else { "cpython311" }
}

fn twin_file_name(workload: &str) -> String {
    format!("{}.py", workload.replace('-', "_"))
}

/// Finds out what `python` is; a clear message if it is missing, not CPython, or too old.
fn probe(python: &str) -> Result<Interpreter, String> {
    let script = "import platform, sys; print(platform.python_implementation(), *sys.version_info[:3])";
    let output = Command::new(python).args(["-c", script]).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("--python {python}: no such interpreter (looked for `{python}` on PATH); install CPython 3.11 or pass --python PATH")
        } else {
            format!("--python {python}: cannot run it: {e}")
        }
    })?;
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    let parsed = match fields.as_slice() {
        [implementation, major, minor, micro] if output.status.success() => {
            match (major.parse(), minor.parse(), micro.parse()) {
                (Ok(major), Ok(minor), Ok(micro)) => Some((implementation.to_string(), (major, minor, micro))),
                _ => None,
            }
        }
        _ => None,
    };
    let Some((implementation, version)) = parsed else {
        return Err(format!(
            "--python {python}: it did not answer like Python 3 (looked for `platform.python_implementation()` and `sys.version_info`); stderr: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    };
    let (major, minor, micro) = version;
    if implementation != "CPython" {
        return Err(format!(
            "--python {python} is {implementation} {major}.{minor}.{micro}; validate compares with CPython's collector"
        ));
    }
    if (major, minor) < MIN_PYTHON {
        return Err(format!(
            "--python {python} is CPython {major}.{minor}.{micro}; validate needs CPython {}.{} or newer",
            MIN_PYTHON.0, MIN_PYTHON.1
        ));
    }
    Ok(Interpreter { command: python.to_string(), implementation, version })
}

/// Runs both sides, prints the comparison and writes the run folder. `Ok(false)` when the
/// checksums differ.
fn compare(plan: &Plan, interpreter: &Interpreter, run_id: &str, folder: &Path) -> Result<bool> {
    let spec = &plan.cells[0].spec;
    let twins = unpack_twins()?;
    let (major, minor, micro) = interpreter.version;
    eprintln!("running the {} twin ({}) under CPython {major}.{minor}.{micro} ...", spec.workload, spec.size);
    let (checksum, timed) = run_twin(interpreter, twins.path(), spec, false)?;
    eprintln!("running it again, counting the objects each collection examines ...");
    let (_, counted) = run_twin(interpreter, twins.path(), spec, true)?;
    eprintln!("running {} under {} ...", spec.workload, spec.strategy);
    let ours = match cell::run_in_child(spec, plan.timeout, &StopFlag::default()) {
        Ok(CellResult::Ok(outcome)) => *outcome,
        Ok(CellResult::Failed { error }) => bail!("our run failed: {error}"),
        Ok(CellResult::TimedOut { after, .. }) => {
            bail!("our run took longer than the {} timeout", format_duration_us(after.as_secs_f64() * 1e6))
        }
        Err(_) => bail!("our run was stopped"),
    };
    if system::debug_assertions() {
        eprintln!(
            "note: a build with debug assertions; pause and wall-time ratios mean little (counts are exact): use --release"
        );
    }

    let rows = comparison_rows(spec, &timed, &counted, &ours);
    println!(
        "\n{} (size {}, seed {}) — CPython {major}.{minor}.{micro} against `{}`",
        spec.workload, spec.size, spec.seed, spec.strategy
    );
    println!("{}", table(&rows));
    let agree = checksum == ours.checksum;
    if agree {
        println!("checksum {checksum}: identical on both sides");
    } else {
        eprintln!("error: the twin computed checksum {checksum}, ours {}: the two programs differ", ours.checksum);
    }
    let missed: Vec<String> = rows
        .iter()
        .filter(|r| r.within_target == Some(false))
        .map(|r| format!("{} gen {}", r.metric, r.generation.unwrap_or_default()))
        .collect();
    if missed.is_empty() {
        println!("target met: collections and objects collected are within ±10% of CPython's in every generation");
    } else {
        println!("target missed (±10%): {}", missed.join(", "));
    }

    let meta = ValidateMeta {
        run: results::Meta { complete: true, ..results::meta(run_id, plan) },
        python: interpreter.clone(),
        tolerance: TOLERANCE,
    };
    results::write_folder_atomically(folder, |staging| {
        results::write_csv(&staging.join("validate.csv"), &rows)?;
        results::write_json(&staging.join("cpython_gc_log.json"), &timed)?;
        results::write_json(&staging.join("meta.json"), &meta)
    })?;
    println!("results: {}", folder.display());
    Ok(agree)
}

/// Writes the embedded twins into a fresh temporary folder.
fn unpack_twins() -> Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("harness-twins-").tempdir().context("creating a temporary folder")?;
    for (name, contents) in TWIN_FILES {
        std::fs::write(dir.path().join(name), contents).with_context(|| format!("unpacking {name}"))?;
    }
    Ok(dir)
}

/// Runs the twin once; returns its checksum and its collector log.
fn run_twin(interpreter: &Interpreter, dir: &Path, spec: &CellSpec, count_examined: bool) -> Result<(String, TwinLog)> {
    let log_path: PathBuf = dir.join(if count_examined { "gc-counted.json" } else { "gc-timed.json" });
    let mut command = Command::new(&interpreter.command);
    command.arg(dir.join("run.py"));
    command.args(["--workload", &spec.workload, "--size", &spec.size, "--seed", &spec.seed.to_string()]);
    for (name, value) in &spec.workload_params {
        command.args(["--param", &format!("{name}={value}")]);
    }
    // The model's weak back edges are the twin's weakref idiom (twins without it refuse it).
    if let Some(back_edges) = spec.strategy_params.get("back-edges").filter(|value| *value != "strong") {
        command.args(["--param", &format!("back-edges={back_edges}")]);
    }
    command.arg("--gc-log").arg(&log_path);
    if count_examined {
        command.arg("--count-examined");
    }
    let output = command.output().with_context(|| format!("starting {}", interpreter.command))?;
    if !output.status.success() {
        bail!("the Python twin failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    let reply: TwinReply = serde_json::from_slice(&output.stdout).context("reading the twin's reply")?;
    let log = std::fs::read(&log_path).context("reading the twin's GC log")?;
    Ok((reply.checksum, serde_json::from_slice(&log).context("parsing the twin's GC log")?))
}

/// Every figure of the comparison, in the order it is printed.
fn comparison_rows(spec: &CellSpec, timed: &TwinLog, counted: &TwinLog, ours: &CellOutcome) -> Vec<ComparisonRow> {
    let mut rows = Vec::new();
    let mut push = |metric, generation: Option<usize>, unit, cpython: f64, ours: f64, targeted: bool| {
        let ratio = (cpython != 0.0).then(|| ours / cpython);
        rows.push(ComparisonRow {
            workload: spec.workload.clone(),
            size: spec.size.clone(),
            seed: spec.seed,
            metric,
            generation: generation.map(|g| g as u8),
            unit,
            cpython,
            ours,
            ratio,
            within_target: targeted.then(|| (ours - cpython).abs() <= TOLERANCE * cpython),
        });
    };
    let (our_collections, _) = ours.collections_split_at_return();
    for generation in 0..3 {
        let (before, after, mine) =
            (timed.stats_before[generation], timed.stats[generation], ours.gc_stats_at_return[generation]);
        let count = |n: u64| n as f64;
        push(
            "collections",
            Some(generation),
            "count",
            count(after.collections - before.collections),
            count(mine.collections),
            true,
        );
        push(
            "collected",
            Some(generation),
            "objects",
            count(after.collected - before.collected),
            count(mine.collected),
            true,
        );
        let theirs_examined: Vec<u64> = counted
            .collections
            .iter()
            .filter(|c| c.generation as usize == generation)
            .filter_map(|c| c.examined)
            .collect();
        let ours_examined: Vec<u64> =
            our_collections.iter().filter(|p| p.generation == Some(generation as u8)).map(|p| p.objects).collect();
        push(
            "examined_per_collection",
            Some(generation),
            "objects",
            mean(&theirs_examined),
            mean(&ours_examined),
            false,
        );
    }
    let us = |ns: u64| ns as f64 / 1e3;
    let theirs_pauses = LatencySummary::of(timed.collections.iter().map(|c| c.duration_ns));
    let ours_pauses = LatencySummary::of(our_collections.iter().map(|p| p.duration_ns));
    push("collection_pause_p50", None, "us", us(theirs_pauses.p50_ns), us(ours_pauses.p50_ns), false);
    push("collection_pause_p99", None, "us", us(theirs_pauses.p99_ns), us(ours_pauses.p99_ns), false);
    push("collection_pause_max", None, "us", us(theirs_pauses.max_ns), us(ours_pauses.max_ns), false);
    let theirs_requests = LatencySummary::of(timed.request_latencies_ns.iter().copied());
    if theirs_requests.count > 0 {
        let ours_requests = ours.request_latencies;
        push("request_p50", None, "us", us(theirs_requests.p50_ns), us(ours_requests.p50_ns), false);
        push("request_p99", None, "us", us(theirs_requests.p99_ns), us(ours_requests.p99_ns), false);
    }
    push("peak_rss", None, "bytes", timed.peak_rss_bytes.unwrap_or(0) as f64, ours.peak_rss_bytes as f64, false);
    push("wall_time", None, "ms", timed.wall_ns as f64 / 1e6, ours.wall_ns as f64 / 1e6, false);
    rows
}

fn mean(values: &[u64]) -> f64 {
    if values.is_empty() { 0.0 } else { values.iter().sum::<u64>() as f64 / values.len() as f64 }
}

/// The printed comparison.
fn table(rows: &[ComparisonRow]) -> String {
    let format = |unit: &str, value: f64| match unit {
        "us" => format_duration_us(value),
        "ms" => format_duration_us(value * 1e3),
        "bytes" => format_bytes(value as u64),
        _ if value.fract() == 0.0 => format!("{value:.0}"),
        _ => format!("{value:.1}"),
    };
    let mut lines = vec![["figure", "gen", "CPython", "ours", "ours/CPython", "±10%"].map(String::from).to_vec()];
    for row in rows {
        lines.push(vec![
            row.metric.replace('_', " "),
            row.generation.map_or(String::new(), |g| g.to_string()),
            format(row.unit, row.cpython),
            format(row.unit, row.ours),
            row.ratio.map_or("-".into(), |r| format!("{r:.3}")),
            match row.within_target {
                Some(true) => "yes".into(),
                Some(false) => "NO".into(),
                None => String::new(),
            },
        ]);
    }
    crate::summary::align_table(&lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_runs_at_the_interpreters_own_thresholds() {
        assert_eq!(interpreter_thresholds((3, 11, 7)), "cpython311");
        assert_eq!(interpreter_thresholds((3, 12, 1)), "cpython311");
        assert_eq!(interpreter_thresholds((3, 13, 0)), "cpython313");
        assert_eq!(model((3, 13, 0)), ("generational", vec![("threshold", "cpython313")]));
        assert_eq!(model((3, 14, 0)), ("incremental", vec![("threshold", "2000"), ("version", "3.14.0")]));
        assert_eq!(model((3, 14, 4)), ("incremental", vec![("threshold", "2000"), ("version", "3.14.1")]));
        let reverted = ("generational", vec![("threshold", "cpython313")]);
        assert_eq!(model((3, 14, 5)), reverted, "3.14.5 reverted to the generational collector");
    }

    #[test]
    fn every_workload_has_an_embedded_twin() {
        for workload in workloads::WORKLOADS {
            let file = twin_file_name(workload.name);
            assert!(TWIN_FILES.iter().any(|(name, _)| *name == file), "no {file} embedded");
        }
        assert!(TWIN_FILES.iter().any(|(name, _)| *name == "run.py"));
    }

    #[test]
    fn a_missing_interpreter_is_named() {
        let error = probe("python-that-does-not-exist-3.11").unwrap_err();
        assert!(error.contains("looked for `python-that-does-not-exist-3.11` on PATH"), "{error}");
    }

    #[test]
    fn a_non_python_program_is_refused() {
        let error = probe("true").unwrap_err();
        assert!(error.contains("did not answer like Python 3"), "{error}");
    }
}
