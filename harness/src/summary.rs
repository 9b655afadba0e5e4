//! The summary printed after a run, a merge or a resume: one line per configuration, medians
//! over the repeats, and what recording costs where it ran both ways.

use std::collections::{BTreeMap, BTreeSet};

use crate::results::{RunRow, Status, configuration, format_bytes, format_duration_us, median};

/// What recording costs, per configuration that ran both ways (`--recording both`): wall time
/// with recording on over wall time with it off, minus one, by medians and by minimums (the
/// minimum is the figure least disturbed by a busy machine).
pub fn recording_overheads(rows: &[RunRow]) -> Vec<RecordingOverhead> {
    let mut walls: BTreeMap<(String, String, String), [Vec<f64>; 2]> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.status == Status::Ok) {
        let key =
            (row.workload.clone(), row.workload_params.clone(), format!("{} [{}]", row.strategy, row.strategy_params));
        walls.entry(key).or_default()[row.recording as usize].extend(row.wall_time_ms);
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

/// The summary table printed after a run: one line per configuration (workload parameters,
/// strategy and its parameters), medians over the repeats, and the wall-time range when a
/// configuration ran more than once.
pub fn summary_table(rows: &[RunRow]) -> String {
    let mut groups: BTreeMap<(usize, String), Vec<&RunRow>> = BTreeMap::new();
    let mut first_cell: BTreeMap<String, usize> = BTreeMap::new();
    let several_workloads = rows.iter().map(|r| (&r.workload, &r.workload_params)).collect::<BTreeSet<_>>().len() > 1;
    for row in rows {
        let mut label = configuration(row);
        if several_workloads {
            label = format!("{} {{{}}} {label}", row.workload, row.workload_params);
        }
        let first = *first_cell.entry(label.clone()).or_insert(row.cell);
        groups.entry((first, label)).or_default().push(row);
    }
    let header = [
        "configuration",
        "ok",
        "wall (median)",
        "range",
        "mm time",
        "pauses",
        "p50",
        "p99",
        "max",
        "collections 0/1/2",
        "peak RSS",
        "leaked",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for ((_, label), rows) in groups {
        let ok = rows.iter().filter(|r| r.status == Status::Ok).count();
        // Cells stopped at the heap cap have figures too (up to the stop); failed ones have none.
        let measured: Vec<&RunRow> = rows.iter().copied().filter(|r| r.wall_time_ms.is_some()).collect();
        let median_f = |f: fn(&RunRow) -> Option<f64>| median(measured.iter().filter_map(|r| f(r)).collect());
        let median_u =
            |f: fn(&RunRow) -> Option<u64>| median(measured.iter().filter_map(|r| f(r).map(|v| v as f64)).collect());
        let ms = |v: Option<f64>| v.map_or("-".into(), |ms| format_duration_us(ms * 1e3));
        let us = |v: Option<f64>| v.map_or("-".into(), format_duration_us);
        let bytes = |v: Option<f64>| v.map_or("-".into(), |b| format_bytes(b as u64));
        let walls: Vec<f64> = measured.iter().filter_map(|r| r.wall_time_ms).collect();
        let range = match (walls.iter().copied().reduce(f64::min), walls.iter().copied().reduce(f64::max)) {
            (Some(lo), Some(hi)) if walls.len() > 1 => format!("{}–{}", ms(Some(lo)), ms(Some(hi))),
            _ => String::new(),
        };
        let statuses: BTreeSet<&str> =
            rows.iter().map(|r| r.status).filter(|s| *s != Status::Ok).map(Status::name).collect();
        let mut ok_text = format!("{ok}/{}", rows.len());
        if !statuses.is_empty() {
            ok_text += &format!(" ({})", statuses.into_iter().collect::<Vec<_>>().join(", "));
        }
        let collections = match (
            median_u(|r| r.collections_gen0),
            median_u(|r| r.collections_gen1),
            median_u(|r| r.collections_gen2),
        ) {
            (Some(a), Some(b), Some(c)) => format!("{a:.0}/{b:.0}/{c:.0}"),
            _ => "-".into(),
        };
        let leaked = match (median_u(|r| r.leaked_objects), median_u(|r| r.leaked_bytes)) {
            (Some(objects), Some(b)) => format!("{objects:.0} obj / {}", format_bytes(b as u64)),
            _ => "-".into(),
        };
        lines.push(vec![
            label,
            ok_text,
            ms(median_f(|r| r.wall_time_ms)),
            range,
            ms(median_f(|r| r.mm_time_ms)),
            median_u(|r| r.pause_count).map_or("-".into(), |n| format!("{n:.0}")),
            us(median_f(|r| r.pause_p50_us)),
            us(median_f(|r| r.pause_p99_us)),
            us(median_f(|r| r.pause_max_us)),
            collections,
            bytes(median_u(|r| r.peak_rss_bytes)),
            leaked,
        ]);
    }
    align_table(&lines)
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
pub fn print(rows: &[RunRow]) {
    println!("\n{}", summary_table(rows));
    for overhead in recording_overheads(rows) {
        println!(
            "recording overhead, {}: {:+.1}% wall time by minimum, {:+.1}% by median (recording on vs off)",
            overhead.configuration,
            overhead.by_minimum * 100.0,
            overhead.by_median * 100.0
        );
    }
}
