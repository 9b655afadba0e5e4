//! Result records. One serde struct per file ([`RunRow`] for `runs.csv`,
//! [`PauseRow`], [`MemoryRow`], [`Meta`] for `meta.json`), so the columns and the JSON cannot
//! drift apart; `folder.rs` writes them as a run goes. `results/README.md` documents every
//! column.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::cell::{CellOutcome, CellResult, LatencySummary};
use crate::plan::{Plan, PlannedCell};
use crate::{folder, system};

/// How a cell ended: the `status` column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The workload ran to its end.
    #[default]
    Ok,
    /// The live heap passed the cap and the workload was stopped: figures up to the stop.
    LeakedOverCap,
    /// The child crashed, exited non-zero or could not be read.
    Failed,
    /// The child ran past its timeout and was killed.
    Timeout,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::LeakedOverCap => "leaked-over-cap",
            Status::Failed => "failed",
            Status::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the cells of a run produced, in plan order.
#[derive(Debug, Default)]
pub struct Gathered {
    pub runs: Vec<RunRow>,
    pub pauses: Vec<PauseRow>,
    pub memory: Vec<MemoryRow>,
    pub cow: Vec<CowRow>,
}

impl Gathered {
    /// Whether every cell ran to its end or to the heap cap: a strategy that leaks past the
    /// cap is a finding, not a failure; a crash or a timeout is.
    pub fn all_ok(&self) -> bool {
        self.runs.iter().all(|r| matches!(r.outcome.status, Status::Ok | Status::LeakedOverCap))
    }
}

/// One row of `runs.csv`: one cell (workload × strategy × parameters × repeat) of the run, as
/// groups of columns. Serialised like [`Keyed`]: the tuple of its groups, which the csv crate
/// writes flat under one header (column names are the groups' field names, unique across the
/// row), and read back by position after `folder::read_rows` has checked the header.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRow {
    /// The same key as every `pauses.csv`, `memory.csv` and `cow.csv` row of the cell.
    pub key: CellKey,
    pub setup: CellSetup,
    pub outcome: Outcome,
    pub time: Times,
    pub pauses: PauseFigures,
    pub requests: RequestFigures,
    pub memory: MemoryFigures,
    pub collections: Collections,
    pub cow: CowFigures,
}

type RunColumns =
    (CellKey, CellSetup, Outcome, Times, PauseFigures, RequestFigures, MemoryFigures, Collections, CowFigures);

impl Serialize for RunRow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (
            &self.key,
            &self.setup,
            &self.outcome,
            &self.time,
            &self.pauses,
            &self.requests,
            &self.memory,
            &self.collections,
            &self.cow,
        )
            .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RunRow {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<RunRow, D::Error> {
        let (key, setup, outcome, time, pauses, requests, memory, collections, cow) =
            RunColumns::deserialize(deserializer)?;
        Ok(RunRow { key, setup, outcome, time, pauses, requests, memory, collections, cow })
    }
}

/// How the cell was set up, beside its key.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CellSetup {
    pub size: String,
    pub seed: u64,
    /// Whether pauses, latencies and memory samples were recorded (`--recording`).
    pub recording: bool,
    pub allocator: String,
    /// [`crate::system::build_profile`]: `release` or `dev`, `+debug-assertions` when the runtime
    /// crates check them (such figures mislead).
    pub build_profile: String,
    /// `key=value` pairs separated by `;`, preset values filled in.
    pub workload_params: String,
    pub strategy_params: String,
}

/// How the cell ended.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Outcome {
    /// `ok`, `leaked-over-cap`, `failed` or `timeout`.
    pub status: Status,
    pub checksum: Option<String>,
    /// Why a cell failed or timed out.
    pub error: Option<String>,
}

/// Where the time went. Empty for a cell that did not report.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Times {
    pub wall_time_ms: Option<f64>,
    pub mm_time_ms: Option<f64>,
    /// Wall time minus the memory-management time spent while the workload ran (the exit
    /// collection, which runs after it, is in `mm_time_ms` only).
    pub mutator_time_ms: Option<f64>,
}

/// The collection and cascade pauses: count and percentiles (empty when none was recorded).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PauseFigures {
    pub pause_count: Option<u64>,
    pub pause_p50_us: Option<f64>,
    pub pause_p99_us: Option<f64>,
    pub pause_max_us: Option<f64>,
}

/// Requests the workload announced (`request_done`), and their latency percentiles.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RequestFigures {
    pub requests: Option<u64>,
    pub request_p50_us: Option<f64>,
    pub request_p99_us: Option<f64>,
    pub request_max_us: Option<f64>,
}

/// Peaks, and what was left at the end.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct MemoryFigures {
    pub peak_rss_bytes: Option<u64>,
    pub peak_reserved_bytes: Option<u64>,
    pub leaked_objects: Option<u64>,
    pub leaked_bytes: Option<u64>,
    /// Immortal objects alive at the end (`immortal=true`), not leaks.
    pub immortal_objects: Option<u64>,
    pub immortal_bytes: Option<u64>,
}

/// Cycle collections of each generation (0 for strategies without a collector).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Collections {
    pub collections_gen0: Option<u64>,
    pub collections_gen1: Option<u64>,
    pub collections_gen2: Option<u64>,
}

/// Prefork cells: the mean over workers of `shared_bytes` and of private bytes (clean + dirty)
/// in `cow.csv` when each worker had served its share (phase `served`). Empty without prefork.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CowFigures {
    pub shared_after_serving_bytes: Option<u64>,
    pub private_after_serving_bytes: Option<u64>,
}

/// `meta.json`: what is needed to reproduce the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub run_id: String,
    pub created_utc: String,
    pub harness_version: String,
    pub git_commit: String,
    pub rustc: String,
    pub cpu_model: String,
    pub cpus: usize,
    pub kernel: String,
    pub hostname: String,
    pub command_line: Vec<String>,
    pub seed: u64,
    /// The experiment this run belongs to (`adhoc` for a plain `harness --workload` run).
    pub experiment: String,
    /// Cells in the whole plan, and the shard of it this folder holds (`i/n`), if any.
    pub plan_cells: usize,
    /// Digest of the whole plan's cells: the shards of one run share it (`harness merge` checks).
    pub plan_digest: String,
    pub shard: Option<String>,
    /// For a merged folder, the run ids of its parts.
    #[serde(default)]
    pub merged_from: Vec<String>,
    pub timeout_s: f64,
    /// [`crate::system::build_profile`].
    #[serde(default)]
    pub build_profile: String,
    /// Environment variables that change the figures (`RUST_BACKTRACE`, `MALLOC_CONF`, ...) as
    /// set for the run, and the CPU frequency governor where `/sys` shows it.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Load and CPU frequency scaling when the run started, with warnings (`pyperf system show`).
    /// `None` in folders written before it was recorded.
    #[serde(default)]
    pub system: Option<system::MachineState>,
    /// Warm-up rounds run and discarded before the measured cells (`--warmup`).
    #[serde(default)]
    pub warmup: u32,
    /// The published result the experiment reproduces (its file's `reproduces =`), if it says.
    #[serde(default)]
    pub reproduces: Option<String>,
    /// Whether every cell of this folder has run (`harness resume` finishes one that has not).
    /// Folders written before runs were streamed were always complete.
    #[serde(default = "complete_by_default")]
    pub complete: bool,
    /// The cells this folder holds, in plan order.
    pub cells: Vec<PlannedCell>,
}

fn complete_by_default() -> bool {
    true
}

/// Which cell a row of `pauses.csv` or `memory.csv` belongs to: the first columns of both.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CellKey {
    pub run_id: String,
    pub cell: usize,
    pub workload: String,
    pub strategy: String,
    pub repeat: u32,
}

impl CellKey {
    pub fn of(run_id: &str, cell: &PlannedCell) -> CellKey {
        CellKey {
            run_id: run_id.into(),
            cell: cell.id,
            workload: cell.spec.workload.clone(),
            strategy: cell.spec.strategy.clone(),
            repeat: cell.spec.repeat,
        }
    }
}

/// A row of a per-cell file: the cell's key, then one of the recorder's own records, flattened
/// (the key's columns, then the record's). The recorder's type is the row's type, so the child,
/// the files and the report cannot drift apart. Serialised as the tuple `(key, record)`, which
/// the csv crate writes flat with headers (it cannot write `#[serde(flatten)]`); read back
/// by position, after `folder::read_rows` has checked the header.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Keyed<R> {
    pub key: CellKey,
    pub record: R,
}

impl<R: Serialize> Serialize for Keyed<R> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (&self.key, &self.record).serialize(serializer)
    }
}

impl<'de, R: Deserialize<'de>> Deserialize<'de> for Keyed<R> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Keyed<R>, D::Error> {
        let (key, record) = <(CellKey, R)>::deserialize(deserializer)?;
        Ok(Keyed { key, record })
    }
}

impl<R> std::ops::Deref for Keyed<R> {
    type Target = R;
    fn deref(&self) -> &R {
        &self.record
    }
}

/// One row of `pauses.csv`: one pause of one cell.
pub type PauseRow = Keyed<strategies::Pause>;

/// One row of `memory.csv`: one memory sample of one cell.
pub type MemoryRow = Keyed<strategies::MemorySample>;

/// One row of `cow.csv`: one copy-on-write sample of one prefork worker of one cell.
pub type CowRow = Keyed<strategies::CowSample>;

/// The rows of a cell's records, keyed.
pub fn keyed<R: Clone>(run_id: &str, cell: &PlannedCell, records: &[R]) -> Vec<Keyed<R>> {
    let key = CellKey::of(run_id, cell);
    records.iter().map(|record| Keyed { key: key.clone(), record: record.clone() }).collect()
}

/// The cell's wall time minus the memory management inside it: the pauses after the workload
/// returned (the exit collection) are taken out of the memory-management total first.
fn mutator_ns(outcome: &CellOutcome) -> u64 {
    let (_, after_return) = outcome.collections_split_at_return();
    let after_return_ns: u64 = after_return.iter().map(|p| p.duration_ns).sum();
    let in_run = outcome.memory_management_ns.saturating_sub(after_return_ns);
    outcome.wall_ns.saturating_sub(in_run)
}

/// `key=value` pairs separated by `;`.
fn pairs(params: &[(String, String)]) -> String {
    params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(";")
}

/// The parameters in force for a cell that did not report them (it failed): the child would
/// have computed the same from its spec, so failed and `ok` rows write parameters alike.
fn params_in_force(cell: &PlannedCell) -> (String, String) {
    let spec = &cell.spec;
    let given = |params: &BTreeMap<String, String>| pairs(&params.clone().into_iter().collect::<Vec<_>>());
    let workload = workloads::Size::from_name(&spec.size)
        .zip(workloads::find(&spec.workload))
        .and_then(|(size, info)| {
            let args = workloads::WorkloadArgs { size, seed: spec.seed, params: spec.workload_params.clone() };
            info.build(&args).ok()
        })
        .map_or_else(|| given(&spec.workload_params), |w| pairs(&w.params()));
    let strategy = strategies::strategy::find(&spec.strategy)
        .and_then(|info| info.build(&spec.strategy_params).ok())
        .map_or_else(|| given(&spec.strategy_params), |s| pairs(&s.params()));
    (workload, strategy)
}

/// The `runs.csv` row of a finished cell.
pub fn row(run_id: &str, cell: &PlannedCell, result: &CellResult) -> RunRow {
    let spec = &cell.spec;
    let (workload_params, strategy_params) = params_in_force(cell);
    let key = CellKey::of(run_id, cell);
    let setup = CellSetup {
        size: spec.size.clone(),
        seed: spec.seed,
        recording: spec.record,
        allocator: format!("{}/{}", spec.allocator, spec.backend),
        build_profile: system::build_profile().into(),
        workload_params,
        strategy_params,
    };
    let status = result.status();
    let unmeasured = |error: String| RunRow {
        key: key.clone(),
        setup: setup.clone(),
        outcome: Outcome { status, checksum: None, error: Some(error) },
        ..RunRow::default()
    };
    match result {
        CellResult::Failed { error } => unmeasured(error.clone()),
        CellResult::TimedOut { after, stderr_tail } => unmeasured(format!(
            "killed after the {} timeout; {stderr_tail}",
            format_duration_us(after.as_secs_f64() * 1e6)
        )),
        CellResult::Ok(outcome) => measured(key, setup, outcome),
    }
}

/// The row of a cell whose child reported its figures.
fn measured(key: CellKey, setup: CellSetup, outcome: &CellOutcome) -> RunRow {
    let pauses = LatencySummary::of(outcome.pauses.iter().map(|p| p.duration_ns));
    let requests = outcome.request_latencies;
    let us = |ns: u64| ns as f64 / 1e3;
    let percentiles = |l: LatencySummary| match l.count {
        0 => [None; 3],
        _ => [Some(us(l.p50_ns)), Some(us(l.p99_ns)), Some(us(l.max_ns))],
    };
    let [pause_p50_us, pause_p99_us, pause_max_us] = percentiles(pauses);
    let [request_p50_us, request_p99_us, request_max_us] = percentiles(requests);
    let [collections_gen0, collections_gen1, collections_gen2] = outcome.collections.map(Some);
    RunRow {
        key,
        setup: CellSetup {
            workload_params: pairs(&outcome.workload_params),
            strategy_params: pairs(&outcome.strategy_params),
            ..setup
        },
        outcome: Outcome {
            status: outcome.status,
            checksum: (outcome.status == Status::Ok).then(|| outcome.checksum.clone()),
            error: None,
        },
        time: Times {
            wall_time_ms: Some(outcome.wall_ns as f64 / 1e6),
            mm_time_ms: Some(outcome.memory_management_ns as f64 / 1e6),
            mutator_time_ms: Some(mutator_ns(outcome) as f64 / 1e6),
        },
        pauses: PauseFigures { pause_count: Some(pauses.count), pause_p50_us, pause_p99_us, pause_max_us },
        requests: RequestFigures { requests: Some(requests.count), request_p50_us, request_p99_us, request_max_us },
        memory: MemoryFigures {
            peak_rss_bytes: Some(outcome.peak_rss_bytes),
            peak_reserved_bytes: Some(outcome.peak_reserved_bytes),
            leaked_objects: Some(outcome.leaked_objects),
            leaked_bytes: Some(outcome.leaked_bytes),
            immortal_objects: Some(outcome.immortal_objects),
            immortal_bytes: Some(outcome.immortal_bytes),
        },
        collections: Collections { collections_gen0, collections_gen1, collections_gen2 },
        cow: CowFigures {
            shared_after_serving_bytes: mean_served(&outcome.cow_samples, |c| c.shared_bytes),
            private_after_serving_bytes: mean_served(&outcome.cow_samples, |c| {
                c.private_clean_bytes + c.private_dirty_bytes
            }),
        },
    }
}

/// The mean of `figure` over the workers' `served` samples; `None` without prefork.
fn mean_served(cow: &[strategies::CowSample], figure: impl Fn(&strategies::CowSample) -> u64) -> Option<u64> {
    let served: Vec<u64> = cow.iter().filter(|c| c.phase == strategies::CowPhase::Served).map(figure).collect();
    (!served.is_empty()).then(|| served.iter().sum::<u64>() / served.len() as u64)
}

pub fn meta(run_id: &str, plan: &Plan) -> Meta {
    Meta {
        run_id: run_id.into(),
        created_utc: UtcTime::now().iso8601(),
        harness_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: system::git_commit(),
        rustc: env!("HARNESS_RUSTC_VERSION").into(),
        cpu_model: system::cpu_model(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        kernel: system::kernel(),
        hostname: system::hostname(),
        command_line: std::env::args().collect(),
        seed: plan.seed,
        experiment: plan.experiment.clone(),
        plan_cells: plan.plan_cells,
        plan_digest: plan.plan_digest.clone(),
        shard: plan.shard.map(|s| s.to_string()),
        merged_from: Vec::new(),
        timeout_s: plan.timeout.as_secs_f64(),
        build_profile: system::build_profile().into(),
        environment: system::environment(),
        system: Some(system::MachineState::now()),
        warmup: plan.warmup,
        reproduces: plan.reproduces.clone(),
        complete: false,
        cells: plan.cells.clone(),
    }
}

/// A fresh run id: UTC time to the nanosecond, a random suffix and a label, e.g.
/// `20261122-001903.123456789-5f3a-trees`: two runs started at once never share one.
pub fn new_run_id(label: &str) -> String {
    let now = UtcTime::now();
    let mut rng = workloads::rng::SplitMix64::new(now.nanos_since_epoch ^ (u64::from(std::process::id()) << 32));
    format!("{}-{:04x}-{label}", now.compact(), rng.index(0x1_0000))
}

/// The default folder for a run: `results/<run-id>`.
pub fn default_folder(run_id: &str) -> PathBuf {
    Path::new("results").join(run_id)
}

/// Writes `runs.csv`, `pauses.csv`, `memory.csv` and `meta.json` into `folder`, whole or not at all.
pub fn write_run_folder(path: &Path, gathered: &Gathered, meta: &Meta) -> Result<()> {
    write_folder_atomically(path, |staging| {
        write_csv(&staging.join(folder::RUNS), &gathered.runs)?;
        write_csv(&staging.join(folder::PAUSES), &gathered.pauses)?;
        write_csv(&staging.join(folder::MEMORY), &gathered.memory)?;
        write_csv(&staging.join(folder::COW), &gathered.cow)?;
        write_json(&staging.join(folder::META), meta)
    })
}

/// Fills a staging folder beside `folder` with `fill`, then renames it to `folder`: the folder
/// appears complete or not at all, and a failure leaves nothing behind.
pub fn write_folder_atomically(folder: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = folder.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let name = folder.file_name().context("the output folder needs a name")?.to_string_lossy();
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let written = fs::create_dir(&staging).map_err(anyhow::Error::from).and_then(|()| fill(&staging)).and_then(|()| {
        fs::rename(&staging, folder)?;
        Ok(())
    });
    if written.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    written.with_context(|| format!("writing {}", folder.display()))
}

/// One CSV file from a slice of one serde struct.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let mut csv = csv::Writer::from_path(path)?;
    for row in rows {
        csv.serialize(row)?;
    }
    csv.flush()?;
    Ok(())
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    fs::write(path, serde_json::to_string_pretty(value)? + "\n")?;
    Ok(())
}

/// Checksum disagreements: rows that ran the same workload configuration (workload, size, seed,
/// workload parameters) but computed different checksums, one line per configuration.
pub fn checksum_mismatches(rows: &[RunRow]) -> Vec<String> {
    /// Workload, size, seed and workload parameters.
    type WorkloadConfiguration = (String, String, u64, String);
    let mut by_workload: BTreeMap<WorkloadConfiguration, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for row in rows {
        if let Some(checksum) = &row.outcome.checksum {
            let key =
                (row.key.workload.clone(), row.setup.size.clone(), row.setup.seed, row.setup.workload_params.clone());
            by_workload.entry(key).or_default().entry(checksum.clone()).or_default().push(configuration(row));
        }
    }
    by_workload
        .into_iter()
        .filter(|(_, sums)| sums.len() > 1)
        .map(|((workload, size, seed, params), sums)| {
            let sums: Vec<String> = sums.iter().map(|(sum, who)| format!("{sum} ({})", who.join(", "))).collect();
            format!("{workload} {size} seed {seed} {{{params}}}: {}", sums.join(" vs "))
        })
        .collect()
}

/// What tells a cell's configuration apart from the others of its run (repeats aside).
pub fn configuration(row: &RunRow) -> String {
    let mut text = row.key.strategy.clone();
    if !row.setup.strategy_params.is_empty() {
        text += &format!(" [{}]", row.setup.strategy_params);
    }
    if !row.setup.recording {
        text += " (recording off)";
    }
    text
}

pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// `830 ns`, `12.4 µs`, `3.21 ms`, `1.234 s`.
pub fn format_duration_us(us: f64) -> String {
    match us {
        us if us < 1.0 => format!("{:.0} ns", us * 1e3),
        us if us < 1e3 => format!("{us:.1} µs"),
        us if us < 1e6 => format!("{:.2} ms", us / 1e3),
        us => format!("{:.3} s", us / 1e6),
    }
}

/// `512 B`, `3.2 KiB`, `41.0 MiB`, `1.25 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", b / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.1} MiB", b / 1_048_576.0),
        _ => format!("{:.2} GiB", b / 1_073_741_824.0),
    }
}

/// A UTC time, broken down with the civil-from-days algorithm (Howard Hinnant's
/// `civil_from_days`, proleptic Gregorian calendar).
struct UtcTime {
    nanos_since_epoch: u64,
    date: (i64, u32, u32),
    time: (u32, u32, u32),
    nanos: u32,
}

impl UtcTime {
    fn now() -> UtcTime {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        UtcTime::at(since)
    }

    fn at(since_epoch: std::time::Duration) -> UtcTime {
        let secs = since_epoch.as_secs();
        let (days, second_of_day) = ((secs / 86_400) as i64, (secs % 86_400) as u32);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        UtcTime {
            nanos_since_epoch: since_epoch.as_nanos() as u64,
            date: (year, month, day),
            time: (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60),
            nanos: since_epoch.subsec_nanos(),
        }
    }

    /// `2026-11-22T00:19:03Z`.
    fn iso8601(&self) -> String {
        let ((y, mo, d), (h, mi, s)) = (self.date, self.time);
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }

    /// `20261122-001903.123456789`.
    fn compact(&self) -> String {
        let ((y, mo, d), (h, mi, s)) = (self.date, self.time);
        format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}.{:09}", self.nanos)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn formats_are_readable() {
        assert_eq!(format_duration_us(0.25), "250 ns");
        assert_eq!(format_duration_us(12.44), "12.4 µs");
        assert_eq!(format_duration_us(3210.0), "3.21 ms");
        assert_eq!(format_duration_us(1_234_000.0), "1.234 s");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(43_000_000), "41.0 MiB");
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn run_ids_are_nanosecond_timestamps_with_a_random_suffix() {
        let id = new_run_id("trees");
        assert_eq!(id.len(), "20261122-001903.123456789-5f3a-trees".len(), "{id}");
        assert!(id.ends_with("-trees"));
        let ids: BTreeSet<String> = (0..100).map(|_| new_run_id("trees")).collect();
        assert_eq!(ids.len(), 100, "ids made at once differ");
    }

    #[test]
    fn utc_times_match_known_dates() {
        let at = |secs: u64| UtcTime::at(std::time::Duration::new(secs, 5));
        assert_eq!(at(0).iso8601(), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400).iso8601(), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_306_743).iso8601(), "2026-11-22T00:19:03Z");
        assert_eq!(at(1_795_306_743).compact(), "20261122-001903.000000005");
        assert_eq!(at(4_107_542_399).iso8601(), "2100-02-28T23:59:59Z");
    }
}
