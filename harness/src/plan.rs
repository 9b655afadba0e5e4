//! The plan of a run: every cell it will run, numbered, checked and digested before anything
//! runs. The CLI (`cli.rs`), experiment files (`experiment.rs`) and `validate` all build it here,
//! from [`CellSettings`] (what every cell shares) and the workload × strategy × parameter
//! combinations they choose.
//!
//! - **Numbering.** A cell's `id` is its place in the whole plan, the same in every shard and
//!   whatever order the cells run in; result rows carry it.
//! - **Digest.** A digest of every cell of the whole plan: the shards of one run share it, and
//!   `merge` and `resume` check it.
//! - **Limits.** A plan holds at most `--max-cells` cells ([`DEFAULT_MAX_CELLS`] unless raised)
//!   and a cell repeats at most [`MAX_REPEAT`] times: a typo such as `--repeat 1000000000` is
//!   refused before it allocates anything. Two identical cells are refused too: a name, sweep or
//!   value given twice would otherwise become a fake repeat.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cell::CellSpec;

/// Repeats of each cell when neither `--repeat` nor the experiment's `repeat =` says: three give
/// a median and a range.
pub const DEFAULT_REPEAT: u32 = 3;

/// Most repeats of one cell (`--repeat`, `repeat =`).
pub const MAX_REPEAT: u32 = 1000;
/// Most cells in a plan unless `--max-cells` raises it.
pub const DEFAULT_MAX_CELLS: usize = 10_000;

/// Parameter name → value, as workloads and strategies take them.
pub type Params = BTreeMap<String, String>;

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
    /// Warm-up rounds before the measured cells (`--warmup`), run and discarded.
    pub warmup: u32,
    /// The published result an experiment reproduces (its `reproduces =`).
    pub reproduces: Option<String>,
}

/// One cell of a plan: its place in the plan (stable across shards and orders) and its spec.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlannedCell {
    pub id: usize,
    pub spec: CellSpec,
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

/// What every cell of a plan shares; [`CellSettings::cells`] makes the specs of one workload ×
/// strategy × parameter combination (one per repeat and recording mode).
#[derive(Clone, Debug)]
pub struct CellSettings {
    pub size: String,
    pub seed: u64,
    pub allocator: String,
    pub backend: String,
    pub cascade_threshold: u64,
    pub max_heap_bytes: u64,
    pub sample_every: u64,
    pub repeats: u32,
    /// The recording modes every cell runs in (`[true]`, `[false]` or `[false, true]`).
    pub recordings: Vec<bool>,
}

impl CellSettings {
    /// Cells one combination becomes: repeats × recording modes.
    pub fn cells_per_combination(&self) -> usize {
        self.repeats as usize * self.recordings.len()
    }

    /// The specs of one combination, repeat by repeat, each in every recording mode.
    pub fn cells(
        &self,
        workload: &str,
        workload_params: &Params,
        strategy: &str,
        strategy_params: &Params,
    ) -> Vec<CellSpec> {
        (1..=self.repeats)
            .flat_map(|repeat| self.recordings.iter().map(move |&record| (repeat, record)))
            .map(|(repeat, record)| CellSpec {
                workload: workload.into(),
                size: self.size.clone(),
                seed: self.seed,
                workload_params: workload_params.clone(),
                strategy: strategy.into(),
                strategy_params: strategy_params.clone(),
                allocator: self.allocator.clone(),
                backend: self.backend.clone(),
                cascade_threshold: self.cascade_threshold,
                repeat,
                max_heap_bytes: self.max_heap_bytes,
                record,
                sample_every: self.sample_every,
            })
            .collect()
    }
}

/// The checks of a plan's size: `cells` planned against the `max_cells` allowed.
pub fn check_size(cells: usize, max_cells: usize) -> Result<(), String> {
    if cells > max_cells {
        return Err(format!(
            "the plan has {cells} cells, more than the limit of {max_cells}; raise it with --max-cells {cells} if that is meant"
        ));
    }
    Ok(())
}

/// The whole plan's specs, numbered and digested; keeps the cells of `shard`. Refuses two
/// identical cells (a name, sweep or value given twice).
pub fn number_cells(specs: Vec<CellSpec>, shard: Option<Shard>) -> Result<(Vec<PlannedCell>, usize, String), String> {
    check_unique(&specs)?;
    let total = specs.len();
    let digest = digest(&specs);
    let cells = specs
        .into_iter()
        .enumerate()
        .filter(|(id, _)| shard.is_none_or(|s| s.holds(*id)))
        .map(|(id, spec)| PlannedCell { id, spec })
        .collect();
    Ok((cells, total, digest))
}

/// A digest of the specs of a whole plan, in order.
pub fn digest(specs: &[CellSpec]) -> String {
    let mut digest = workloads::Checksum::new();
    for byte in serde_json::to_vec(specs).expect("specs serialise") {
        digest.mix(byte as u64);
    }
    digest.to_string()
}

fn check_unique(specs: &[CellSpec]) -> Result<(), String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (id, spec) in specs.iter().enumerate() {
        let key = serde_json::to_string(spec).expect("specs serialise");
        if let Some(first) = seen.insert(key, id) {
            return Err(format!(
                "cells {first} and {id} would be identical ({} under {}{}): a name, sweep or value is given twice; use --repeat for repeats",
                spec.workload,
                spec.strategy,
                spec.strategy_params.iter().map(|(k, v)| format!(" {k}={v}")).collect::<String>()
            ));
        }
    }
    Ok(())
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

    fn settings() -> CellSettings {
        CellSettings {
            size: "smoke".into(),
            seed: 1,
            allocator: "pymalloc".into(),
            backend: "jemalloc".into(),
            cascade_threshold: 1000,
            max_heap_bytes: 1 << 30,
            sample_every: 1000,
            repeats: 2,
            recordings: vec![false, true],
        }
    }

    #[test]
    fn a_combination_is_repeats_times_recording_modes() {
        let s = settings();
        let cells = s.cells("cycles", &Params::new(), "refcount", &Params::new());
        assert_eq!(cells.len(), s.cells_per_combination());
        assert_eq!(
            cells.iter().map(|c| (c.repeat, c.record)).collect::<Vec<_>>(),
            [(1, false), (1, true), (2, false), (2, true)]
        );
    }

    #[test]
    fn identical_cells_and_oversized_plans_are_refused() {
        let s = settings();
        let mut specs = s.cells("cycles", &Params::new(), "refcount", &Params::new());
        specs.extend(s.cells("cycles", &Params::new(), "refcount", &Params::new()));
        let error = number_cells(specs, None).unwrap_err();
        assert!(error.contains("given twice"), "{error}");
        assert!(check_size(10_001, DEFAULT_MAX_CELLS).unwrap_err().contains("--max-cells 10001"));
        assert!(check_size(10_000, DEFAULT_MAX_CELLS).is_ok());
    }

    #[test]
    fn shards_share_the_digest_of_the_whole_plan() {
        let specs = settings().cells("cycles", &Params::new(), "refcount", &Params::new());
        let (_, total, whole) = number_cells(specs.clone(), None).unwrap();
        let (cells, _, part) = number_cells(specs, Some(Shard { index: 2, count: 2 })).unwrap();
        assert_eq!((total, whole.clone()), (4, part));
        assert_eq!(cells.iter().map(|c| c.id).collect::<Vec<_>>(), [1, 3]);
    }
}
