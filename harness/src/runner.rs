//! Runs the cells of a plan, each in a fresh child process, and gathers their rows.
//!
//! - **Order.** Cells run in a random order drawn from the run's seed, so that machine drift
//!   (thermal state, a noisy neighbour) spreads over every strategy instead of hitting the last
//!   ones. Results are reported in plan order whatever the execution order, which is what lets
//!   shards of a run merge into the same folder as the unsharded run.
//! - **Limits.** Each child is killed after the timeout (`timeout`); its heap cap travels in its
//!   spec. A cell that fails or times out is recorded with its status and the run goes on.
//! - **Progress.** A progress bar with an ETA when stdout is a terminal, one plain line per
//!   finished cell otherwise (logs, CI, batch schedulers).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use workloads::rng::SplitMix64;

use crate::cell::{self, CellResult, CellSpec};
use crate::results::{self, MemoryRow, PauseRow, RunRow};

/// Everything a run will do, checked before anything runs.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The cells of this shard (all of them without `--shard`), in plan order.
    pub cells: Vec<PlannedCell>,
    /// Cells in the whole plan, every shard included.
    pub plan_cells: usize,
    /// A digest of every cell of the whole plan: shards of one run share it.
    pub plan_digest: String,
    pub shard: Option<Shard>,
    /// Seeds the workloads (through each cell's spec) and the execution order.
    pub seed: u64,
    pub timeout: Duration,
    /// `adhoc` for a plain run, else the experiment's name.
    pub experiment: String,
    pub out: Option<std::path::PathBuf>,
}

/// `--shard i/n`: this process runs the cells whose plan index is `i − 1` modulo `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, String> {
        let parsed = text.split_once('/').and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)));
        match parsed {
            Some((index, count)) if count >= 1 && (1..=count).contains(&index) => Ok(Shard { index, count }),
            _ => Err(format!("--shard {text}: expected i/n with 1 <= i <= n, e.g. 2/8")),
        }
    }

    pub fn holds(self, cell: usize) -> bool {
        cell % self.count == self.index - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Numbers the cells of a whole plan and keeps those of `shard`; also returns the plan's size
/// and digest.
pub fn number_cells(specs: Vec<CellSpec>, shard: Option<Shard>) -> (Vec<PlannedCell>, usize, String) {
    let total = specs.len();
    let mut digest = workloads::Checksum::new();
    for byte in serde_json::to_vec(&specs).expect("specs serialise") {
        digest.mix(byte as u64);
    }
    let cells = specs
        .into_iter()
        .enumerate()
        .filter(|(id, _)| shard.is_none_or(|s| s.holds(*id)))
        .map(|(id, spec)| PlannedCell { id, spec })
        .collect();
    (cells, total, digest.to_string())
}

/// One cell of a plan: its place in the plan (stable across shards and orders) and its spec.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct PlannedCell {
    pub id: usize,
    pub spec: CellSpec,
}

/// What the cells of a run produced, in plan order.
#[derive(Debug, Default)]
pub struct Gathered {
    pub runs: Vec<RunRow>,
    pub pauses: Vec<PauseRow>,
    pub memory: Vec<MemoryRow>,
}

impl Gathered {
    /// Whether every cell ran to its end or to the heap cap: a strategy that leaks past the
    /// cap is a finding, not a failure; a crash or a timeout is.
    pub fn all_ok(&self) -> bool {
        self.runs.iter().all(|r| r.status == "ok" || r.status == "leaked-over-cap")
    }
}

/// Runs `cells` in an order shuffled with `order_seed`; every child gets at most `timeout`.
pub fn run_cells(run_id: &str, cells: &[PlannedCell], order_seed: u64, timeout: Duration) -> Gathered {
    let order = shuffled(cells.len(), order_seed);
    let progress = Progress::new(cells.len() as u64);
    let mut finished: BTreeMap<usize, (RunRow, Vec<PauseRow>, Vec<MemoryRow>)> = BTreeMap::new();
    for index in order {
        let cell = &cells[index];
        progress.starting(&describe(&cell.spec));
        let started = Instant::now();
        let result = cell::run_in_child(&cell.spec, timeout);
        progress.finished(&describe(&cell.spec), &result, started.elapsed());
        let (pauses, memory) = match &result {
            CellResult::Ok(outcome) => {
                (results::pause_rows(run_id, cell, outcome), results::memory_rows(run_id, cell, outcome))
            }
            _ => (Vec::new(), Vec::new()),
        };
        finished.insert(cell.id, (results::row(run_id, cell, &result), pauses, memory));
    }
    progress.done();
    let mut gathered = Gathered::default();
    for (_, (row, pauses, memory)) in finished {
        gathered.runs.push(row);
        gathered.pauses.extend(pauses);
        gathered.memory.extend(memory);
    }
    gathered
}

/// `0..n` in a Fisher–Yates order drawn from `seed`.
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix64::new(seed ^ 0x6f72_6465_72ed_5eed); // a stream apart from the workloads'
    for i in (1..n).rev() {
        order.swap(i, rng.index(i + 1));
    }
    order
}

fn describe(spec: &CellSpec) -> String {
    let params: Vec<String> = spec.strategy_params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let workload_params: Vec<String> = spec.workload_params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut text = format!("{} ({}) under {}", spec.workload, spec.size, spec.strategy);
    if !params.is_empty() {
        text += &format!(" [{}]", params.join(" "));
    }
    if !workload_params.is_empty() {
        text += &format!(" {{{}}}", workload_params.join(" "));
    }
    if spec.repeat > 1 {
        text += &format!(" repeat {}", spec.repeat);
    }
    if !spec.record {
        text += " (recording off)";
    }
    text
}

/// A bar on a terminal, plain lines elsewhere.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: std::cell::Cell<u64>,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} cells  {elapsed} elapsed, ETA {eta}  {msg}")
                    .expect("a valid template"),
            );
            bar
        });
        Progress { bar, total, done: std::cell::Cell::new(0) }
    }

    fn starting(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
        }
    }

    fn finished(&self, what: &str, result: &CellResult, took: Duration) {
        self.done.set(self.done.get() + 1);
        let status = match result {
            CellResult::Ok(outcome) if outcome.status != "ok" => outcome.status.clone(),
            CellResult::Ok(_) => "ok".into(),
            CellResult::Failed { error } => format!("failed: {}", error.lines().last().unwrap_or_default()),
            CellResult::TimedOut { after, .. } => format!("timed out after {:.0} s", after.as_secs_f64()),
        };
        let line = format!("[{}/{}] {what}: {status} ({:.1} s)", self.done.get(), self.total, took.as_secs_f64());
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_plan_without_overlap() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard::parse(&format!("{i}/3")).unwrap()).collect();
        for cell in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.holds(cell)).count(), 1, "cell {cell}");
        }
        for bad in ["0/3", "4/3", "1/0", "1", "a/b", "2/"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_order_is_a_seeded_permutation() {
        let order = shuffled(10, 42);
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_eq!(order, shuffled(10, 42), "same seed, same order");
        assert_ne!(order, shuffled(10, 43), "another seed, another order");
        assert_ne!(order, (0..10).collect::<Vec<_>>());
    }
}
