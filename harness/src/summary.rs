//! The summary printed after a run, a merge or a resume: one line per configuration, medians
//! over the repeats with the range, and what recording costs where it ran both ways.
//!
//! [`Summary::of`] computes it once ([`Stat`]: median, min, max per figure); [`Summary::text`]
//! lays it out for a terminal (at most [`WIDTH`] columns: a short label per configuration, the
//! parameters that tell configurations apart in a legend below, units in the headers, each
//! figure rounded to what its spread supports); the exporters render the same struct.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::export::Table;
use crate::results::{self, CowRow, Meta, RunRow, Status, median};
use crate::system;

/// What recording costs, per configuration that ran both ways (`--recording both`): wall time
/// with recording on over wall time with it off, minus one, by medians and by minimums (the
/// minimum is the figure least disturbed by a busy machine).
pub fn recording_overheads(rows: &[RunRow]) -> Vec<RecordingOverhead> {
    let mut walls: BTreeMap<(String, String, String), [Vec<f64>; 2]> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.outcome.status == Status::Ok) {
        let key = (
            row.key.workload.clone(),
            row.setup.workload_params.clone(),
            format!("{} [{}]", row.key.strategy, row.setup.strategy_params),
        );
        walls.entry(key).or_default()[row.setup.recording as usize].extend(row.time.wall_time_ms);
    }
    let min = |v: &[f64]| v.iter().copied().reduce(f64::min);
    walls
        .into_iter()
        .filter_map(|((workload, _, label), [off, on])| {
            Some(RecordingOverhead {
                configuration: format!("{workload} {label}"),
                by_minimum: min(&on)? / min(&off)? - 1.0,
                by_median: median(on)? / median(off)? - 1.0,
            })
        })
        .collect()
}

/// See [`recording_overheads`].
#[derive(Debug, PartialEq)]
pub struct RecordingOverhead {
    pub configuration: String,
    pub by_median: f64,
    pub by_minimum: f64,
}

/// Widest summary line, in characters.
pub const WIDTH: usize = 120;

/// Longest configuration label before it becomes `strategy#n` with a legend entry.
const LABEL_WIDTH: usize = 22;

/// The terms of the summary, defined once for `--help`, the legend hint and results/README.md.
pub const TERMS: &str = "Terms of the summary (medians over the ok repeats; min–max in brackets):
  wall      wall time of the workload, start to return (the exit collection is not in it)
  mm        memory-management time: cycle collections and refcount cascades, the exit
            collection included (allocation is never timed per operation)
  pause     a stop of the program for memory management: every cycle collection, and every
            refcount cascade (freeing a structure whose objects all died at once) that freed at
            least --cascade-threshold objects; p99 and max are per cell, then the median
  gc 0/1/2  cycle collections of each generation, counted by the oldest generation collected
  RSS       peak resident set of the cell's process
  reserved  most bytes the object allocator held from the system at once (arenas, large blocks)
  leaked    bytes still alive when the workload returned (cycles refcounting never freed)
  LBO       overhead against a lower bound (report.html): the distilled mutator time, the
            smallest wall time minus mm time over the configurations";

/// A figure over the repeats of a configuration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Repeats it was measured on.
    pub n: usize,
}

impl Stat {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Stat> {
        let values: Vec<f64> = values.into_iter().collect();
        Some(Stat {
            median: median(values.clone())?,
            min: values.iter().copied().reduce(f64::min)?,
            max: values.iter().copied().reduce(f64::max)?,
            n: values.len(),
        })
    }

    /// Decimals the spread supports: down to the first significant digit of `max − min`; with
    /// no spread (one repeat, or equal values), three significant digits of the median.
    pub fn decimals(&self, scale: f64) -> usize {
        let spread = (self.max - self.min) / scale;
        let digits = if spread > 0.0 {
            -spread.log10().floor()
        } else {
            2.0 - (self.median.abs() / scale).max(1e-9).log10().floor()
        };
        digits.clamp(0.0, 3.0) as usize
    }

    /// The median in `unit`, rounded to what the spread supports.
    pub fn median_text(&self, unit: &Unit) -> String {
        if self.median == 0.0 && self.max == 0.0 {
            return "0".into();
        }
        format!("{:.*}", self.decimals(unit.scale), self.median / unit.scale)
    }

    /// `812 (798–830)`: the median and the range, rounded alike; the median alone for one repeat.
    pub fn with_range_text(&self, unit: &Unit) -> String {
        let d = self.decimals(unit.scale);
        match self.n {
            1 => format!("{:.d$}", self.median / unit.scale),
            _ => format!(
                "{:.d$} ({:.d$}–{:.d$})",
                self.median / unit.scale,
                self.min / unit.scale,
                self.max / unit.scale
            ),
        }
    }
}

/// A column's unit: its name and how many base units (ms, µs or bytes) it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    pub name: &'static str,
    pub scale: f64,
}

impl Unit {
    /// ms or s for figures in milliseconds, by the largest value.
    fn of_ms(largest: f64) -> Unit {
        if largest >= 10_000.0 { Unit { name: "s", scale: 1e3 } } else { Unit { name: "ms", scale: 1.0 } }
    }

    /// µs or ms for figures in microseconds.
    fn of_us(largest: f64) -> Unit {
        if largest >= 10_000.0 { Unit { name: "ms", scale: 1e3 } } else { Unit { name: "µs", scale: 1.0 } }
    }

    /// KiB, MiB or GiB.
    fn of_bytes(largest: f64) -> Unit {
        match largest {
            b if b >= 10.0 * (1u64 << 30) as f64 => Unit { name: "GiB", scale: (1u64 << 30) as f64 },
            b if b >= (1u64 << 20) as f64 => Unit { name: "MiB", scale: (1u64 << 20) as f64 },
            _ => Unit { name: "KiB", scale: 1024.0 },
        }
    }
}

/// One configuration's figures.
#[derive(Clone, Debug, Serialize)]
pub struct SummaryRow {
    /// Short label (`generational`, `generational threshold0=100`, `generational#2`).
    pub label: String,
    pub strategy: String,
    /// Strategy parameters in force; `(recording off)` appended for such cells.
    pub strategy_params: String,
    pub cells: usize,
    pub ok: usize,
    /// Statuses other than ok among the cells.
    pub problems: Vec<String>,
    pub wall_ms: Option<Stat>,
    pub mm_ms: Option<Stat>,
    pub mutator_ms: Option<Stat>,
    pub pauses: Option<Stat>,
    pub pause_p99_us: Option<Stat>,
    pub pause_max_us: Option<Stat>,
    pub collections: [Option<Stat>; 3],
    pub peak_rss_bytes: Option<Stat>,
    pub peak_reserved_bytes: Option<Stat>,
    pub leaked_bytes: Option<Stat>,
}

/// One workload configuration and its rows.
#[derive(Clone, Debug, Serialize)]
pub struct ProgramSummary {
    /// `trees smoke` and the workload parameters that differ between the run's programs.
    pub heading: String,
    pub workload: String,
    pub size: String,
    pub workload_params: String,
    pub rows: Vec<SummaryRow>,
}

/// The whole summary of a run folder's rows.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub programs: Vec<ProgramSummary>,
    /// `label = parameters` for labels that stand for more than they show.
    pub legend: Vec<String>,
    /// Warnings about the figures: a debug build, a busy machine.
    pub warnings: Vec<String>,
}

impl Summary {
    /// Groups `rows` into programs and configurations (in plan order), with the figures of
    /// each; `meta` adds the machine's warnings.
    pub fn of(rows: &[RunRow], meta: Option<&Meta>) -> Summary {
        let programs = group(rows);
        let mut legend = Vec::new();
        // One short name per long configuration label, the same in every program's table.
        let mut shortened: BTreeMap<String, String> = BTreeMap::new();
        let mut numbered: BTreeMap<String, usize> = BTreeMap::new();
        let differing_workload = differing(rows.iter().map(|r| r.setup.workload_params.as_str()));
        let programs = programs
            .into_iter()
            .map(|(_, configurations)| {
                let first = configurations[0].1[0];
                let shown = shown_params(&first.setup.workload_params, &differing_workload);
                let heading = format!("{} {}{}", first.key.workload, first.setup.size, prefixed(" ", &shown));
                let rows = configurations
                    .into_iter()
                    .map(|(_, members)| {
                        let row = members[0];
                        let same_strategy = rows.iter().filter(|r| r.key.strategy == row.key.strategy);
                        let keys = differing(same_strategy.map(|r| r.setup.strategy_params.as_str()));
                        let shown = shown_values(&row.setup.strategy_params, &keys);
                        if !keys.is_empty() {
                            let entry = format!(
                                "{} {} = {}",
                                row.key.strategy,
                                keys.iter().map(|_| "V").collect::<Vec<_>>().join("/"),
                                keys.iter().cloned().collect::<Vec<_>>().join("/")
                            );
                            if !legend.contains(&entry) {
                                legend.push(entry);
                            }
                        }
                        let recording = if row.setup.recording { "" } else { " (rec off)" };
                        let mut label = format!("{}{}{recording}", row.key.strategy, prefixed(" ", &shown));
                        if label.chars().count() > LABEL_WIDTH {
                            label = shortened
                                .entry(label)
                                .or_insert_with(|| {
                                    let n = numbered.entry(row.key.strategy.clone()).or_insert(0);
                                    *n += 1;
                                    let short = format!(
                                        "{}#{n}{}",
                                        row.key.strategy,
                                        if row.setup.recording { "" } else { "-off" }
                                    );
                                    legend.push(format!(
                                        "{short} = {} {}{recording}",
                                        row.key.strategy, row.setup.strategy_params
                                    ));
                                    short
                                })
                                .clone();
                        }
                        summary_row(label, &members)
                    })
                    .collect();
                ProgramSummary {
                    heading,
                    workload: first.key.workload.clone(),
                    size: first.setup.size.clone(),
                    workload_params: first.setup.workload_params.clone(),
                    rows,
                }
            })
            .collect();
        let mut warnings = Vec::new();
        if rows.iter().any(|r| system::checked_debug_assertions(&r.setup.build_profile)) {
            warnings.push(system::DEBUG_BUILD_WARNING.to_string());
        }
        warnings.extend(meta.and_then(|m| m.system.as_ref()).into_iter().flat_map(|s| s.warnings.iter().cloned()));
        Summary { programs, legend, warnings }
    }

    /// The summary as terminal text, at most [`WIDTH`] columns wide.
    pub fn text(&self) -> String {
        let all: Vec<&SummaryRow> = self.programs.iter().flat_map(|p| &p.rows).collect();
        let mut out = Vec::new();
        for (program, lines) in self.programs.iter().zip(self.lines()) {
            if self.programs.len() > 1 {
                out.push(format!("{}:", program.heading));
            }
            out.push(align_table(&lines));
        }
        let repeats: BTreeSet<usize> = all.iter().filter_map(|r| r.wall_ms.map(|s| s.n)).collect();
        let repeats: Vec<String> = repeats.iter().map(usize::to_string).collect();
        out.push(format!(
            "Medians over {} ok repeat(s), rounded to what the spread supports; terms: `harness --help`.",
            repeats.join("/")
        ));
        for row in all.iter().filter(|r| !r.problems.is_empty()) {
            out.push(format!(
                "{}: {} of {} cells {}",
                row.label,
                row.cells - row.ok,
                row.cells,
                row.problems.join(", ")
            ));
        }
        out.extend(self.legend.iter().map(|l| wrap(l, WIDTH)));
        out.extend(self.warnings.iter().map(|w| wrap(&format!("WARNING: {w}"), WIDTH)));
        out.join("\n")
    }
}

impl Summary {
    /// Per program, the header and the cells of each configuration, as every rendering shows
    /// them: units chosen over the whole run, figures rounded to their spread.
    pub fn lines(&self) -> Vec<Vec<Vec<String>>> {
        let all: Vec<&SummaryRow> = self.programs.iter().flat_map(|p| &p.rows).collect();
        let units = Units::of(&all);
        let any_problem = all.iter().any(|r| r.ok < r.cells);
        let mut header = vec!["configuration".to_string()];
        if any_problem {
            header.push("ok".into());
        }
        header.extend([
            format!("wall {} (min–max)", units.wall.name),
            format!("mm {}", units.mm.name),
            "pauses".into(),
            format!("p99 {}", units.pause.name),
            format!("max {}", units.pause.name),
            "gc 0/1/2".into(),
            format!("RSS {}", units.bytes.name),
            format!("reserved {}", units.bytes.name),
            format!("leaked {}", units.leaked.name),
        ]);
        let text = |stat: &Option<Stat>, unit: &Unit| stat.map_or("-".into(), |s| s.median_text(unit));
        let count = |stat: &Option<Stat>| stat.map_or("-".into(), |s| count_text(s.median));
        self.programs
            .iter()
            .map(|program| {
                let mut lines = vec![header.clone()];
                for row in &program.rows {
                    let mut line = vec![row.label.clone()];
                    if any_problem {
                        line.push(format!("{}/{}", row.ok, row.cells));
                    }
                    let collections = match row.collections {
                        [Some(a), Some(b), Some(c)] => {
                            format!("{}/{}/{}", count_text(a.median), count_text(b.median), count_text(c.median))
                        }
                        _ => "-".into(),
                    };
                    line.extend([
                        row.wall_ms.map_or("-".into(), |s| s.with_range_text(&units.wall)),
                        text(&row.mm_ms, &units.mm),
                        count(&row.pauses),
                        text(&row.pause_p99_us, &units.pause),
                        text(&row.pause_max_us, &units.pause),
                        collections,
                        text(&row.peak_rss_bytes, &units.bytes),
                        text(&row.peak_reserved_bytes, &units.bytes),
                        text(&row.leaked_bytes, &units.leaked),
                    ]);
                    lines.push(line);
                }
                lines
            })
            .collect()
    }

    /// The summary as export tables: one per program, the legend and warnings as notes.
    pub fn tables(&self) -> Vec<Table> {
        self.programs
            .iter()
            .zip(self.lines())
            .map(|(program, mut lines)| {
                let header = lines.remove(0);
                let mut notes = vec![
                    "Medians over the ok repeats (min–max over them), rounded to what the spread supports.".into(),
                ];
                notes.extend(self.legend.iter().cloned());
                notes.extend(self.warnings.iter().map(|w| format!("Warning: {w}")));
                Table { title: format!("Summary: {}", program.heading), header, rows: lines, notes }
            })
            .collect()
    }
}

/// A program's configurations, each keyed by [`configuration_key`], with their rows.
type Configurations<'r> = Vec<(String, Vec<&'r RunRow>)>;

/// The units of the summary's columns, chosen by the largest value of each.
struct Units {
    wall: Unit,
    mm: Unit,
    pause: Unit,
    bytes: Unit,
    leaked: Unit,
}

impl Units {
    fn of(rows: &[&SummaryRow]) -> Units {
        let largest = |f: &dyn Fn(&SummaryRow) -> Option<Stat>| {
            rows.iter().filter_map(|r| f(r)).map(|s| s.max).fold(0.0, f64::max)
        };
        Units {
            wall: Unit::of_ms(largest(&|r| r.wall_ms)),
            mm: Unit::of_ms(largest(&|r| r.mm_ms)),
            pause: Unit::of_us(largest(&|r| r.pause_max_us)),
            bytes: Unit::of_bytes(largest(&|r| r.peak_rss_bytes).max(largest(&|r| r.peak_reserved_bytes))),
            leaked: Unit::of_bytes(largest(&|r| r.leaked_bytes)),
        }
    }
}

/// `rows` grouped by program (workload, size, seed, workload parameters), then by
/// configuration, both in the order they first appear.
fn group(rows: &[RunRow]) -> Vec<(String, Configurations<'_>)> {
    let mut programs: Vec<(String, Configurations)> = Vec::new();
    for row in rows {
        let program_key =
            format!("{}\t{}\t{}\t{}", row.key.workload, row.setup.size, row.setup.seed, row.setup.workload_params);
        let index = programs.iter().position(|(k, _)| *k == program_key).unwrap_or_else(|| {
            programs.push((program_key, Vec::new()));
            programs.len() - 1
        });
        let configuration = configuration_key(row);
        let configurations = &mut programs[index].1;
        match configurations.iter_mut().find(|(k, _)| *k == configuration) {
            Some((_, members)) => members.push(row),
            None => configurations.push((configuration, vec![row])),
        }
    }
    programs
}

/// What tells a configuration apart within a program (repeats aside).
fn configuration_key(row: &RunRow) -> String {
    format!("{}\t{}\t{}", row.key.strategy, row.setup.strategy_params, row.setup.recording)
}

fn summary_row(label: String, rows: &[&RunRow]) -> SummaryRow {
    let first = rows[0];
    // Cells stopped at the heap cap have figures too (up to the stop); failed ones have none.
    let measured: Vec<&RunRow> = rows.iter().copied().filter(|r| r.time.wall_time_ms.is_some()).collect();
    let f = |get: fn(&RunRow) -> Option<f64>| Stat::of(measured.iter().filter_map(|r| get(r)));
    let u = |get: fn(&RunRow) -> Option<u64>| Stat::of(measured.iter().filter_map(|r| get(r).map(|v| v as f64)));
    let problems: BTreeSet<&str> =
        rows.iter().map(|r| r.outcome.status).filter(|s| *s != Status::Ok).map(Status::name).collect();
    SummaryRow {
        label,
        strategy: first.key.strategy.clone(),
        strategy_params: first.setup.strategy_params.clone()
            + if first.setup.recording { "" } else { " (recording off)" },
        cells: rows.len(),
        ok: rows.iter().filter(|r| r.outcome.status == Status::Ok).count(),
        problems: problems.into_iter().map(String::from).collect(),
        wall_ms: f(|r| r.time.wall_time_ms),
        mm_ms: f(|r| r.time.mm_time_ms),
        mutator_ms: f(|r| r.time.mutator_time_ms),
        pauses: u(|r| r.pauses.pause_count),
        pause_p99_us: f(|r| r.pauses.pause_p99_us),
        pause_max_us: f(|r| r.pauses.pause_max_us),
        collections: [
            u(|r| r.collections.collections_gen0),
            u(|r| r.collections.collections_gen1),
            u(|r| r.collections.collections_gen2),
        ],
        peak_rss_bytes: u(|r| r.memory.peak_rss_bytes),
        peak_reserved_bytes: u(|r| r.memory.peak_reserved_bytes),
        leaked_bytes: u(|r| r.memory.leaked_bytes),
    }
}

/// The parameter names whose value is not the same in every `key=value;…` list given.
fn differing<'r>(lists: impl Iterator<Item = &'r str>) -> BTreeSet<String> {
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for list in lists {
        for pair in list.split(';').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            values.entry(k.to_string()).or_default().insert(v.to_string());
        }
    }
    values.into_iter().filter(|(_, v)| v.len() > 1).map(|(k, _)| k).collect()
}

/// The values of the `key=value` pairs of `list` whose key is in `keys`, `/`-separated.
fn shown_values(list: &str, keys: &BTreeSet<String>) -> String {
    list.split(';')
        .filter_map(|pair| pair.split_once('=').filter(|(k, _)| keys.contains(*k)).map(|(_, v)| v))
        .collect::<Vec<_>>()
        .join("/")
}

/// A count, `123k` from 100,000 on.
fn count_text(n: f64) -> String {
    if n >= 100_000.0 { format!("{:.0}k", n / 1e3) } else { format!("{n:.0}") }
}

/// The `key=value` pairs of `list` whose key is in `keys`, space-separated.
fn shown_params(list: &str, keys: &BTreeSet<String>) -> String {
    list.split(';')
        .filter(|pair| pair.split_once('=').is_some_and(|(k, _)| keys.contains(k)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn prefixed(prefix: &str, text: &str) -> String {
    if text.is_empty() { String::new() } else { format!("{prefix}{text}") }
}

/// `text` broken at spaces into lines of at most `width` characters (a longer word stays whole).
pub fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(format!("    {word}"));
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

/// Lines of cells as a text table: the first column left-aligned, the others right-aligned.
pub fn align_table(lines: &[Vec<String>]) -> String {
    let columns = lines.first().map_or(0, Vec::len);
    let widths: Vec<usize> =
        (0..columns).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    lines
        .iter()
        .map(|line| {
            line.iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (cell, w))| if c == 0 { format!("{cell:<w$}") } else { format!("{cell:>w$}") })
                .collect::<Vec<_>>()
                .join("  ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The summary as printed at the end of a run: the table, then what recording cost.
pub fn print(rows: &[RunRow], meta: Option<&Meta>) {
    println!("\n{}", Summary::of(rows, meta).text());
    for overhead in recording_overheads(rows) {
        println!(
            "recording overhead, {}: {:+.1}% wall time by minimum, {:+.1}% by median (recording on vs off)",
            overhead.configuration,
            overhead.by_minimum * 100.0,
            overhead.by_median * 100.0
        );
    }
}

/// For prefork cells: per cell, the mean over workers of the shared bytes after the fork, after
/// serving and after the explicit collection, and of the private bytes after serving, in MiB
/// (`cow.csv`'s `fork` and `collected` samples; the served means are runs.csv's). Empty without
/// prefork cells.
pub fn cow_table(rows: &[RunRow], cow: &[CowRow]) -> String {
    use strategies::CowPhase;
    let mib = |bytes: f64| bytes / (1024.0 * 1024.0);
    let mean = |cell: usize, phase: CowPhase, figure: fn(&strategies::CowSample) -> u64| {
        let values: Vec<u64> =
            cow.iter().filter(|c| c.key.cell == cell && c.phase == phase).map(|c| figure(&c.record)).collect();
        (!values.is_empty()).then(|| mib(values.iter().sum::<u64>() as f64 / values.len() as f64))
    };
    // The workload parameters that differ between rows (`touch=true`), to tell lines apart.
    let differing = |row: &RunRow| -> String {
        let varies = |pair: &&str| !rows.iter().all(|r| r.setup.workload_params.split(';').any(|p| p == *pair));
        row.setup.workload_params.split(';').filter(varies).collect::<Vec<_>>().join(";")
    };
    let mut lines = Vec::new();
    for row in rows {
        let shared = |phase| mean(row.key.cell, phase, |c| c.shared_bytes);
        let (Some(fork), Some(served), Some(collected)) = (
            shared(CowPhase::Fork),
            row.cow.shared_after_serving_bytes.map(|b| mib(b as f64)),
            shared(CowPhase::Collected),
        ) else {
            continue;
        };
        let private = mib(row.cow.private_after_serving_bytes.unwrap_or(0) as f64);
        let mut label = results::configuration(row);
        let differs = differing(row);
        if !differs.is_empty() {
            label = format!("{label} {{{differs}}}");
        }
        lines.push(format!(
            "{label}  repeat {}: shared {fork:.1} -> {served:.1} MiB after serving, {collected:.1} MiB after a full collection; private {private:.1} MiB after serving",
            row.key.repeat
        ));
    }
    if lines.is_empty() {
        return String::new();
    }
    format!("copy-on-write, mean per worker (cow.csv):\n  {}", lines.join("\n  "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{CellKey, CellSetup, Collections, MemoryFigures, PauseFigures, Times};

    fn row(cell: usize, strategy: &str, strategy_params: &str, workload_params: &str, wall: f64) -> RunRow {
        RunRow {
            key: CellKey {
                cell,
                workload: "cycles".into(),
                strategy: strategy.into(),
                repeat: 1 + (cell % 3) as u32,
                ..CellKey::default()
            },
            setup: CellSetup {
                size: "default".into(),
                recording: true,
                build_profile: "release".into(),
                workload_params: workload_params.into(),
                strategy_params: strategy_params.into(),
                ..CellSetup::default()
            },
            time: Times {
                wall_time_ms: Some(wall),
                mm_time_ms: Some(wall / 3.0),
                mutator_time_ms: Some(wall * 2.0 / 3.0),
            },
            pauses: PauseFigures {
                pause_count: Some(123_456),
                pause_p99_us: Some(650.0),
                pause_max_us: Some(2_220_000.0),
                ..PauseFigures::default()
            },
            memory: MemoryFigures {
                peak_rss_bytes: Some(1_234_567_890),
                peak_reserved_bytes: Some(1_134_567_890),
                leaked_bytes: Some(85_000_000),
                ..MemoryFigures::default()
            },
            collections: Collections {
                collections_gen0: Some(123_456),
                collections_gen1: Some(12_345),
                collections_gen2: Some(1_234),
            },
            ..RunRow::default()
        }
    }

    /// A sweep like `thresholds`: long strategy parameters, several workload configurations,
    /// every figure at its widest. Its lines were 313 characters.
    #[test]
    fn the_summary_of_a_wide_sweep_fits_in_120_columns() {
        let mut rows = Vec::new();
        for rings in ["rings=10;ring-size=2;survive=0.5", "rings=100000;ring-size=21;survive=0.25"] {
            for threshold in ["100", "700", "10000"] {
                for repeat in 0..3 {
                    let params =
                        format!("threshold0={threshold};threshold1=10;threshold2=10;back-edges=strong;freeze=false");
                    rows.push(row(rows.len(), "generational", &params, rings, 123_456.7 + f64::from(repeat) * 1234.5));
                }
            }
            rows.push(row(rows.len(), "refcount", "back-edges=strong", rings, 99_999.9));
        }
        let summary = Summary::of(&rows, None);
        let text = summary.text();
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "{} columns: {line}\n{text}", line.chars().count());
        }
        assert!(text.contains("generational 10000 "), "the differing parameter's value is in the label:\n{text}");
        assert!(text.contains("generational V = threshold0"), "the legend names it:\n{text}");
        assert!(!text.contains("back-edges"), "parameters every configuration shares are left out:\n{text}");
        assert!(text.contains("cycles default rings=10 ring-size=2 survive=0.5:"), "{text}");
        for unit in ["wall s (min–max)", "mm s", "max ms", "RSS MiB", "reserved MiB", "leaked MiB"] {
            assert!(text.contains(unit), "{unit} in the headers:\n{text}");
        }
    }

    #[test]
    fn long_labels_get_a_legend() {
        let params = |t: &str| format!("threshold0={t};threshold1=1{t};threshold2=2{t}");
        let rows: Vec<RunRow> =
            ["100", "700"].iter().enumerate().map(|(i, t)| row(i, "generational", &params(t), "", 10.0)).collect();
        let text = Summary::of(&rows, None).text();
        assert!(
            text.contains("generational#1 = generational threshold0=100;threshold1=1100;threshold2=2100"),
            "{text}"
        );
    }

    #[test]
    fn figures_are_rounded_to_what_their_spread_supports() {
        let ms = Unit { name: "ms", scale: 1.0 };
        let wide = Stat::of([798.14, 812.33, 830.2]).unwrap();
        assert_eq!(wide.with_range_text(&ms), "812 (798–830)");
        let narrow = Stat::of([812.31, 812.33, 812.52]).unwrap();
        assert_eq!(narrow.with_range_text(&ms), "812.3 (812.3–812.5)");
        let single = Stat::of([812.33]).unwrap();
        assert_eq!(single.with_range_text(&ms), "812", "three significant digits without a spread");
        assert_eq!(Stat::of([0.0, 0.0]).unwrap().median_text(&ms), "0");
    }

    /// The profiles `system::build_profile` writes: the two with debug assertions are warned
    /// about (the check once looked for `debug`, which no row has).
    #[test]
    fn a_debug_build_is_warned_about() {
        let warned = |profile: &str| {
            let mut row = row(0, "refcount", "", "", 1.0);
            row.setup.build_profile = profile.into();
            Summary::of(&[row], None).text().contains("WARNING: this harness was built with debug assertions")
        };
        assert!(warned("dev+debug-assertions"));
        assert!(warned("release+debug-assertions"));
        assert!(!warned("release"));
        assert!(!warned("dev"));
        assert_eq!(warned(system::build_profile()), system::debug_assertions(), "this build's own profile");
    }
}
