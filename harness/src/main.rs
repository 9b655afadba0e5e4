//! `harness`: runs a workload under each strategy, each in a fresh child process, prints a
//! summary table and writes `results/<run-id>/` (`runs.csv`, `meta.json`). `harness validate`
//! compares a workload under our `generational` strategy with its Python twin under CPython;
//! `experiment` runs a TOML plan, `merge` joins shards, `report` draws the charts and report.html
//! (runs and experiments draw them at the end unless given `--no-report`).
//!
//! Exit codes: 0 success; 1 a cell failed or the checksums differ between strategies (a
//! correctness failure: a strategy changed what the program computed); 2 bad input, with
//! nothing run and nothing written.

mod cell;
mod cli;
mod experiment;
mod merge;
mod report;
mod results;
mod runner;
mod system;
mod validate;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use runner::Plan;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Validate(args)) => return validate::run(args),
        Some(Command::Experiment(args)) if args.list => {
            print!("{}", experiment::listing());
            return ExitCode::SUCCESS;
        }
        Some(Command::Experiment(args)) => return execute(&experiment::plan(args), !args.runner.no_report),
        Some(Command::Merge(args)) => return merge::run(args),
        Some(Command::Report(args)) => return report_command(&args.run_dir),
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
    execute(&plan, !cli.runner.no_report)
}

/// Runs a checked plan, prints the summary, writes the run folder. Exit code 1 when a cell did
/// not end `ok` or when checksums differ.
fn execute(plan: &Plan, draw_report: bool) -> ExitCode {
    let label = plan.cells.first().map_or("empty", |c| c.spec.workload.as_str());
    let run_id = results::new_run_id(if plan.experiment == "adhoc" { label } else { &plan.experiment });
    let folder = plan.out.clone().unwrap_or_else(|| results::default_folder(&run_id));
    let gathered = runner::run_cells(&run_id, &plan.cells, plan.seed, plan.timeout);

    println!("\n{}", results::summary_table(&gathered.runs));
    for overhead in results::recording_overheads(&gathered.runs) {
        println!(
            "recording overhead, {}: {:+.1}% wall time by minimum, {:+.1}% by median (recording on vs off)",
            overhead.configuration,
            overhead.by_minimum * 100.0,
            overhead.by_median * 100.0
        );
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
    if let Err(e) = results::write_run_folder(&folder, &gathered, &results::meta(&run_id, plan)) {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    println!("results: {}", folder.display());
    if draw_report {
        report_or_warn(&folder);
    }
    if gathered.all_ok() && mismatches.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Draws the charts and report.html at the end of a run. A failure is a warning, not the run's
/// failure: the results are written, and `harness report` can draw them again.
fn report_or_warn(folder: &std::path::Path) {
    match report::write_report(folder) {
        Ok(summary) => println!("report: {} ({} charts)", summary.report.display(), summary.charts.len() / 2),
        Err(e) => eprintln!("warning: no report: {e:#}; try `harness report {}`", folder.display()),
    }
}

/// `harness report RUN_DIR`: exit 0 when written, 1 when drawing failed, 2 when RUN_DIR is not
/// a run folder.
fn report_command(run_dir: &std::path::Path) -> ExitCode {
    if !run_dir.join("runs.csv").is_file() {
        eprintln!("error: {}: not a run folder (no runs.csv)", run_dir.display());
        return ExitCode::from(2);
    }
    match report::write_report(run_dir) {
        Ok(summary) => {
            for note in &summary.notes {
                println!("note: {note}");
            }
            println!("report: {} ({} charts)", summary.report.display(), summary.charts.len() / 2);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Test hook: a child whose strategy is named in this variable aborts, as a crashing cell
/// would (the CLI tests check that the run records it and goes on).
const CRASH_HOOK: &str = "HARNESS_TEST_CRASH_STRATEGY";

/// The child side of a cell: run it and print the outcome as JSON.
fn run_cell_here(json: &str) -> ExitCode {
    let spec: Result<cell::CellSpec, _> = serde_json::from_str(json);
    if let (Ok(spec), Ok(doomed)) = (&spec, std::env::var(CRASH_HOOK))
        && spec.strategy == doomed
    {
        eprintln!("{CRASH_HOOK}={doomed}: aborting this cell");
        std::process::abort();
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
