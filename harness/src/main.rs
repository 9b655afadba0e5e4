//! `harness`: runs a workload under each strategy, each in a fresh child process, prints a
//! summary table and writes `results/<run-id>/` (`runs.csv`, `meta.json`) as the cells finish;
//! `harness resume RUN_DIR` finishes a run that was stopped. `harness validate` compares a workload under the strategy that models an interpreter's collector with its Python twin under that CPython;
//! `experiment` runs a TOML plan, `merge` joins shards, `report` draws the charts and report.html
//! (runs and experiments draw them at the end unless given `--no-report`).
//!
//! Exit codes: 0 success; 1 a cell failed or the checksums differ between strategies (a
//! correctness failure: a strategy changed what the program computed); 2 bad input, with
//! nothing run and nothing written; 130 / 143 stopped by SIGINT / SIGTERM (resumable).

mod cell;
mod cli;
mod compare;
mod experiment;
mod export;
mod folder;
mod merge;
mod plan;
mod report;
mod results;
mod runner;
mod summary;
mod system;
mod validate;
mod warmup;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use cell::{Interrupted, StopFlag};
use cli::{Cli, Command, refuse};
use folder::RunWriter;
use plan::{Plan, PlannedCell};
use runner::Ran;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Validate(args)) => return validate::run(args),
        Some(Command::Experiment(args)) if args.list => {
            print!("{}", experiment::listing());
            return ExitCode::SUCCESS;
        }
        Some(Command::Experiment(args)) => return execute(&experiment::plan(args), &Finish::of(&args.runner)),
        Some(Command::Merge(args)) => return merge::run(args),
        Some(Command::Resume(args)) => {
            return resume(
                &args.run_dir,
                &Finish { draw_report: !args.no_report, exports: args.export.export.clone() },
            );
        }
        Some(Command::Report(args)) => return report_command(args),
        Some(Command::Compare(args)) => return compare_command(args),
        None => {}
    }
    if cli.list {
        print!("{}", cli::listing());
        return ExitCode::SUCCESS;
    }
    if let Some(json) = &cli.run_cell {
        return run_cell_here(json);
    }
    let plan = cli.plan();
    execute(&plan, &Finish::of(&cli.runner))
}

/// What follows the cells of a run: the report, the exports.
struct Finish {
    draw_report: bool,
    /// `--export` formats.
    exports: Vec<String>,
}

impl Finish {
    fn of(runner: &cli::RunnerArgs) -> Finish {
        Finish { draw_report: !runner.no_report, exports: runner.export.export.clone() }
    }
}

/// Runs a checked plan: makes the run folder first (exit 2 if it cannot be made, with nothing
/// run), then runs the cells into it.
fn execute(plan: &Plan, finish: &Finish) -> ExitCode {
    let label = plan.cells.first().map_or("empty", |c| c.spec.workload.as_str());
    let run_id = results::new_run_id(if plan.experiment == "adhoc" { label } else { &plan.experiment });
    let path = plan.out.clone().unwrap_or_else(|| results::default_folder(&run_id));
    let writer = RunWriter::create(&path, results::meta(&run_id, plan))
        .unwrap_or_else(|e| refuse(format!("cannot write the run folder: {e:#}")));
    for warning in &writer.meta().system.as_ref().map_or_else(Vec::new, |s| s.warnings.clone()) {
        eprintln!("warning: {warning}");
    }
    if system::debug_assertions() {
        eprintln!("warning: {}", system::DEBUG_BUILD_WARNING);
    }
    let stop = stop_on_signals();
    if plan.warmup > 0 {
        match warmup::warm_up(&plan.cells, plan.warmup, plan.timeout, &stop) {
            Ok(ran) => println!("warm-up: {ran} cells run and discarded"),
            Err(Interrupted(signal)) => return ExitCode::from(128 + signal as u8),
        }
    }
    run_and_complete(writer, &plan.cells, &BTreeSet::new(), plan.seed, plan.timeout, finish, &stop)
}

/// `harness resume RUN_DIR`: the cells of an interrupted run that have no row yet, after
/// checking that this harness is the one that started it (commit, build profile, plan digest).
fn resume(run_dir: &Path, finish: &Finish) -> ExitCode {
    // Checked before anything is written: a refused resume leaves the folder as it was.
    let meta = folder::read_meta(run_dir).unwrap_or_else(|e| refuse(format!("{e:#}")));
    let commit = system::git_commit();
    if commit != meta.git_commit {
        refuse(format!(
            "{}: the run was started by commit {}, this harness is {commit}; resume it with that build",
            run_dir.display(),
            meta.git_commit
        ));
    }
    if system::build_profile() != meta.build_profile {
        refuse(format!(
            "{}: the run was started by a {} build, this is a {} build",
            run_dir.display(),
            meta.build_profile,
            system::build_profile()
        ));
    }
    let specs: Vec<cell::CellSpec> = meta.cells.iter().map(|c| c.spec.clone()).collect();
    if meta.shard.is_none() && (plan::digest(&specs) != meta.plan_digest || meta.cells.len() != meta.plan_cells) {
        refuse(format!(
            "{}: meta.json's cells do not match its plan digest; the folder was altered",
            run_dir.display()
        ));
    }
    let (writer, done) = RunWriter::resume(run_dir).unwrap_or_else(|e| refuse(format!("{e:#}")));
    println!("resuming {}: {} of {} cells done", run_dir.display(), done.len(), meta.cells.len());
    let stop = stop_on_signals();
    run_and_complete(writer, &meta.cells, &done, meta.seed, Duration::from_secs_f64(meta.timeout_s), finish, &stop)
}

/// Runs the cells not `done` into the folder, then completes it, prints the summary and draws
/// the report. Exit code 1 when a cell did not end `ok` or when checksums differ; 130 or 143
/// when SIGINT or SIGTERM stopped the run (the folder can be resumed).
fn run_and_complete(
    mut writer: RunWriter,
    cells: &[PlannedCell],
    done: &BTreeSet<usize>,
    seed: u64,
    timeout: Duration,
    finish: &Finish,
    stop: &StopFlag,
) -> ExitCode {
    let folder = writer.path().to_path_buf();
    match runner::run_cells(&mut writer, cells, done, seed, timeout, stop) {
        Ok(Ran::AllCells) => {}
        Ok(Ran::Stopped(Interrupted(signal))) => {
            let name = if signal == libc::SIGINT { "SIGINT" } else { "SIGTERM" };
            eprintln!(
                "stopped by {name}: the finished cells are in {0}; run the rest with `harness resume {0}`",
                folder.display()
            );
            return ExitCode::from(128 + signal as u8);
        }
        Err(e) => {
            eprintln!(
                "error: {e:#}; the finished cells are in {0}; `harness resume {0}` runs the rest",
                folder.display()
            );
            return ExitCode::FAILURE;
        }
    }
    let meta = writer.meta().clone();
    let gathered = match writer.complete() {
        Ok(gathered) => gathered,
        Err(e) => {
            eprintln!("error: completing {}: {e:#}", folder.display());
            return ExitCode::FAILURE;
        }
    };

    summary::print(&gathered.runs, Some(&meta));
    let cow = summary::cow_table(&gathered.runs, &gathered.cow);
    if !cow.is_empty() {
        println!("{cow}");
    }
    let mismatches = results::checksum_mismatches(&gathered.runs);
    if mismatches.is_empty() {
        println!("checksums: identical under every strategy that ran, for each workload configuration");
    } else {
        eprintln!("error: checksums differ between strategies; a strategy changed what the workload computed:");
        for mismatch in &mismatches {
            eprintln!("  {mismatch}");
        }
    }
    println!("results: {}", folder.display());
    if finish.draw_report {
        report_or_warn(&folder);
    }
    if let Err(e) = export_run(&folder, &gathered.runs, Some(&meta), &finish.exports) {
        eprintln!("error: exporting: {e:#}");
        return ExitCode::FAILURE;
    }
    if gathered.all_ok() && mismatches.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// A flag that SIGINT and SIGTERM raise instead of killing the harness, so that it can stop
/// the running cell and keep what finished.
fn stop_on_signals() -> StopFlag {
    let stop = StopFlag::default();
    for signal in [libc::SIGINT, libc::SIGTERM] {
        signal_hook::flag::register_usize(signal, stop.0.clone(), signal as usize).expect("a signal handler");
    }
    stop
}

/// Draws the charts and report.html at the end of a run. A failure is a warning, not the run's
/// failure: the results are written, and `harness report` can draw them again.
fn report_or_warn(folder: &Path) {
    match report::write_report(folder) {
        Ok(summary) => println!("report: {} ({} charts)", summary.report.display(), summary.charts.len() / 2),
        Err(e) => eprintln!("warning: no report: {e:#}; try `harness report {}`", folder.display()),
    }
}

/// Writes `--export` files of a run folder: RUN_DIR/summary.EXT with the summary and the LBO
/// overhead tables.
fn export_run(
    folder: &Path,
    rows: &[results::RunRow],
    meta: Option<&results::Meta>,
    formats: &[String],
) -> anyhow::Result<()> {
    if formats.is_empty() {
        return Ok(());
    }
    let run_id = rows.first().map_or("run", |r| r.key.run_id.as_str());
    let mut tables = summary::Summary::of(rows, meta).tables();
    tables.extend(report::overhead_tables(folder)?);
    let document = export::Document { title: format!("GC harness run {run_id}"), tables };
    for path in export::write_all(&document, formats, folder, "summary")? {
        println!("export: {}", path.display());
    }
    Ok(())
}

/// `harness report RUN_DIR`: exit 0 when written, 1 when drawing failed, 2 when RUN_DIR is not
/// a complete run folder with rows (an incomplete one is drawn with `--allow-incomplete`).
fn report_command(args: &cli::ReportArgs) -> ExitCode {
    let (run_dir, allow_incomplete) = (args.run_dir.as_path(), args.allow_incomplete);
    if !run_dir.join(folder::RUNS).is_file() {
        refuse(format!("{}: not a run folder (no runs.csv)", run_dir.display()));
    }
    let incomplete = folder::read_meta(run_dir).is_ok_and(|meta| !meta.complete);
    if incomplete && !allow_incomplete {
        refuse(format!(
            "{0}: the run is not complete; finish it with `harness resume {0}`, or pass --allow-incomplete",
            run_dir.display()
        ));
    }
    match folder::read_rows::<results::RunRow>(&run_dir.join(folder::RUNS)) {
        Err(e) => refuse(format!("{e:#}")),
        Ok((rows, _)) if rows.is_empty() => refuse(format!("{}: runs.csv has no rows", run_dir.display())),
        Ok((_, true)) if !allow_incomplete => refuse(format!(
            "{}: runs.csv ends in a torn row; pass --allow-incomplete to draw the rest",
            run_dir.display()
        )),
        Ok(_) => {}
    }
    match report::write_report(run_dir) {
        Ok(summary) => {
            for note in &summary.notes {
                println!("note: {note}");
            }
            println!("report: {} ({} charts)", summary.report.display(), summary.charts.len() / 2);
            let rows = folder::read_rows::<results::RunRow>(&run_dir.join(folder::RUNS)).map(|(rows, _)| rows);
            let exported = rows.and_then(|rows| {
                export_run(run_dir, &rows, folder::read_meta(run_dir).ok().as_ref(), &args.export.export)
            });
            match exported {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: exporting: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `harness compare A B [C…]`: exit 0 with the comparison printed, 2 when a folder cannot be
/// read or the folders ran different workload configurations.
fn compare_command(args: &cli::CompareArgs) -> ExitCode {
    let folders = compare::load_all(&args.folders).unwrap_or_else(|e| refuse(format!("{e:#}")));
    let comparison = compare::compare(&folders).unwrap_or_else(|e| refuse(e));
    println!("{}", comparison.text());
    let document = export::Document { title: "GC harness comparison".into(), tables: vec![comparison.table()] };
    match export::write_all(&document, &args.export.export, &args.export_dir, "compare") {
        Ok(paths) => {
            for path in paths {
                println!("export: {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: exporting: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Test hook: a child whose strategy is named in this variable aborts, as a crashing cell
/// would (the CLI tests check that the run records it and goes on).
const CRASH_HOOK: &str = "HARNESS_TEST_CRASH_STRATEGY";

/// Test hook: a child whose strategy is named in this variable waits a minute before running,
/// so that a test can kill the harness while that cell runs.
const STALL_HOOK: &str = "HARNESS_TEST_STALL_STRATEGY";

/// The child side of a cell: run it and print the outcome as JSON.
fn run_cell_here(json: &str) -> ExitCode {
    system::die_with_parent();
    let spec: Result<cell::CellSpec, _> = serde_json::from_str(json);
    if let (Ok(spec), Ok(doomed)) = (&spec, std::env::var(CRASH_HOOK))
        && spec.strategy == doomed
    {
        eprintln!("{CRASH_HOOK}={doomed}: aborting this cell");
        std::process::abort();
    }
    if let (Ok(spec), Ok(stalled)) = (&spec, std::env::var(STALL_HOOK))
        && spec.strategy == stalled
    {
        std::thread::sleep(Duration::from_secs(60));
    }
    let outcome = spec.map_err(anyhow::Error::from).and_then(|spec| cell::execute(&spec));
    match outcome {
        Ok(outcome) => {
            println!("{}", serde_json::to_string(&outcome).expect("outcome serialises"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
