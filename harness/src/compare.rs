//! `harness compare A B [C…]`: run folders compared configuration by configuration, as
//! `pyperf compare_to` and criterion's change detection do.
//!
//! ```text
//! compare(folders)
//!   load                 runs.csv and meta.json of each folder
//!   check_same_programs  the folders ran the same workload configurations, or exit 2
//!   compare_pair         A against each later folder: per configuration and figure,
//!                        the ratio of medians (B / A) and its bootstrap interval
//! ```
//!
//! The interval is a percentile bootstrap: both folders' repeats are resampled with
//! replacement [`RESAMPLES`] times (seeded, so a comparison prints the same every time) and the
//! ratio of the resampled medians is taken each time; the 2.5th and 97.5th percentiles bound
//! the 95 % interval. A difference whose interval contains 1 is *not significant*. With fewer
//! than two repeats on either side there is no interval, and the verdict says so.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use workloads::rng::SplitMix64;

use crate::folder::{self, RUNS};
use crate::results::{self, RunRow, Status, median};

/// Bootstrap resamples per interval.
pub const RESAMPLES: usize = 2000;

/// The seed of the bootstrap's resampling.
const BOOTSTRAP_SEED: u64 = 0x0b00_7575_7a9e;

/// Confidence of the interval.
pub const CONFIDENCE: f64 = 0.95;

/// Reads one figure of a `runs.csv` row.
type Figure = fn(&RunRow) -> Option<f64>;

/// The figures compared: name, unit, and how to read it.
const FIGURES: [(&str, &str, Figure); 5] = [
    ("wall", "ms", |r| r.time.wall_time_ms),
    ("mm", "ms", |r| r.time.mm_time_ms),
    ("p99 pause", "µs", |r| r.pauses.pause_p99_us),
    ("max pause", "µs", |r| r.pauses.pause_max_us),
    ("peak RSS", "bytes", |r| r.memory.peak_rss_bytes.map(|b| b as f64)),
];

/// One run folder as compared.
pub struct Folder {
    pub path: PathBuf,
    pub rows: Vec<RunRow>,
}

impl Folder {
    pub fn load(path: &Path) -> Result<Folder> {
        if !path.join(RUNS).is_file() {
            anyhow::bail!("{}: not a run folder (no runs.csv)", path.display());
        }
        let (rows, _) = folder::read_rows::<RunRow>(&path.join(RUNS))?;
        if rows.is_empty() {
            anyhow::bail!("{}: runs.csv has no rows", path.display());
        }
        Ok(Folder { path: path.to_path_buf(), rows })
    }

    /// The workload configurations this folder ran: workload, size, seed, parameters.
    fn programs(&self) -> Vec<String> {
        let mut programs: Vec<String> = self.rows.iter().map(program).collect();
        programs.sort();
        programs.dedup();
        programs
    }

    /// The configurations of this folder in plan order, each with its key.
    fn configurations(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for row in &self.rows {
            let key = configuration(row);
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        seen
    }

    fn values(&self, configuration_key: &str, figure: Figure) -> Vec<f64> {
        self.rows
            .iter()
            .filter(|r| r.outcome.status == Status::Ok && configuration(r) == configuration_key)
            .filter_map(figure)
            .collect()
    }
}

/// `trees smoke seed 42 {depth=12}`.
fn program(row: &RunRow) -> String {
    format!("{} {} seed {} {{{}}}", row.key.workload, row.setup.size, row.setup.seed, row.setup.workload_params)
}

/// The program and `strategy [params]`, `(recording off)` where it was.
fn configuration(row: &RunRow) -> String {
    format!("{} {}", program(row), results::configuration(row))
}

/// Why two folders cannot be compared: they ran different workload configurations.
pub fn check_same_programs(a: &Folder, b: &Folder) -> Result<(), String> {
    let (pa, pb) = (a.programs(), b.programs());
    if pa == pb {
        return Ok(());
    }
    let only = |x: &[String], y: &[String]| x.iter().filter(|p| !y.contains(p)).cloned().collect::<Vec<_>>().join("; ");
    Err(format!(
        "{} and {} ran different workload configurations, so their figures cannot be compared; only in the first: {}; \
         only in the second: {}",
        a.path.display(),
        b.path.display(),
        or_none(only(&pa, &pb)),
        or_none(only(&pb, &pa)),
    ))
}

fn or_none(text: String) -> String {
    if text.is_empty() { "none".into() } else { text }
}

/// One figure of one configuration, B against A.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ComparisonRow {
    /// The folder compared with the baseline.
    pub against: String,
    pub configuration: String,
    pub figure: String,
    pub unit: String,
    pub baseline_median: f64,
    pub median: f64,
    /// `median / baseline_median`.
    pub ratio: f64,
    /// The 95 % bootstrap interval of the ratio; `None` with fewer than two repeats a side.
    pub interval: Option<(f64, f64)>,
    /// `faster`/`slower` (`smaller`/`larger` for memory), `not significant`, or `no interval`.
    pub verdict: String,
}

/// Every comparison of the folders against the first.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub baseline: String,
    pub rows: Vec<ComparisonRow>,
    /// Configurations present in one folder only, and other facts a reader must know.
    pub notes: Vec<String>,
}

/// Compares each folder after the first with the first. Refuses (`Err`) folders whose workload
/// configurations differ.
pub fn compare(folders: &[Folder]) -> Result<Comparison, String> {
    let baseline = &folders[0];
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for other in &folders[1..] {
        check_same_programs(baseline, other)?;
        let profiles = |f: &Folder| {
            let mut p: Vec<&str> = f.rows.iter().map(|r| r.setup.build_profile.as_str()).collect();
            p.sort();
            p.dedup();
            p.join("+")
        };
        if profiles(baseline) != profiles(other) {
            notes.push(format!(
                "{} is a {} build, {} a {} build: the ratios mix build profiles",
                baseline.path.display(),
                profiles(baseline),
                other.path.display(),
                profiles(other)
            ));
        }
        let theirs = other.configurations();
        for key in baseline.configurations() {
            if !theirs.contains(&key) {
                notes.push(format!("{}: only in {}", short_configuration(&key), baseline.path.display()));
                continue;
            }
            rows.extend(compare_configuration(baseline, other, &key));
        }
        for key in theirs.iter().filter(|k| !baseline.configurations().contains(k)) {
            notes.push(format!("{}: only in {}", short_configuration(key), other.path.display()));
        }
    }
    Ok(Comparison { baseline: baseline.path.display().to_string(), rows, notes })
}

fn compare_configuration(a: &Folder, b: &Folder, key: &str) -> Vec<ComparisonRow> {
    FIGURES
        .iter()
        .filter_map(|(figure, unit, get)| {
            let (xs, ys) = (a.values(key, *get), b.values(key, *get));
            let (ma, mb) = (median(xs.clone())?, median(ys.clone())?);
            if ma <= 0.0 {
                return None;
            }
            let ratio = mb / ma;
            let interval = bootstrap_interval(&xs, &ys);
            Some(ComparisonRow {
                against: b.path.display().to_string(),
                configuration: key.to_string(),
                figure: figure.to_string(),
                unit: unit.to_string(),
                baseline_median: ma,
                median: mb,
                ratio,
                interval,
                verdict: verdict(ratio, interval, *unit == "bytes"),
            })
        })
        .collect()
}

/// The 95 % percentile-bootstrap interval of `median(ys) / median(xs)`; `None` with fewer than
/// two values on either side (resampling one value says nothing about its spread).
pub fn bootstrap_interval(xs: &[f64], ys: &[f64]) -> Option<(f64, f64)> {
    if xs.len() < 2 || ys.len() < 2 {
        return None;
    }
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let mut resample = |values: &[f64]| median((0..values.len()).map(|_| values[rng.index(values.len())]).collect());
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .filter_map(|_| {
            let (a, b) = (resample(xs)?, resample(ys)?);
            (a > 0.0).then(|| b / a)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
    (!ratios.is_empty()).then(|| (at(tail), at(1.0 - tail)))
}

fn verdict(ratio: f64, interval: Option<(f64, f64)>, memory: bool) -> String {
    match interval {
        None => "no interval (<2 repeats)".into(),
        Some((lo, hi)) if lo <= 1.0 && hi >= 1.0 => "not significant".into(),
        Some(_) => match (ratio > 1.0, memory) {
            (true, false) => "slower",
            (false, false) => "faster",
            (true, true) => "larger",
            (false, true) => "smaller",
        }
        .into(),
    }
}

/// The columns of a comparison table after the folder's.
const COLUMNS: [&str; 7] = ["configuration", "figure", "baseline", "this", "ratio", "interval", "verdict"];

impl ComparisonRow {
    /// The row's cells under [`COLUMNS`], as every rendering shows them.
    fn cells(&self) -> Vec<String> {
        vec![
            short_configuration(&self.configuration),
            self.figure.clone(),
            format_value(self.baseline_median, &self.unit),
            format_value(self.median, &self.unit),
            format!("{:.3}×", self.ratio),
            self.interval.map_or("-".into(), |(lo, hi)| format!("{lo:.3}–{hi:.3}")),
            self.verdict.clone(),
        ]
    }
}

impl Comparison {
    /// The comparison as terminal text: one table per folder compared with the baseline.
    pub fn text(&self) -> String {
        let mut out = Vec::new();
        let mut against: Vec<&str> = self.rows.iter().map(|r| r.against.as_str()).collect();
        against.dedup();
        for folder in against {
            out.push(format!(
                "{folder} against {} (ratio of medians, {:.0}% bootstrap interval):",
                self.baseline,
                CONFIDENCE * 100.0
            ));
            let mut lines = vec![COLUMNS.map(String::from).to_vec()];
            lines.extend(self.rows.iter().filter(|r| r.against == folder).map(ComparisonRow::cells));
            out.push(crate::summary::align_table(&lines));
        }
        out.extend(self.notes.iter().map(|n| format!("note: {n}")));
        out.join("\n")
    }

    /// The comparison as one export table, the folder compared in the first column.
    pub fn table(&self) -> crate::export::Table {
        crate::export::Table {
            title: format!("Comparison against {}", self.baseline),
            header: std::iter::once("folder").chain(COLUMNS).map(String::from).collect(),
            rows: self
                .rows
                .iter()
                .map(|row| std::iter::once(row.against.clone()).chain(row.cells()).collect())
                .collect(),
            notes: self.notes.clone(),
        }
    }
}

/// The configuration without its seed and workload parameters (the folders share them).
fn short_configuration(key: &str) -> String {
    match (key.find(" seed "), key.find("} ")) {
        (Some(seed), Some(end)) if end > seed => format!("{}{}", &key[..seed], &key[end + 1..]),
        _ => key.to_string(),
    }
}

pub fn format_value(value: f64, unit: &str) -> String {
    match unit {
        "ms" => results::format_duration_us(value * 1e3),
        "µs" => results::format_duration_us(value),
        "bytes" => results::format_bytes(value as u64),
        _ => format!("{value}"),
    }
}

/// Loads the folders; a folder that cannot be read is an error naming it.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<Folder>> {
    paths.iter().map(|p| Folder::load(p).with_context(|| format!("comparing {}", p.display()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clear_difference_is_significant_and_noise_is_not() {
        let (lo, hi) = bootstrap_interval(&[100.0, 101.0, 102.0], &[150.0, 151.0, 153.0]).unwrap();
        assert!(lo > 1.4 && hi < 1.6, "{lo}–{hi}");
        assert_eq!(verdict(1.5, Some((lo, hi)), false), "slower");
        let (lo, hi) = bootstrap_interval(&[100.0, 110.0, 95.0], &[104.0, 97.0, 108.0]).unwrap();
        assert!(lo < 1.0 && hi > 1.0, "{lo}–{hi}");
        assert_eq!(verdict(1.01, Some((lo, hi)), false), "not significant");
        assert_eq!(bootstrap_interval(&[1.0], &[2.0, 3.0]), None);
    }

    #[test]
    fn the_interval_is_the_same_every_time() {
        let xs = [10.0, 12.0, 11.0, 13.0];
        let ys = [9.0, 10.0, 11.5];
        assert_eq!(bootstrap_interval(&xs, &ys), bootstrap_interval(&xs, &ys));
    }
}
