//! The report of a run folder: charts in `charts/` (SVG and PNG) and `report.html`, the page a
//! person opens first. It reads only the run folder's files (`runs.csv`, `pauses.csv`,
//! `memory.csv` when present, `meta.json`), so it can be drawn again at any time, on any
//! machine, with `harness report RUN_DIR`.
//!
//! Reading and grouping is [`data`], the lower bounds of the overhead table [`overhead`],
//! minimum mutator utilisation [`mmu`], lines that would hide each other [`series`], the charts
//! [`charts`] (over [`axis`]), the page [`html`]:
//!
//! ```text
//! write_report(folder)
//!   RunFolder::load        rows of every file; a missing optional file becomes a note
//!   Analysis::of           programs -> configurations -> repeats; swept parameters
//!   charts::draw_all       summary bars, time against peak memory, pause CDF and timeline,
//!                          MMU curves, memory, sweeps -> charts/
//!   html::page             index, notes, sweeps, then per workload configuration its tables
//!                          and charts (inline or linked), metadata -> report.html
//! ```

mod axis;
mod charts;
mod data;
mod html;
mod mmu;
mod overhead;
mod series;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use data::{Analysis, RunFolder};

use crate::export::{Table, significant};

/// What [`write_report`] wrote.
#[derive(Debug)]
pub struct ReportSummary {
    /// `RUN_DIR/report.html`.
    pub report: PathBuf,
    /// Every chart file written (SVG and PNG) in `RUN_DIR/charts/`.
    pub charts: Vec<PathBuf>,
    /// What the report left out and why (a missing `memory.csv`, a program without pauses).
    pub notes: Vec<String>,
}

/// Draws every chart of the run folder into `run_folder/charts/` as SVG and PNG and writes
/// `run_folder/report.html`. Charts from an earlier report of the folder are replaced. A report
/// is whole or absent: on any failure (a full disk) the charts written so far and the page are
/// removed, so no empty PNG or page without its charts is left behind.
pub fn write_report(run_folder: &Path) -> Result<ReportSummary> {
    let folder = RunFolder::load(run_folder)?;
    let chart_dir = run_folder.join("charts");
    let report = run_folder.join("report.html");
    let written = draw_and_write(&folder, &chart_dir, &report);
    if written.is_err() {
        let _ = remove_old_charts(&chart_dir);
        let _ = fs::remove_file(&report);
    }
    written
}

fn draw_and_write(folder: &RunFolder, chart_dir: &Path, report: &Path) -> Result<ReportSummary> {
    let analysis = Analysis::of(folder);
    remove_old_charts(chart_dir)?;
    let (charts, chart_notes) = charts::draw_all(&analysis, chart_dir)?;
    let notes: Vec<String> = folder.problems.iter().cloned().chain(chart_notes).collect();
    let page = html::page(&analysis, &charts, &notes, chart_dir)?;
    fs::write(report, page).with_context(|| format!("writing {}", report.display()))?;
    let charts = charts
        .iter()
        .flat_map(|c| ["svg", "png"].map(|extension| chart_dir.join(format!("{}.{extension}", c.stem))))
        .collect();
    Ok(ReportSummary { report: report.to_path_buf(), charts, notes })
}

/// The overhead table of each program of a run folder, for `--export`: the figures and their
/// ratios to the LBO bounds, the bounds and anything shown as the bound in notes.
pub fn overhead_tables(run_folder: &Path) -> Result<Vec<Table>> {
    let folder = RunFolder::load(run_folder)?;
    let analysis = Analysis::of(&folder);
    let ratio = |r: Option<f64>| r.map_or("-".into(), |r| format!("{r:.2}×"));
    let mib = |v: Option<f64>| v.map_or("-".into(), |b| significant(b / f64::from(1u32 << 20)));
    Ok(analysis
        .programs
        .iter()
        .map(|program| {
            let table = overhead::overhead_table(&analysis, program);
            let bound = |what: &str, b: &Option<overhead::Baseline>, unit: &str, scale: f64| match b {
                Some(b) => format!("{what} bound: {} = {} {unit}", b.basis, significant(b.value / scale)),
                None => format!("{what} bound: none (no ok cell)"),
            };
            let mut notes = vec![
                bound("Time", &table.time_baseline, "ms", 1.0),
                bound("Heap", &table.heap_baseline, "MiB", f64::from(1u32 << 20)),
                bound("RSS", &table.rss_baseline, "MiB", f64::from(1u32 << 20)),
                "Medians over ok repeats; LBO method (Cai et al., ISPASS 2022); 1.00× is the bound.".into(),
            ];
            notes.extend(table.below_bound.iter().cloned());
            Table {
                title: format!("LBO overhead: {}", program.label),
                header: ["configuration", "wall ms", "time", "reserved MiB", "heap", "RSS MiB", "RSS"]
                    .map(String::from)
                    .to_vec(),
                rows: table
                    .rows
                    .iter()
                    .map(|row| {
                        vec![
                            row.configuration.label.clone(),
                            row.wall_ms.map_or("-".into(), significant),
                            ratio(row.time),
                            mib(row.heap_bytes),
                            ratio(row.heap),
                            mib(row.rss_bytes),
                            ratio(row.rss),
                        ]
                    })
                    .collect(),
                notes,
            }
        })
        .collect())
}

/// Removes the SVG and PNG files of an earlier report, so that none outlives its data.
fn remove_old_charts(chart_dir: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(chart_dir) else { return Ok(()) };
    for entry in entries {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "svg" || e == "png") {
            fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Reports of fixture run folders written here: a plain run, a run with memory samples and
    //! `nogc`, an experiment sweeping a parameter.

    use std::path::Path;

    use plotters::prelude::*;
    use serde_json::json;
    use tempfile::TempDir;

    use super::charts::register_embedded_font;
    use super::data::{Analysis, RunFolder};
    use super::overhead::overhead_table;
    use super::*;
    use crate::results::{
        CellKey, CellSetup, Collections, CowFigures, MemoryFigures, Outcome, PauseFigures, PauseRow, RequestFigures,
        RunRow, Status, Times, write_csv,
    };

    /// One cell of a fixture run.
    struct FixtureCell {
        strategy: &'static str,
        given: Vec<(&'static str, &'static str)>,
        repeat: u32,
        status: Status,
        wall_ms: f64,
        /// Pause durations, ns; they start evenly over the wall time.
        pauses_ns: Vec<u64>,
        peak_rss: u64,
        leaked_bytes: u64,
    }

    fn cell(strategy: &'static str, repeat: u32, wall_ms: f64, pauses_ns: Vec<u64>) -> FixtureCell {
        FixtureCell {
            strategy,
            given: Vec::new(),
            repeat,
            status: Status::Ok,
            wall_ms,
            pauses_ns,
            peak_rss: 9_000_000 + repeat as u64 * 100_000,
            leaked_bytes: if strategy == "refcount" { 85_000_000 } else { 0 },
        }
    }

    /// Pause durations from 5 µs to about 20 ms, as a collector's are.
    fn spread_pauses(count: u32) -> Vec<u64> {
        (0..count).map(|i| (5_000.0 * 4000f64.powf(f64::from(i) / f64::from(count))) as u64).collect()
    }

    /// The `runs.csv` row of fixture cell `id`.
    fn fixture_row(run_id: &str, id: usize, c: &FixtureCell) -> RunRow {
        let ok = c.status == Status::Ok;
        let params: Vec<String> = c.given.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mm_ms = c.pauses_ns.iter().sum::<u64>() as f64 / 1e6;
        let some_if_ok = |v: f64| ok.then_some(v);
        let key = CellKey {
            run_id: run_id.into(),
            cell: id,
            workload: "cycles".into(),
            strategy: c.strategy.into(),
            repeat: c.repeat,
        };
        RunRow {
            key: key.clone(),
            setup: CellSetup {
                size: "smoke".into(),
                seed: 7,
                recording: true,
                allocator: "pymalloc/jemalloc".into(),
                build_profile: "release".into(),
                workload_params: "rings=10".into(),
                strategy_params: params.join(";"),
            },
            outcome: Outcome {
                status: c.status,
                checksum: ok.then(|| "abc".into()),
                error: (!ok).then(|| "thread 'main' panicked".into()),
            },
            time: Times {
                wall_time_ms: some_if_ok(c.wall_ms),
                mm_time_ms: some_if_ok(mm_ms),
                mutator_time_ms: some_if_ok(c.wall_ms - mm_ms),
            },
            pauses: PauseFigures {
                pause_count: ok.then_some(c.pauses_ns.len() as u64),
                pause_p50_us: c.pauses_ns.get(c.pauses_ns.len() / 2).map(|ns| *ns as f64 / 1e3),
                pause_p99_us: c.pauses_ns.last().map(|ns| *ns as f64 / 1e3),
                pause_max_us: c.pauses_ns.last().map(|ns| *ns as f64 / 1e3),
            },
            requests: RequestFigures { requests: Some(0), ..RequestFigures::default() },
            memory: MemoryFigures {
                peak_rss_bytes: ok.then_some(c.peak_rss),
                peak_reserved_bytes: ok.then_some(c.peak_rss / 3),
                leaked_objects: ok.then_some(c.leaked_bytes / 48),
                leaked_bytes: ok.then_some(c.leaked_bytes),
                immortal_objects: ok.then_some(0),
                immortal_bytes: ok.then_some(0),
            },
            collections: Collections {
                collections_gen0: Some(c.pauses_ns.len() as u64),
                collections_gen1: Some(0),
                collections_gen2: Some(0),
            },
            cow: CowFigures::default(),
        }
    }

    fn write_fixture(dir: &Path, experiment: &str, cells: &[FixtureCell], with_memory: bool) {
        let run_id = "20261122-120000-fixture";
        let mut runs = Vec::new();
        let mut pauses = Vec::new();
        let mut memory = String::from(
            "run_id,cell,workload,strategy,repeat,trigger,time_ns,allocations,live_objects,live_bytes,\
             allocator_in_use_bytes,allocator_reserved_bytes,arenas,rss_bytes,requests_done,retained_bytes\n",
        );
        let mut specs = Vec::new();
        for (id, c) in cells.iter().enumerate() {
            let row = fixture_row(run_id, id, c);
            let key = row.key.clone();
            runs.push(row);
            let step = c.wall_ms * 1e6 / (c.pauses_ns.len() as f64 + 1.0);
            for (i, duration) in c.pauses_ns.iter().enumerate() {
                pauses.push(PauseRow {
                    key: key.clone(),
                    record: strategies::Pause {
                        kind: if i % 10 == 9 {
                            strategies::PauseKind::Cascade
                        } else {
                            strategies::PauseKind::Collection
                        },
                        generation: (i % 10 != 9).then_some((i % 3) as u8),
                        start_ns: (step * (i as f64 + 1.0)) as u64,
                        duration_ns: *duration,
                        objects: 700,
                        collected: 600,
                        uncollectable: 0,
                    },
                });
            }
            for sample in 0..=20u64 {
                let allocations = sample * 50_000;
                let live = if c.strategy == "nogc" { 1_000 + allocations * 64 } else { 1_000 + (sample % 5) * 400_000 };
                memory += &format!(
                    "{run_id},{id},cycles,{},{},interval,{},{allocations},{},{live},{live},{},{},{},0,0\n",
                    c.strategy,
                    c.repeat,
                    sample * 1_000_000,
                    live / 64,
                    live * 2,
                    live / 1_000_000 + 1,
                    5_000_000 + live * 2
                );
            }
            let strategy_params: serde_json::Map<String, serde_json::Value> =
                c.given.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
            specs.push(json!({"id": id, "spec": {
                "workload": "cycles", "size": "smoke", "seed": 7, "workload_params": {},
                "strategy": c.strategy, "strategy_params": strategy_params, "allocator": "pymalloc",
                "backend": "jemalloc", "cascade_threshold": 1000, "repeat": c.repeat, "max_heap_bytes": 1u64 << 33
            }}));
        }
        write_csv(&dir.join("runs.csv"), &runs).unwrap();
        write_csv(&dir.join("pauses.csv"), &pauses).unwrap();
        if with_memory {
            std::fs::write(dir.join("memory.csv"), memory).unwrap();
        }
        let meta = json!({
            "run_id": run_id, "created_utc": "2026-11-22T12:00:00Z", "harness_version": "0.1.0",
            "git_commit": "0123abc", "rustc": "rustc 1.95.0", "cpu_model": "test", "cpus": 2, "kernel": "6",
            "hostname": "vm", "command_line": ["harness", "<script>"], "seed": 7, "experiment": experiment,
            "plan_cells": cells.len(), "plan_digest": "d", "shard": null, "merged_from": [], "timeout_s": 60.0,
            "reproduces": (experiment != "adhoc").then_some("the fixture's claim"),
            "cells": specs
        });
        std::fs::write(dir.join("meta.json"), serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    }

    fn plain_run() -> Vec<FixtureCell> {
        vec![
            cell("refcount", 1, 300.0, Vec::new()),
            cell("refcount", 2, 320.0, Vec::new()),
            cell("generational", 1, 800.0, spread_pauses(300)),
            cell("generational", 2, 760.0, spread_pauses(280)),
            cell("manual", 1, 370.0, vec![438_000_000]),
            FixtureCell { status: Status::Failed, ..cell("manual", 2, 0.0, Vec::new()) },
        ]
    }

    fn chart_stems(summary: &ReportSummary) -> Vec<String> {
        summary
            .charts
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_plain_run_gets_every_chart_and_a_note_for_the_missing_memory_samples() {
        let dir = TempDir::new().unwrap();
        write_fixture(dir.path(), "adhoc", &plain_run(), false);
        let summary = write_report(dir.path()).unwrap();

        let stems = chart_stems(&summary);
        assert_eq!(
            stems,
            [
                "summary-cycles-smoke",
                "tradeoff-cycles-smoke",
                "pause-cdf-cycles-smoke",
                "pause-timeline-cycles-smoke",
                "mmu-cycles-smoke"
            ]
        );
        for path in &summary.charts {
            assert!(std::fs::metadata(path).unwrap().len() > 1000, "{} is written", path.display());
        }
        assert!(
            summary.notes.iter().any(|n| n.starts_with("memory.csv is not in this run folder")),
            "{:?}",
            summary.notes
        );

        let html = std::fs::read_to_string(&summary.report).unwrap();
        assert_eq!(html.matches("<img class=\"chart\" src=\"data:image/png;base64,").count(), 5);
        assert!(html.contains("1 cell did not end ok"), "the failed cell is reported");
        assert!(html.contains("the memory-over-time charts are skipped"));
        assert!(
            html.contains("distilled mutator time (generational)"),
            "generational's wall time minus its memory management is the smallest"
        );
        assert!(html.contains("harness &lt;script&gt;"), "metadata is escaped");
        assert!(html.contains("<th>MMU 1.00 ms</th>"), "the MMU table");
        assert!(html.contains("<td>manual</td><td>1</td><td>0.0%</td>"), "a 438 ms pause: MMU 0 up to 100 ms");
        assert!(!html.contains("<script"), "the page has no script");
    }

    /// Figures from a build whose measured crates checked debug assertions mislead: the page
    /// says so first (`runs.csv` names such a build `dev+debug-assertions`, never `debug`).
    #[test]
    fn a_debug_assertions_build_is_flagged_on_the_page() {
        let dir = TempDir::new().unwrap();
        write_fixture(dir.path(), "adhoc", &plain_run(), false);
        let html = std::fs::read_to_string(write_report(dir.path()).unwrap().report).unwrap();
        assert!(!html.contains("<b>Debug build</b>"), "a release build is not flagged");
        let runs = dir.path().join("runs.csv");
        let text = std::fs::read_to_string(&runs).unwrap();
        std::fs::write(&runs, text.replace(",release,", ",dev+debug-assertions,")).unwrap();
        let html = std::fs::read_to_string(write_report(dir.path()).unwrap().report).unwrap();
        assert!(html.contains("<b>Debug build</b>"), "a dev+debug-assertions build is flagged");
    }

    #[test]
    fn a_run_whose_cells_all_failed_still_gets_a_report() {
        let dir = TempDir::new().unwrap();
        let failed = |strategy| FixtureCell { status: Status::Failed, ..cell(strategy, 1, 0.0, Vec::new()) };
        write_fixture(dir.path(), "adhoc", &[failed("refcount"), failed("generational")], false);
        let summary = write_report(dir.path()).unwrap();
        assert_eq!(chart_stems(&summary), ["summary-cycles-smoke"]);
        let html = std::fs::read_to_string(&summary.report).unwrap();
        assert!(html.contains("2 cells did not end ok"));
        assert!(html.contains("generational (no ok repeat)") || html.contains("0/1"));
    }

    #[test]
    fn a_second_report_replaces_the_charts_of_the_first() {
        let dir = TempDir::new().unwrap();
        write_fixture(dir.path(), "adhoc", &plain_run(), false);
        write_report(dir.path()).unwrap();
        std::fs::write(dir.path().join("memory.csv"), "").unwrap();
        write_fixture(dir.path(), "adhoc", &plain_run(), true);
        let summary = write_report(dir.path()).unwrap();
        let on_disk = std::fs::read_dir(dir.path().join("charts")).unwrap().count();
        assert_eq!(on_disk, summary.charts.len(), "no chart outlives its report");
        assert!(chart_stems(&summary).contains(&"memory-cycles-smoke".to_string()));
    }

    #[test]
    fn memory_samples_add_the_memory_chart_and_nogc_sets_the_time_bound() {
        let dir = TempDir::new().unwrap();
        let mut cells = plain_run();
        cells.push(cell("nogc", 1, 50.0, Vec::new()));
        write_fixture(dir.path(), "adhoc", &cells, true);
        let summary = write_report(dir.path()).unwrap();
        assert!(chart_stems(&summary).contains(&"memory-cycles-smoke".to_string()));
        assert!(summary.notes.iter().all(|n| !n.contains("memory.csv")), "{:?}", summary.notes);

        let folder = RunFolder::load(dir.path()).unwrap();
        let analysis = Analysis::of(&folder);
        let table = overhead_table(&analysis, &analysis.programs[0]);
        let time = table.time_baseline.unwrap();
        assert_eq!((time.value, time.basis.as_str()), (50.0, "nogc"), "nogc's wall time is the lowest mutator time");
        let heap = table.heap_baseline.unwrap();
        assert_eq!(heap.value, 1_601_000.0, "the smallest peak of sampled live bytes");
        assert!(heap.basis.starts_with("smallest peak live bytes"), "{}", heap.basis);
        let generational = table.rows.iter().find(|r| r.configuration.strategy == "generational").unwrap();
        assert_eq!(generational.time, Some(780.0 / 50.0), "median wall over nogc's");
    }

    /// Generational spends 700 ms of its 800 in collections: its mutator time is the bound.
    fn collector_heavy_run(nogc_wall_ms: f64) -> Vec<FixtureCell> {
        let heavy = |repeat| FixtureCell {
            peak_rss: 30_000_000,
            ..cell("generational", repeat, 800.0 + f64::from(repeat), vec![350_000_000, 350_000_000])
        };
        vec![
            cell("refcount", 1, 300.0, Vec::new()),
            cell("refcount", 2, 310.0, Vec::new()),
            heavy(1),
            heavy(2),
            cell("nogc", 1, nogc_wall_ms, Vec::new()),
        ]
    }

    /// DESIGN §12: nogc loses its blocks to page faults and can be the slowest. The bound is then
    /// the distilled mutator time, and no configuration is faster than the bound.
    #[test]
    fn the_time_bound_is_the_distilled_mutator_time_when_nogc_is_the_slowest() {
        let dir = TempDir::new().unwrap();
        write_fixture(dir.path(), "adhoc", &collector_heavy_run(2_000.0), true);
        let folder = RunFolder::load(dir.path()).unwrap();
        let analysis = Analysis::of(&folder);
        let table = overhead_table(&analysis, &analysis.programs[0]);
        let time = table.time_baseline.as_ref().unwrap();
        assert_eq!(time.basis, "distilled mutator time (generational)");
        assert!((time.value - 101.5).abs() < 1e-9, "median of 801 and 802 ms minus 700 ms: {}", time.value);
        for row in &table.rows {
            let ratio = row.time.unwrap();
            assert!(ratio >= 1.0, "{}: {ratio}", row.configuration.label);
        }
        let nogc = table.rows.iter().find(|r| r.configuration.is_nogc()).unwrap();
        assert!((nogc.time.unwrap() - 2_000.0 / 101.5).abs() < 1e-9);
        assert!(table.below_bound.is_empty(), "{:?}", table.below_bound);

        let html = std::fs::read_to_string(write_report(dir.path()).unwrap().report).unwrap();
        let overhead = &html[html.find("id=\"program-cycles-smoke-overhead\"").unwrap()..];
        let overhead = &overhead[..overhead.find("</table>").unwrap()];
        assert!(!overhead.contains("<td>0."), "no overhead below 1.00×:\n{overhead}");
    }

    /// A heap figure below its bound (the bound is another configuration's median) is shown as
    /// 1.00×, and the table says why.
    #[test]
    fn a_ratio_measured_below_its_bound_shows_as_one_with_the_reason() {
        let dir = TempDir::new().unwrap();
        let mut cells = collector_heavy_run(250.0);
        cells[0].peak_rss = 3_000_000;
        cells[1].peak_rss = 3_000_000;
        write_fixture(dir.path(), "adhoc", &cells, true);
        let folder = RunFolder::load(dir.path()).unwrap();
        let analysis = Analysis::of(&folder);
        let table = overhead_table(&analysis, &analysis.programs[0]);
        let refcount = table.rows.iter().find(|r| r.configuration.strategy == "refcount").unwrap();
        assert_eq!(refcount.heap, Some(1.0), "1 MB reserved against 1.6 MB live is shown as the bound");
        assert_eq!(table.below_bound.len(), 1, "{:?}", table.below_bound);
        assert!(table.below_bound[0].starts_with("refcount: heap measured 0.6"), "{}", table.below_bound[0]);
        let html = std::fs::read_to_string(write_report(dir.path()).unwrap().report).unwrap();
        assert!(html.contains("refcount: heap measured 0.6"));
    }

    /// An empty `rss_bytes` (statm unreadable in a child) used to make the whole memory.csv
    /// unreadable, and every memory chart vanished without a word.
    #[test]
    fn a_sample_without_rss_keeps_the_memory_charts() {
        let dir = TempDir::new().unwrap();
        write_fixture(dir.path(), "adhoc", &plain_run(), true);
        let memory = std::fs::read_to_string(dir.path().join("memory.csv")).unwrap();
        let mut lines: Vec<String> = memory.lines().map(String::from).collect();
        let mut fields: Vec<&str> = lines[1].split(',').collect();
        fields[13] = "";
        lines[1] = fields.join(",");
        std::fs::write(dir.path().join("memory.csv"), lines.join("\n") + "\n").unwrap();
        let summary = write_report(dir.path()).unwrap();
        assert!(chart_stems(&summary).contains(&"memory-cycles-smoke".to_string()));
        assert!(summary.notes.iter().any(|n| n.contains("1 of") && n.contains("have no RSS")), "{:?}", summary.notes);
    }

    /// A chart that cannot be written (here its PNG's name is taken by a folder; on a full disk,
    /// no space) fails the report, and nothing half-written is left: no chart, no page.
    #[test]
    fn a_failed_report_leaves_no_partial_files() {
        let dir = TempDir::new().unwrap();
        write_fixture(dir.path(), "adhoc", &plain_run(), true);
        std::fs::create_dir_all(dir.path().join("charts/memory-cycles-smoke.png")).unwrap();
        assert!(write_report(dir.path()).is_err());
        assert!(!dir.path().join("report.html").exists());
        let left: Vec<_> = std::fs::read_dir(dir.path().join("charts"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn an_experiment_gets_a_sweep_chart_of_its_swept_parameter() {
        let dir = TempDir::new().unwrap();
        let mut cells = Vec::new();
        for (threshold, wall) in [("100", 900.0), ("700", 760.0), ("10000", 650.0)] {
            for repeat in 1..=2 {
                cells.push(FixtureCell {
                    given: vec![("threshold0", threshold), ("threshold1", "10")],
                    ..cell("generational", repeat, wall + f64::from(repeat) * 10.0, spread_pauses(50))
                });
            }
        }
        cells.push(cell("refcount", 1, 300.0, Vec::new()));
        write_fixture(dir.path(), "threshold-sweep", &cells, false);

        let folder = RunFolder::load(dir.path()).unwrap();
        let analysis = Analysis::of(&folder);
        assert_eq!(analysis.swept, ["generational.threshold0"]);
        let labels: Vec<&str> = analysis.programs[0].configurations.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            ["generational threshold0=100", "generational threshold0=700", "generational threshold0=10000", "refcount"]
        );

        let summary = write_report(dir.path()).unwrap();
        assert!(chart_stems(&summary).contains(&"sweep-cycles".to_string()), "{:?}", chart_stems(&summary));
        let html = std::fs::read_to_string(&summary.report).unwrap();
        assert!(html.contains("Sweep of generational.threshold0: cycles"));
        assert!(html.contains("What this experiment reproduces") && html.contains("the fixture&#39;s claim"));
        let charts = chart_stems(&summary).len();
        assert!(!html.contains("data:image/png"), "an experiment's report links its charts");
        assert_eq!(html.matches("<img class=\"chart\" src=\"charts/").count(), charts);
        assert!(
            html.find("id=\"sweep\"").unwrap() < html.find("id=\"program-cycles-smoke\"").unwrap(),
            "the sweep charts come first"
        );
    }

    /// The index of an experiment's page: the sweeps first, then one entry per workload
    /// configuration linking its tables and charts; every link lands on an anchor of the page.
    #[test]
    fn an_experiment_page_opens_with_an_index_of_sweeps_then_workload_configurations() {
        let dir = TempDir::new().unwrap();
        let mut cells = Vec::new();
        for (threshold, wall) in [("100", 900.0), ("700", 760.0)] {
            cells.push(FixtureCell {
                given: vec![("threshold0", threshold)],
                ..cell("generational", 1, wall, spread_pauses(40))
            });
        }
        write_fixture(dir.path(), "threshold-sweep", &cells, true);
        let html = std::fs::read_to_string(write_report(dir.path()).unwrap().report).unwrap();
        let index = &html[html.find("<nav id=\"index\">").unwrap()..html.find("</nav>").unwrap()];
        let sweeps = index.find("href=\"#sweep-cycles\"").expect("the sweep chart is in the index");
        let program = index.find("href=\"#program-cycles-smoke\"").expect("the workload configuration is");
        assert!(sweeps < program, "sweeps first");
        for anchor in ["figures", "overhead", "mmu"] {
            assert!(index.contains(&format!("href=\"#program-cycles-smoke-{anchor}\"")), "{anchor}");
        }
        for stem in ["summary", "tradeoff", "pause-cdf", "pause-timeline", "mmu", "memory"] {
            assert!(index.contains(&format!("href=\"#{stem}-cycles-smoke\"")), "{stem}");
        }
        let ids: std::collections::HashSet<&str> =
            html.split("id=\"").skip(1).map(|rest| &rest[..rest.find('"').unwrap()]).collect();
        for link in html.split("href=\"#").skip(1).map(|rest| &rest[..rest.find('"').unwrap()]) {
            assert!(ids.contains(link), "#{link} has no anchor");
        }
        let section = html.find("<section id=\"program-cycles-smoke\">").unwrap();
        assert!(html[section..].find("id=\"tradeoff-cycles-smoke\"").is_some(), "the charts sit in their section");
    }

    /// GC papers' charts: time against peak memory with its Pareto front, and MMU curves with
    /// each curve's overall utilisation.
    #[test]
    fn the_tradeoff_and_mmu_charts_are_drawn_from_the_runs() {
        let dir = TempDir::new().unwrap();
        write_fixture(dir.path(), "adhoc", &plain_run(), false);
        write_report(dir.path()).unwrap();
        let tradeoff = std::fs::read_to_string(dir.path().join("charts/tradeoff-cycles-smoke.svg")).unwrap();
        assert!(tradeoff.contains("Pareto front") && tradeoff.contains("peak RSS"));
        for strategy in ["refcount", "generational", "manual"] {
            assert!(tradeoff.contains(strategy), "{strategy} has a point");
        }
        let mmu = std::fs::read_to_string(dir.path().join("charts/mmu-cycles-smoke.svg")).unwrap();
        assert!(mmu.contains("window length (log scale)"));
        assert!(mmu.contains("generational (repeat"), "generational paused: a curve");
        assert!(!mmu.contains("refcount (repeat"), "refcount never paused: no curve, named in the caption");
        let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
        assert!(html.contains("No pause while the workload ran (MMU 1 at every window): refcount"));
    }

    /// Peak RSS of 1.2 GB beside 9 MB: the peak-memory panel goes logarithmic, so the small
    /// bars keep their differences.
    #[test]
    fn peak_memory_spanning_ten_times_gets_a_log_axis() {
        let dir = TempDir::new().unwrap();
        write_fixture(dir.path(), "adhoc", &plain_run(), false);
        write_report(dir.path()).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("charts/summary-cycles-smoke.svg")).unwrap();
        assert!(!svg.contains("bytes (log scale)"), "9.0 to 9.2 MB: linear");

        let mut cells = plain_run();
        cells.push(FixtureCell { peak_rss: 1_200_000_000, ..cell("nogc", 1, 250.0, Vec::new()) });
        write_fixture(dir.path(), "adhoc", &cells, false);
        write_report(dir.path()).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("charts/summary-cycles-smoke.svg")).unwrap();
        assert!(svg.contains("bytes (log scale)"), "9 MB to 1.2 GB: log");
    }

    /// Strategies with the same live bytes are drawn nested and named in the legend; pause
    /// counts are in the pause CDF's legend.
    #[test]
    fn coinciding_lines_are_named_and_pause_counts_shown() {
        let dir = TempDir::new().unwrap();
        write_fixture(dir.path(), "adhoc", &plain_run(), true);
        write_report(dir.path()).unwrap();
        let memory = std::fs::read_to_string(dir.path().join("charts/memory-cycles-smoke.svg")).unwrap();
        assert!(
            memory.contains("live bytes: refcount (repeat 1), generational (repeat 2) and manual (repeat 1) coincide"),
            "the fixture's live bytes are the same under every strategy"
        );
        let cdf = std::fs::read_to_string(dir.path().join("charts/pause-cdf-cycles-smoke.svg")).unwrap();
        assert!(cdf.contains("generational (n=580"), "300 + 280 pauses pooled over the repeats");
        assert!(cdf.contains("manual (n=1,"), "one pause under manual");
    }

    /// An all-zero leaked panel on a 0–1 B axis said nothing: without leaks it is not drawn, nor
    /// named in the legend.
    #[test]
    fn no_leak_no_leaked_panel() {
        let dir = TempDir::new().unwrap();
        let cells: Vec<FixtureCell> = plain_run()
            .into_iter()
            .filter(|c| c.strategy != "refcount")
            .chain([FixtureCell { leaked_bytes: 0, ..cell("refcount", 1, 300.0, Vec::new()) }])
            .collect();
        write_fixture(dir.path(), "adhoc", &cells, false);
        write_report(dir.path()).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("charts/summary-cycles-smoke.svg")).unwrap();
        assert!(!svg.contains("leaked"), "no leaked panel or legend entry");

        write_fixture(dir.path(), "adhoc", &plain_run(), false);
        write_report(dir.path()).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("charts/summary-cycles-smoke.svg")).unwrap();
        assert!(svg.contains("leaked at the workload"), "refcount leaks: the panel is drawn");
    }

    #[test]
    fn the_embedded_font_measures_text() {
        register_embedded_font().unwrap();
        let (width, height) = ("sans-serif", 24).into_font().box_size("p99 µs").unwrap();
        assert!(width > 50 && height > 15, "{width}×{height}");
    }
}
