//! The report of a run folder: charts in `charts/` (SVG and PNG) and `report.html`, the page a
//! person opens first. It reads only the run folder's files (`runs.csv`, `pauses.csv`,
//! `memory.csv` when present, `meta.json`), so it can be drawn again at any time, on any
//! machine, with `harness report RUN_DIR`.
//!
//! Reading and grouping is [`data`], the lower bounds of the overhead table [`overhead`], the
//! charts [`charts`] (over [`axis`]), the page [`html`]:
//!
//! ```text
//! write_report(folder)
//!   RunFolder::load        rows of every file; a missing optional file becomes a note
//!   Analysis::of           programs -> configurations -> repeats; swept parameters
//!   charts::draw_all       summary bars, pause CDF and timeline, memory, sweeps -> charts/
//!   html::page             tables, overhead, inline charts, metadata -> report.html
//! ```

mod axis;
mod charts;
mod data;
mod html;
mod overhead;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use data::{Analysis, RunFolder};

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
    use crate::results::{CellKey, PauseRow, RunRow, Status, write_csv};

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
            let ok = c.status == Status::Ok;
            let params: Vec<String> = c.given.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let mm_ms = c.pauses_ns.iter().sum::<u64>() as f64 / 1e6;
            let some_if_ok = |v: f64| ok.then_some(v);
            runs.push(RunRow {
                run_id: run_id.into(),
                cell: id,
                workload: "cycles".into(),
                size: "smoke".into(),
                seed: 7,
                strategy: c.strategy.into(),
                repeat: c.repeat,
                recording: true,
                allocator: "pymalloc/jemalloc".into(),
                build_profile: "release".into(),
                status: c.status,
                checksum: ok.then(|| "abc".into()),
                wall_time_ms: some_if_ok(c.wall_ms),
                mm_time_ms: some_if_ok(mm_ms),
                mutator_time_ms: some_if_ok(c.wall_ms - mm_ms),
                pause_count: ok.then_some(c.pauses_ns.len() as u64),
                pause_p50_us: c.pauses_ns.get(c.pauses_ns.len() / 2).map(|ns| *ns as f64 / 1e3),
                pause_p99_us: c.pauses_ns.last().map(|ns| *ns as f64 / 1e3),
                pause_max_us: c.pauses_ns.last().map(|ns| *ns as f64 / 1e3),
                requests: Some(0),
                request_p50_us: None,
                request_p99_us: None,
                request_max_us: None,
                peak_rss_bytes: ok.then_some(c.peak_rss),
                peak_reserved_bytes: ok.then_some(c.peak_rss / 3),
                leaked_objects: ok.then_some(c.leaked_bytes / 48),
                leaked_bytes: ok.then_some(c.leaked_bytes),
                immortal_objects: ok.then_some(0),
                immortal_bytes: ok.then_some(0),
                collections_gen0: Some(c.pauses_ns.len() as u64),
                collections_gen1: Some(0),
                collections_gen2: Some(0),
                workload_params: "rings=10".into(),
                strategy_params: params.join(";"),
                error: (!ok).then(|| "thread 'main' panicked".into()),
            });
            let step = c.wall_ms * 1e6 / (c.pauses_ns.len() as f64 + 1.0);
            for (i, duration) in c.pauses_ns.iter().enumerate() {
                pauses.push(PauseRow {
                    key: CellKey {
                        run_id: run_id.into(),
                        cell: id,
                        workload: "cycles".into(),
                        strategy: c.strategy.into(),
                        repeat: c.repeat,
                    },
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
        assert_eq!(stems, ["summary-cycles-smoke", "pause-cdf-cycles-smoke", "pause-timeline-cycles-smoke"]);
        for path in &summary.charts {
            assert!(std::fs::metadata(path).unwrap().len() > 1000, "{} is written", path.display());
        }
        assert!(
            summary.notes.iter().any(|n| n.starts_with("memory.csv is not in this run folder")),
            "{:?}",
            summary.notes
        );

        let html = std::fs::read_to_string(&summary.report).unwrap();
        assert_eq!(html.matches("<img class=\"chart\" src=\"data:image/png;base64,").count(), 3);
        assert!(html.contains("1 cell did not end ok"), "the failed cell is reported");
        assert!(html.contains("the memory-over-time charts are skipped"));
        assert!(html.contains("best observed (refcount)"), "no nogc: the best wall time is the time bound");
        assert!(html.contains("harness &lt;script&gt;"), "metadata is escaped");
        assert!(!html.contains("<script"), "the page has no script");
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
        cells.push(cell("nogc", 1, 250.0, Vec::new()));
        write_fixture(dir.path(), "adhoc", &cells, true);
        let summary = write_report(dir.path()).unwrap();
        assert!(chart_stems(&summary).contains(&"memory-cycles-smoke".to_string()));
        assert!(summary.notes.iter().all(|n| !n.contains("memory.csv")), "{:?}", summary.notes);

        let folder = RunFolder::load(dir.path()).unwrap();
        let analysis = Analysis::of(&folder);
        let table = overhead_table(&analysis, &analysis.programs[0]);
        let time = table.time_baseline.unwrap();
        assert_eq!((time.value, time.basis.as_str()), (250.0, "nogc"));
        let heap = table.heap_baseline.unwrap();
        assert_eq!(heap.value, 1_601_000.0, "the smallest peak of sampled live bytes");
        assert!(heap.basis.starts_with("smallest peak live bytes"), "{}", heap.basis);
        let generational = table.rows.iter().find(|r| r.configuration.strategy == "generational").unwrap();
        assert_eq!(generational.time, Some(780.0 / 250.0), "median wall over nogc's");
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
    }

    #[test]
    fn the_embedded_font_measures_text() {
        register_embedded_font().unwrap();
        let (width, height) = ("sans-serif", 24).into_font().box_size("p99 µs").unwrap();
        assert!(width > 50 && height > 15, "{width}×{height}");
    }
}
