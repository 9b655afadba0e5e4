//! A run folder as the report sees it: the rows of `runs.csv`, `pauses.csv` and (when present)
//! `memory.csv`, `meta.json`, and the rows grouped the way every chart and table compares them.
//!
//! - A **program** is one workload configuration (workload, size, workload parameters): the
//!   thing strategies are compared on.
//! - A **configuration** is one strategy with its parameters, run on one program, once per
//!   repeat. In an experiment several configurations share a strategy name (`generational` with
//!   different thresholds); they are told apart by the **swept parameters**, the parameters
//!   given in `meta.json` whose values vary across the run (`generational.threshold0`,
//!   `cycles.ring-size`).
//!
//! Repeats are summarised by their median and range; time series (pause timelines, memory)
//! show the **representative repeat**, the one whose wall time is the median.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::Path;

use anyhow::Result;
use serde::Deserialize;

use crate::results::{MemoryRow, Meta, PauseRow, RunRow, Status, median};

/// The strategy that never frees: the LBO lower bound for time.
pub const NOGC: &str = "nogc";

/// One memory sample as the charts plot it, made from `memory.csv`'s row as the harness writes
/// it ([`MemoryRow`], read with that very type, so the two cannot drift apart).
#[derive(Clone, Debug)]
pub struct MemorySample {
    pub cell: usize,
    /// Object allocations so far: the x axis that aligns strategies.
    pub allocations: u64,
    pub live_bytes: u64,
    pub allocator_reserved_bytes: u64,
    /// 0 when the child could not read `/proc/self/statm` (the row's `rss_bytes` is empty); the
    /// RSS panel's log axis leaves such points out, the other panels keep the sample.
    pub rss_bytes: u64,
}

impl From<&MemoryRow> for MemorySample {
    fn from(row: &MemoryRow) -> MemorySample {
        MemorySample {
            cell: row.key.cell,
            allocations: row.allocations,
            live_bytes: row.live_bytes,
            allocator_reserved_bytes: row.allocator_bytes_reserved,
            rss_bytes: row.rss_bytes.unwrap_or(0),
        }
    }
}

/// The samples of `memory.csv`, with a note when some have no RSS.
fn memory_samples(rows: &[MemoryRow], problems: &mut Vec<String>) -> Vec<MemorySample> {
    let without_rss = rows.iter().filter(|r| r.rss_bytes.is_none()).count();
    if without_rss > 0 {
        problems.push(format!(
            "memory.csv: {without_rss} of {} samples have no RSS (/proc/self/statm was unreadable); the RSS panels leave them out",
            rows.len()
        ));
    }
    rows.iter().map(MemorySample::from).collect()
}

/// Everything the report reads from a run folder.
pub struct RunFolder {
    pub runs: Vec<RunRow>,
    pub pauses: Vec<PauseRow>,
    /// `None` when the folder has no `memory.csv`.
    pub memory: Option<Vec<MemorySample>>,
    /// `meta.json` as written, for the metadata section (every field, whatever its version).
    pub meta_json: Option<serde_json::Value>,
    /// `meta.json` read as [`Meta`], for the parameters each cell was given.
    pub meta: Option<Meta>,
    /// What could not be read, for the report's notes.
    pub problems: Vec<String>,
}

impl RunFolder {
    /// Reads a run folder. `runs.csv` is required; a missing or unreadable `pauses.csv`,
    /// `memory.csv` or `meta.json` becomes a note and the report goes on without it.
    pub fn load(folder: &Path) -> Result<RunFolder> {
        let (runs, _) = crate::folder::read_rows::<RunRow>(&folder.join("runs.csv"))?;
        let mut problems = Vec::new();
        let pauses = match crate::folder::read_rows::<PauseRow>(&folder.join("pauses.csv")).map(|(rows, _)| rows) {
            Ok(pauses) => pauses,
            Err(e) => {
                problems.push(format!("pauses.csv: {e:#}"));
                Vec::new()
            }
        };
        let memory_path = folder.join("memory.csv");
        let memory = if memory_path.exists() {
            match crate::folder::read_rows::<MemoryRow>(&memory_path).map(|(rows, _)| rows) {
                Ok(rows) => Some(memory_samples(&rows, &mut problems)),
                Err(e) => {
                    problems.push(format!("memory.csv: {e:#}"));
                    None
                }
            }
        } else {
            None
        };
        let meta_text = fs::read_to_string(folder.join("meta.json"));
        let meta_json = match meta_text.as_deref().map(serde_json::from_str::<serde_json::Value>) {
            Ok(Ok(value)) => Some(value),
            Ok(Err(e)) => {
                problems.push(format!("meta.json: {e}"));
                None
            }
            Err(e) => {
                problems.push(format!("meta.json: {e}"));
                None
            }
        };
        let meta = meta_json.as_ref().and_then(|json| match Meta::deserialize(json) {
            Ok(meta) => Some(meta),
            Err(e) => {
                problems.push(format!(
                    "meta.json does not match this harness version ({e}); swept parameters are read from runs.csv"
                ));
                None
            }
        });
        Ok(RunFolder { runs, pauses, memory, meta_json, meta, problems })
    }
}

/// One strategy with its parameters on one program, over its repeats.
pub struct Configuration<'a> {
    pub strategy: String,
    /// Parameters as given (`meta.json`), prefixed with their strategy or workload:
    /// `generational.threshold0 = 100`, `cycles.ring-size = 21`.
    pub given: BTreeMap<String, String>,
    /// Short name within its program: the strategy and its swept parameters.
    pub label: String,
    /// Every row of this configuration (any status), in plan order.
    pub rows: Vec<&'a RunRow>,
}

impl<'a> Configuration<'a> {
    pub fn ok_rows(&self) -> impl Iterator<Item = &'a RunRow> + '_ {
        self.rows.iter().copied().filter(|r| r.outcome.status == Status::Ok)
    }

    /// The median over the `ok` repeats of a figure, where it was recorded.
    pub fn median(&self, figure: impl Fn(&RunRow) -> Option<f64>) -> Option<f64> {
        median(self.ok_rows().filter_map(figure).collect())
    }

    /// The smallest and largest value over the `ok` repeats.
    pub fn range(&self, figure: impl Fn(&RunRow) -> Option<f64>) -> Option<(f64, f64)> {
        let values: Vec<f64> = self.ok_rows().filter_map(figure).collect();
        let lo = values.iter().copied().reduce(f64::min)?;
        let hi = values.iter().copied().reduce(f64::max)?;
        Some((lo, hi))
    }

    /// The median and range over the `ok` repeats of a figure, where it was recorded.
    pub fn spread(&self, figure: impl Fn(&RunRow) -> Option<f64>) -> Option<Spread> {
        let (lo, hi) = self.range(&figure)?;
        Some(Spread { median: self.median(&figure)?, lo, hi })
    }

    /// The `ok` repeat whose wall time is the median (the lower of the middle two).
    pub fn representative(&self) -> Option<&'a RunRow> {
        let mut ok: Vec<&RunRow> = self.ok_rows().collect();
        ok.sort_by(|a, b| a.time.wall_time_ms.unwrap_or(0.0).total_cmp(&b.time.wall_time_ms.unwrap_or(0.0)));
        ok.get(ok.len().saturating_sub(1) / 2).copied()
    }

    /// The strategy's parameters in force (`runs.csv`), read from an `ok` row when there is one:
    /// a failed cell's row only has the parameters it was given.
    pub fn params_in_force(&self) -> &str {
        self.ok_rows().next().unwrap_or(self.rows[0]).setup.strategy_params.as_str()
    }

    pub fn is_nogc(&self) -> bool {
        self.strategy == NOGC
    }
}

/// A figure's median, smallest and largest value over a configuration's `ok` repeats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub lo: f64,
    pub hi: f64,
}

/// One workload configuration and the strategy configurations run on it.
pub struct Program<'a> {
    pub workload: String,
    /// `cycles (small)`, plus the swept workload parameters.
    pub label: String,
    /// A file-name-safe form of the label.
    pub slug: String,
    pub configurations: Vec<Configuration<'a>>,
}

/// The run folder's rows grouped into programs and configurations, with the swept parameters.
pub struct Analysis<'a> {
    pub folder: &'a RunFolder,
    pub programs: Vec<Program<'a>>,
    /// Parameters whose value varies across the run, in the order they first appear.
    pub swept: Vec<String>,
    pauses_by_cell: HashMap<usize, Vec<&'a PauseRow>>,
    memory_by_cell: HashMap<usize, Vec<&'a MemorySample>>,
}

impl<'a> Analysis<'a> {
    pub fn of(folder: &'a RunFolder) -> Analysis<'a> {
        let given_by_cell = given_parameters(folder);
        let swept = swept_parameters(&folder.runs, &given_by_cell);

        // Programs and configurations are keyed by the parameters as given, which a failed
        // cell shares with its `ok` siblings (its row has no parameters in force).
        let mut programs: Vec<(String, Program<'a>)> = Vec::new();
        // Cells run with recording off (`--recording both`) exist to measure the recorder's
        // cost, which the run's summary prints; they have no pauses or samples to draw.
        let any_recorded = folder.runs.iter().any(|r| r.setup.recording);
        for row in folder.runs.iter().filter(|r| r.setup.recording || !any_recorded) {
            let given = given_by_cell.get(&row.key.cell).cloned().unwrap_or_default();
            let workload_prefix = format!("{}.", row.key.workload);
            let workload_given: Vec<(&String, &String)> =
                given.iter().filter(|(name, _)| name.starts_with(&workload_prefix)).collect();
            let program_key = format!("{}\t{}\t{workload_given:?}", row.key.workload, row.setup.size);
            let index = programs.iter().position(|(key, _)| *key == program_key).unwrap_or_else(|| {
                let label = program_label(row, &given, &swept);
                let program = Program {
                    workload: row.key.workload.clone(),
                    slug: slug(&label),
                    label,
                    configurations: Vec::new(),
                };
                programs.push((program_key, program));
                programs.len() - 1
            });
            let program = &mut programs[index].1;
            match program.configurations.iter_mut().find(|c| c.strategy == row.key.strategy && c.given == given) {
                Some(configuration) => configuration.rows.push(row),
                None => program.configurations.push(Configuration {
                    strategy: row.key.strategy.clone(),
                    label: configuration_label(&row.key.strategy, &given, &swept),
                    given,
                    rows: vec![row],
                }),
            }
        }
        let mut programs: Vec<Program<'a>> = programs.into_iter().map(|(_, program)| program).collect();
        for program in &mut programs {
            disambiguate_labels(&mut program.configurations);
        }

        let mut pauses_by_cell: HashMap<usize, Vec<&PauseRow>> = HashMap::new();
        for pause in &folder.pauses {
            pauses_by_cell.entry(pause.key.cell).or_default().push(pause);
        }
        let mut memory_by_cell: HashMap<usize, Vec<&MemorySample>> = HashMap::new();
        for sample in folder.memory.iter().flatten() {
            memory_by_cell.entry(sample.cell).or_default().push(sample);
        }
        for samples in memory_by_cell.values_mut() {
            samples.sort_by_key(|s| s.allocations);
        }
        Analysis { folder, programs, swept, pauses_by_cell, memory_by_cell }
    }

    /// The pauses of one cell, in the order they happened.
    pub fn pauses(&self, cell: usize) -> &[&'a PauseRow] {
        self.pauses_by_cell.get(&cell).map_or(&[], Vec::as_slice)
    }

    /// The memory samples of one cell, by allocation count; `None` without `memory.csv`.
    pub fn memory(&self, cell: usize) -> Option<&[&'a MemorySample]> {
        self.folder.memory.as_ref()?;
        Some(self.memory_by_cell.get(&cell).map_or(&[], Vec::as_slice))
    }

    pub fn has_memory(&self) -> bool {
        self.folder.memory.is_some()
    }

    /// The split of one `ok` cell's time (see [`TimeSplit`]).
    pub fn time_split(&self, row: &RunRow) -> Option<TimeSplit> {
        let wall_ns = row.time.wall_time_ms? * 1e6;
        let mm_ns = row.time.mm_time_ms? * 1e6;
        let after_return_ns: f64 = self
            .pauses(row.key.cell)
            .iter()
            .filter(|p| p.start_ns as f64 >= wall_ns)
            .map(|p| p.duration_ns as f64)
            .sum();
        let during_ns = (mm_ns - after_return_ns).clamp(0.0, wall_ns);
        Some(TimeSplit { mutator_ns: wall_ns - during_ns, memory_management_ns: during_ns, after_return_ns })
    }

    /// The peak of the sampled live bytes of a cell, when `memory.csv` has samples for it.
    pub fn peak_live_bytes(&self, cell: usize) -> Option<f64> {
        self.memory(cell)?.iter().map(|s| s.live_bytes as f64).reduce(f64::max)
    }

    /// Every configuration of one workload, across its programs (for sweeps of workload
    /// parameters), with the program each belongs to.
    pub fn configurations_of(&self, workload: &str) -> Vec<(&Program<'a>, &Configuration<'a>)> {
        self.programs
            .iter()
            .filter(|p| p.workload == workload)
            .flat_map(|p| p.configurations.iter().map(move |c| (p, c)))
            .collect()
    }

    /// Workload names in plan order.
    pub fn workloads(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.programs.iter().map(|p| p.workload.as_str()).filter(|w| seen.insert(*w)).collect()
    }
}

/// How a cell's time divides. `wall_time_ms` covers the workload from start to return;
/// `mm_time_ms` also counts the exit collection of `generational` and `manual`, which runs
/// after the workload returned. Pauses that start after the wall time ended are that exit
/// work; the rest of the memory-management time happened inside the wall time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeSplit {
    pub mutator_ns: f64,
    pub memory_management_ns: f64,
    pub after_return_ns: f64,
}

/// The parameters each cell was given, from `meta.json` (prefixed `strategy.` or
/// `workload.`), or, without it, from the parameters in force in `runs.csv`.
fn given_parameters(folder: &RunFolder) -> HashMap<usize, BTreeMap<String, String>> {
    let prefixed = |prefix: &str, params: &mut dyn Iterator<Item = (String, String)>| {
        params.map(|(k, v)| (format!("{prefix}.{k}"), v)).collect::<Vec<_>>()
    };
    match &folder.meta {
        Some(meta) => meta
            .cells
            .iter()
            .map(|cell| {
                let spec = &cell.spec;
                let mut given: BTreeMap<String, String> =
                    prefixed(&spec.strategy, &mut spec.strategy_params.clone().into_iter()).into_iter().collect();
                given.extend(prefixed(&spec.workload, &mut spec.workload_params.clone().into_iter()));
                (cell.id, given)
            })
            .collect(),
        None => folder
            .runs
            .iter()
            .map(|row| {
                let mut given: BTreeMap<String, String> =
                    prefixed(&row.key.strategy, &mut parse_params(&row.setup.strategy_params)).into_iter().collect();
                given.extend(prefixed(&row.key.workload, &mut parse_params(&row.setup.workload_params)));
                (row.key.cell, given)
            })
            .collect(),
    }
}

/// `key=value;key=value` pairs, as `runs.csv` writes parameters.
fn parse_params(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split(';').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string()))
}

/// Parameters taking two or more values across the run's cells, in order of first appearance.
fn swept_parameters(runs: &[RunRow], given: &HashMap<usize, BTreeMap<String, String>>) -> Vec<String> {
    let mut values: Vec<(String, BTreeSet<String>)> = Vec::new();
    for row in runs {
        for (name, value) in given.get(&row.key.cell).into_iter().flatten() {
            match values.iter_mut().find(|(n, _)| n == name) {
                Some((_, seen)) => {
                    seen.insert(value.clone());
                }
                None => values.push((name.clone(), BTreeSet::from([value.clone()]))),
            }
        }
    }
    values.into_iter().filter(|(_, seen)| seen.len() > 1).map(|(name, _)| name).collect()
}

/// `cycles (small)`, with the swept workload parameters: `cycles (small) ring-size=21`.
fn program_label(row: &RunRow, given: &BTreeMap<String, String>, swept: &[String]) -> String {
    let prefix = format!("{}.", row.key.workload);
    let mut label = format!("{} ({})", row.key.workload, row.setup.size);
    for name in swept {
        if let (Some(key), Some(value)) = (name.strip_prefix(&prefix), given.get(name)) {
            label += &format!(" {key}={value}");
        }
    }
    label
}

/// The strategy and its swept parameters: `generational threshold0=100`.
fn configuration_label(strategy: &str, given: &BTreeMap<String, String>, swept: &[String]) -> String {
    let prefix = format!("{strategy}.");
    let mut label = strategy.to_string();
    for name in swept {
        if let (Some(key), Some(value)) = (name.strip_prefix(&prefix), given.get(name)) {
            label += &format!(" {key}={value}");
        }
    }
    label
}

/// Labels that would be equal (a run that varied parameters `meta.json` does not show) get
/// the parameters in force added.
fn disambiguate_labels(configurations: &mut [Configuration]) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for c in configurations.iter() {
        *counts.entry(c.label.clone()).or_default() += 1;
    }
    for c in configurations.iter_mut() {
        if counts[&c.label] > 1 {
            c.label = format!("{} [{}]", c.strategy, c.params_in_force());
        }
    }
}

/// Lower-case letters, digits and dashes: `cycles-small-ring-size-21`.
pub fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

/// The value at quantile `q` (0..=1) of sorted `values`, by nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("cycles (small) ring-size=21"), "cycles-small-ring-size-21");
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), Some(50.0));
        assert_eq!(quantile(&values, 0.99), Some(99.0));
        assert_eq!(quantile(&values, 1.0), Some(100.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
