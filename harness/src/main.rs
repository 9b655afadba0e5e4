//! `harness`: runs a workload under each strategy, each in a fresh child process, prints a
//! summary table and writes `results/<run-id>/` (`runs.csv`, `meta.json`). `harness validate`
//! compares a workload under our `generational` strategy with its Python twin under CPython.
//!
//! Exit codes: 0 success; 1 a cell failed or the checksums differ between strategies (a
//! correctness failure: a strategy changed what the program computed); 2 bad input, with
//! nothing run and nothing written.

mod cell;
mod cli;
mod results;
mod system;
mod validate;

use std::process::ExitCode;

use clap::Parser;

use cell::CellResult;
use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Validate(args)) = &cli.command {
        return validate::run(args);
    }
    if cli.list {
        print!("{}", cli::listing());
        return ExitCode::SUCCESS;
    }
    if let Some(json) = &cli.run_cell {
        return run_cell_here(json);
    }
    let plan = cli.plan();
    let workload = &plan.cells[0].workload;
    let run_id = results::new_run_id(workload);
    let folder = plan.out.clone().unwrap_or_else(|| results::default_folder(&run_id));

    let mut rows = Vec::new();
    let mut failed = false;
    for spec in &plan.cells {
        eprintln!("running {} ({}) under {} ...", spec.workload, spec.size, spec.strategy);
        let result = cell::run_in_child(spec);
        if let CellResult::Failed { error } = &result {
            eprintln!("  failed: {error}");
            failed = true;
        }
        rows.push(results::row(&run_id, spec, &result));
    }

    let first = &plan.cells[0];
    let params = rows.iter().find(|r| r.status == "ok").map_or(String::new(), |r| r.workload_params.clone());
    println!(
        "\n{} (size {}, seed {}; {params})  allocator {}/{}",
        first.workload, first.size, first.seed, first.allocator, first.backend
    );
    println!("{}", results::summary_table(&rows));
    let checksums: std::collections::BTreeSet<&String> = rows.iter().filter_map(|r| r.checksum.as_ref()).collect();
    let mismatch = checksums.len() > 1;
    match checksums.iter().next() {
        Some(sum) if !mismatch => println!("checksum {sum}: identical under every strategy that ran"),
        Some(_) => {
            eprintln!("error: checksums differ between strategies; a strategy changed what the workload computed");
            for row in &rows {
                eprintln!("  {:<12} {}", row.strategy, row.checksum.as_deref().unwrap_or("-"));
            }
        }
        None => {}
    }

    if let Err(e) = results::write_run_folder(&folder, &rows, &results::meta(&run_id, &plan.cells)) {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    println!("results: {}", folder.display());
    if failed || mismatch { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// The child side of a cell: run it and print the outcome as JSON.
fn run_cell_here(json: &str) -> ExitCode {
    let outcome = serde_json::from_str(json).map_err(anyhow::Error::from).and_then(|spec| cell::execute(&spec));
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
