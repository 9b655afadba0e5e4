//! The command line, and the [`Plan`] it becomes once every name and parameter has been checked.
//! Nothing runs and nothing is written until the whole plan is valid; a bad name or value exits
//! with code 2 and a message that lists what is valid.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::PossibleValuesParser;
use clap::{Args, CommandFactory, Parser, Subcommand, error::ErrorKind};
use strategies::{AllocatorKind, SystemBackend, params, strategy};
use workloads::{Size, WorkloadArgs};

use crate::plan::{self, CellSettings, Plan, Shard, number_cells};
use crate::{folder, system};

const ABOUT: &str = "Runs a synthetic workload under each garbage-collection strategy of a \
CPython-like runtime and compares wall time, memory-management time, pauses, peak memory and \
leaks. Each strategy runs in a fresh child process; results go to results/<run-id>/.";

#[derive(Parser, Debug)]
#[command(name = "harness", version, about = ABOUT, after_help = after_help(),
          args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Workload to run (see --list for each one's parameters).
    #[arg(long, value_name = "NAME", value_parser = PossibleValuesParser::new(workloads::names()),
          required_unless_present_any = ["list", "run_cell"])]
    pub workload: Option<String>,

    /// Strategies to compare, comma-separated [default: every registered strategy].
    #[arg(long, value_name = "A,B", value_delimiter = ',', value_parser = strategy_name)]
    pub strategy: Vec<String>,

    /// Size preset of the workload; explicit --wparam values override it.
    #[arg(long, default_value = "default", value_parser = PossibleValuesParser::new(Size::ALL.map(Size::name)))]
    pub size: String,

    /// Seed for every random choice the workload makes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Workload variant; shorthand for --wparam variant=V (trees: gcbench, binary-trees).
    #[arg(long, value_name = "V")]
    pub variant: Option<String>,

    /// Give tree nodes parent back-pointers, closing cycles; shorthand for --wparam parents=true.
    #[arg(long)]
    pub parents: bool,

    /// Workload parameter, repeatable (e.g. --wparam depth=12).
    #[arg(long = "wparam", value_name = "KEY=VALUE")]
    pub workload_params: Vec<String>,

    /// Strategy parameter, repeatable. `STRATEGY.KEY=VALUE` sets it for one strategy; `KEY=VALUE`
    /// for every selected strategy that has it.
    #[arg(long = "param", value_name = "[STRATEGY.]KEY=VALUE")]
    pub strategy_params: Vec<String>,

    /// Object allocator: pymalloc (16 KiB pools, 1 MiB arenas), pymalloc-classic (4 KiB / 256 KiB),
    /// or per-object (every object its own system allocation).
    #[arg(long, default_value = "pymalloc", value_parser = PossibleValuesParser::new(AllocatorKind::ALL.map(|(n, _)| n)))]
    pub allocator: String,

    /// System allocator for large blocks (and for every block under per-object).
    #[arg(long, default_value = "jemalloc", value_parser = PossibleValuesParser::new(SystemBackend::ALL.map(SystemBackend::name)))]
    pub backend: String,

    /// Refcount cascades that free at least this many objects are recorded as pauses.
    #[arg(long, value_name = "OBJECTS", default_value_t = 1000)]
    pub cascade_threshold: u64,

    /// Output folder [default: results/<run-id>]. Must not exist yet.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub runner: RunnerArgs,

    /// List the workloads and strategies with their parameters, then exit.
    #[arg(long)]
    pub list: bool,

    /// Internal: run one cell in this process and print its outcome as JSON.
    #[arg(long, hide = true, value_name = "JSON")]
    pub run_cell: Option<String>,
}

/// How cells run: repeats, limits and sharding (shared by plain runs and experiments).
#[derive(Args, Debug, Clone)]
pub struct RunnerArgs {
    /// Run every cell N times; the summary shows the median and the range [default: 3, or the
    /// experiment's `repeat`].
    #[arg(long, value_name = "N")]
    pub repeat: Option<u32>,

    /// Before the measured cells, run each configuration N times and discard the outcomes (they
    /// warm the page cache and the CPU clock); meta.json records it as `warmup`.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub warmup: u32,

    /// Kill a cell's process after this many seconds and record it as `timeout`.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800.0)]
    pub timeout: f64,

    /// Stop a cell whose live heap passes this size (status `leaked-over-cap`), e.g. 4G or 512M
    /// [default: half of the machine's RAM].
    #[arg(long, value_name = "BYTES")]
    pub max_heap: Option<String>,

    /// Run only shard i of n (every n-th cell, from cell i − 1) and write a partial run folder;
    /// combine the shards with `harness merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    /// Take a memory sample every N object allocations (0: only at checkpoints and the end).
    #[arg(long, value_name = "N", default_value_t = strategies::DEFAULT_SAMPLE_EVERY)]
    pub sample_every: u64,

    /// Recording of pauses, latencies and memory samples: `on`, `off`, or `both` (every cell
    /// twice, to measure what recording costs; the summary prints the overhead).
    #[arg(long, value_name = "MODE", default_value = "on", value_parser = ["on", "off", "both"])]
    pub recording: String,

    /// Refuse a plan of more than N cells (a guard against a typo that would run for weeks).
    #[arg(long, value_name = "N", default_value_t = plan::DEFAULT_MAX_CELLS)]
    pub max_cells: usize,

    /// Do not draw the charts and report.html at the end (`harness report RUN_DIR` draws them
    /// later).
    #[arg(long)]
    pub no_report: bool,

    #[command(flatten)]
    pub export: ExportArgs,
}

/// `--export`: the summary and the overhead table (or a comparison) as files a paper includes.
#[derive(Args, Debug, Clone, Default)]
pub struct ExportArgs {
    /// Also write the summary and the LBO overhead table as RUN_DIR/summary.{md,tex,json,csv}
    /// (`harness compare`: the comparison as compare.EXT in --export-dir); comma-separated or
    /// repeated.
    #[arg(long, value_name = "FORMAT", value_delimiter = ',',
          value_parser = PossibleValuesParser::new(crate::export::FORMATS))]
    pub export: Vec<String>,
}

/// The checked runner settings.
#[derive(Clone, Debug)]
pub struct Limits {
    pub timeout: Duration,
    pub max_heap_bytes: u64,
    pub shard: Option<Shard>,
    pub sample_every: u64,
    /// The recording modes every cell runs in (`[true]`, `[false]` or `[false, true]`).
    pub recordings: Vec<bool>,
    pub max_cells: usize,
    /// Warm-up rounds (`--warmup`), at most [`plan::MAX_REPEAT`].
    pub warmup: u32,
}

impl RunnerArgs {
    /// `--repeat`, if given; refuses 0 and more than [`plan::MAX_REPEAT`].
    pub fn repeat(&self) -> Option<u32> {
        if self.repeat == Some(0) {
            refuse("--repeat must be at least 1");
        }
        if let Some(repeat) = self.repeat.filter(|r| *r > plan::MAX_REPEAT) {
            refuse(format!("--repeat {repeat}: at most {} repeats of a cell", plan::MAX_REPEAT));
        }
        self.repeat
    }

    /// The checked settings; refuses (exit 2) on a bad value.
    pub fn limits(&self) -> Limits {
        let timeout = parse_timeout(self.timeout).unwrap_or_else(|e| refuse(e));
        let max_heap = match &self.max_heap {
            Some(text) => parse_bytes(text).unwrap_or_else(|e| refuse(format!("--max-heap {text}: {e}"))),
            None => system::default_heap_cap(),
        };
        if self.warmup > plan::MAX_REPEAT {
            refuse(format!("--warmup {}: at most {} warm-up rounds", self.warmup, plan::MAX_REPEAT));
        }
        let shard = self.shard.as_deref().map(|s| Shard::parse(s).unwrap_or_else(|e| refuse(e)));
        let recordings = match self.recording.as_str() {
            "off" => vec![false],
            "both" => vec![false, true],
            _ => vec![true],
        };
        Limits {
            timeout,
            max_heap_bytes: max_heap,
            shard,
            sample_every: self.sample_every,
            recordings,
            max_cells: self.max_cells,
            warmup: self.warmup,
        }
    }
}

/// Longest `--timeout`: a week.
pub const MAX_TIMEOUT_S: f64 = 7.0 * 24.0 * 3600.0;

/// `--timeout` in seconds: positive, finite, at most [`MAX_TIMEOUT_S`].
pub fn parse_timeout(seconds: f64) -> Result<Duration, String> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("--timeout {seconds}: expected a positive number of seconds"));
    }
    if seconds > MAX_TIMEOUT_S {
        return Err(format!("--timeout {seconds}: at most {MAX_TIMEOUT_S} seconds (a week)"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Smallest `--max-heap`: a heap below 1 MiB stops every workload at once.
pub const MIN_HEAP_BYTES: u64 = 1 << 20;

/// `4G`, `1.5G`, `512MiB`, `64K` or a plain byte count; binary units (K, M, G, T, optionally
/// followed by `iB` or `B`), at least [`MIN_HEAP_BYTES`].
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let upper = unit.to_ascii_uppercase();
    let prefix = upper.strip_suffix("IB").or_else(|| upper.strip_suffix('B')).unwrap_or(&upper);
    let shift = match prefix {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => {
            return Err(format!("unknown unit `{unit}` (valid: K, M, G, T, optionally with iB or B, e.g. 4G, 512MiB)"));
        }
    };
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| "expected a size such as 4G, 1.5G, 512M or 1048576".to_string())?;
    let bytes = value * (1u64 << shift) as f64;
    if bytes >= u64::MAX as f64 {
        return Err("must be a positive size that fits in 64 bits".into());
    }
    match bytes as u64 {
        0 => Err("must be a positive size".into()),
        b if b < MIN_HEAP_BYTES => Err(format!("{b} bytes is below the smallest heap cap, 1M")),
        b => Ok(b),
    }
}

/// A `--strategy` name: one of the registry's (an empty one, from `a,,b`, says so).
fn strategy_name(name: &str) -> Result<String, String> {
    let valid = strategy::names().join(", ");
    match name.trim() {
        "" => Err(format!("an empty strategy name (two commas in a row?); valid: {valid}")),
        name if strategy::find(name).is_some() => Ok(name.to_string()),
        name => Err(format!("unknown strategy `{name}`; possible values: {valid}")),
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a workload's Python twin under CPython and the workload under our `generational`
    /// strategy, and compare what the two collectors did (collections, objects collected and
    /// examined per generation, pauses, peak memory).
    Validate(ValidateArgs),
    /// Run an experiment: workloads × strategies × parameter sweeps × repeats, from a TOML file
    /// or a built-in (see `harness experiment --list`).
    Experiment(ExperimentArgs),
    /// Combine the partial run folders of `--shard` runs into one run folder.
    Merge(MergeArgs),
    /// Finish an interrupted run (killed, Ctrl-C, a crash of the machine): run only the cells
    /// missing from RUN_DIR, with the plan recorded in its meta.json, then mark it complete.
    Resume(ResumeArgs),
    /// Draw the charts (RUN_DIR/charts/, SVG and PNG) and write RUN_DIR/report.html from a run
    /// folder's files; runs and experiments do this at the end unless given --no-report.
    Report(ReportArgs),
    /// Compare run folders configuration by configuration: for wall time, mm time, p99 and max
    /// pause and peak RSS, the ratio of medians against the first folder with a 95% bootstrap
    /// interval over the repeats, and "not significant" where the interval contains 1. Folders
    /// that ran different workload configurations are refused (exit 2).
    Compare(CompareArgs),
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The run folders; the first is the baseline.
    #[arg(value_name = "RUN_DIR", num_args = 2.., required = true)]
    pub folders: Vec<PathBuf>,

    #[command(flatten)]
    pub export: ExportArgs,

    /// Where --export writes compare.EXT.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub export_dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The run folder (with runs.csv, pauses.csv, meta.json and, if sampled, memory.csv).
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,

    /// Draw the report of a run folder that is not complete (an interrupted run): its missing
    /// cells are missing from the report.
    #[arg(long)]
    pub allow_incomplete: bool,

    #[command(flatten)]
    pub export: ExportArgs,
}

#[derive(Args, Debug)]
pub struct ResumeArgs {
    /// The interrupted run folder.
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,

    /// Do not draw the charts and report.html at the end.
    #[arg(long)]
    pub no_report: bool,

    #[command(flatten)]
    pub export: ExportArgs,
}

#[derive(Args, Debug)]
pub struct ExperimentArgs {
    /// An experiment file (TOML), or the name of a built-in experiment.
    #[arg(value_name = "FILE|NAME", required_unless_present = "list")]
    pub experiment: Option<String>,

    /// List the built-in experiments, then exit.
    #[arg(long)]
    pub list: bool,

    /// Override the experiment's size preset (e.g. smoke, for a quick check).
    #[arg(long, value_parser = PossibleValuesParser::new(Size::ALL.map(Size::name)))]
    pub size: Option<String>,

    /// Override the experiment's seed.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Output folder [default: results/<run-id>]. Must not exist yet.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub runner: RunnerArgs,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The partial run folders, one per shard.
    #[arg(value_name = "DIR", required = true)]
    pub parts: Vec<PathBuf>,

    /// The merged run folder [default: results/<run-id of the first part>]. Must not exist yet.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Accept parts not marked complete (a shard whose run was interrupted while completing);
    /// every cell of the plan must still be present, whole.
    #[arg(long)]
    pub allow_incomplete: bool,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Workload to validate.
    #[arg(long, value_name = "NAME", value_parser = PossibleValuesParser::new(workloads::names()))]
    pub workload: String,

    /// The CPython interpreter to compare with (3.11 is what the model follows).
    #[arg(long, value_name = "PYTHON", default_value = "python3")]
    pub python: String,

    /// Size preset of the workload; explicit --wparam values override it.
    #[arg(long, default_value = "default", value_parser = PossibleValuesParser::new(Size::ALL.map(Size::name)))]
    pub size: String,

    /// Seed for every random choice the workload makes (both sides).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Workload parameter, repeatable (e.g. --wparam rings=50); passed to both sides.
    #[arg(long = "wparam", value_name = "KEY=VALUE")]
    pub workload_params: Vec<String>,

    /// Parameter of our `generational` model, repeatable (e.g. --param threshold=cpython313,
    /// --param back-edges=weak) [default threshold: the interpreter's own].
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,

    /// Kill our side's process after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800.0)]
    pub timeout: f64,

    /// Output folder [default: results/<run-id>]. Must not exist yet.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

fn after_help() -> String {
    format!(
        "{}\n{}\n\nExample: harness --workload trees --strategy refcount,generational --size small --parents \\\n             --param generational.threshold=cpython313",
        listing(),
        crate::summary::TERMS
    )
}

/// Exits with code 2 and clap's formatting.
pub fn refuse(message: impl std::fmt::Display) -> ! {
    Cli::command().error(ErrorKind::ValueValidation, message).exit()
}

impl Cli {
    /// Checks every name and parameter; refuses (exit 2) on the first problem. One cell per
    /// strategy and repeat, all sharing the workload settings.
    pub fn plan(&self) -> Plan {
        let repeats = self.runner.repeat().unwrap_or(plan::DEFAULT_REPEAT);
        let limits = self.runner.limits();
        let workload_name = self.workload.clone().expect("clap requires --workload here");
        let mut workload_params = parse_pairs(&self.workload_params, "--wparam");
        if let Some(variant) = &self.variant {
            workload_params.insert("variant".into(), variant.clone());
        }
        if self.parents {
            workload_params.insert("parents".into(), "true".into());
        }
        let size = Size::from_name(&self.size).expect("clap checked the size");
        let args = WorkloadArgs { size, seed: self.seed, params: workload_params.clone() };
        let info = workloads::find(&workload_name).expect("clap checked the workload");
        if let Err(e) = info.build(&args) {
            refuse(e);
        }
        if self.cascade_threshold == 0 {
            refuse("--cascade-threshold must be at least 1 object");
        }

        let selected: Vec<String> = if self.strategy.is_empty() {
            strategy::names().iter().map(|s| s.to_string()).collect()
        } else {
            self.strategy.clone()
        };
        if let Some(twice) = selected.iter().enumerate().find(|(i, s)| selected[..*i].contains(s)).map(|(_, s)| s) {
            refuse(format!("--strategy: `{twice}` is listed twice; use --repeat to run a cell more than once"));
        }
        let per_strategy = self.strategy_params_for(&selected);
        let settings = CellSettings {
            size: self.size.clone(),
            seed: self.seed,
            allocator: self.allocator.clone(),
            backend: self.backend.clone(),
            cascade_threshold: self.cascade_threshold,
            max_heap_bytes: limits.max_heap_bytes,
            sample_every: limits.sample_every,
            repeats,
            recordings: limits.recordings.clone(),
        };
        plan::check_size(selected.len() * settings.cells_per_combination(), limits.max_cells)
            .unwrap_or_else(|e| refuse(e));
        let mut specs = Vec::new();
        for name in &selected {
            let params = per_strategy.get(name).cloned().unwrap_or_default();
            if let Err(e) = strategy::find(name).expect("checked by the value parser").build(&params) {
                refuse(e);
            }
            specs.extend(settings.cells(&workload_name, &workload_params, name, &params));
        }
        if let Some(out) = &self.out {
            folder::check_out(out).unwrap_or_else(|e| refuse(e));
        }
        let (cells, plan_cells, plan_digest) = number_cells(specs, limits.shard).unwrap_or_else(|e| refuse(e));
        Plan {
            cells,
            plan_cells,
            plan_digest,
            shard: limits.shard,
            seed: self.seed,
            timeout: limits.timeout,
            experiment: "adhoc".into(),
            out: self.out.clone(),
            warmup: limits.warmup,
            reproduces: None,
        }
    }

    /// Sorts `--param` values to the selected strategies they apply to.
    fn strategy_params_for(&self, selected: &[String]) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut per_strategy: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (key, value) in parse_pairs(&self.strategy_params, "--param") {
            match key.split_once('.') {
                Some((name, key)) if strategy::find(name).is_some() => {
                    if !selected.iter().any(|s| s == name) {
                        refuse(format!(
                            "--param {name}.{key}: strategy `{name}` is not selected (selected: {})",
                            selected.join(", ")
                        ));
                    }
                    per_strategy.entry(name.to_string()).or_default().insert(key.to_string(), value);
                }
                _ => {
                    let takers: Vec<&String> = selected
                        .iter()
                        .filter(|s| strategy::find(s).is_some_and(|info| info.params.iter().any(|p| p.name() == key)))
                        .collect();
                    if takers.is_empty() {
                        refuse(format!("--param {key}: no selected strategy has a parameter `{key}` (see --list)"));
                    }
                    for name in takers {
                        per_strategy.entry(name.clone()).or_default().insert(key.clone(), value.clone());
                    }
                }
            }
        }
        per_strategy
    }
}

pub fn parse_pairs(pairs: &[String], flag: &str) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() => (k.to_string(), v.to_string()),
            _ => refuse(format!("{flag} {pair}: expected KEY=VALUE")),
        })
        .collect()
}

/// The text of `--list`.
pub fn listing() -> String {
    let mut out = String::from("Workloads (defaults written a/b/c/d follow --size smoke/small/default/large):\n");
    for w in workloads::WORKLOADS {
        out += &format!("  {:<12} {}\n", w.name, w.summary);
        out += &params::options("--wparam ", w.params.iter().copied());
    }
    out += "\nStrategies:\n";
    for s in strategy::STRATEGIES {
        out += &format!("  {:<12} {}\n", s.name, s.summary);
        out += &params::options(&format!("--param {}.", s.name), s.params.iter().copied());
    }
    out
}
