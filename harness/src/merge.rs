//! `harness merge DIR...`: combines the partial run folders written by `--shard i/n` runs into
//! one run folder, as if the plan had run on one machine.
//!
//! The parts must belong to one run: the same experiment, seed, plan (its digest) and commit,
//! no cell twice, and every cell of the plan present with its `runs.csv` row. A part that is
//! not complete (an interrupted shard: `harness resume` it first) or whose files end in a torn
//! row is refused; so is an `--out` that cannot be written, before anything is read. Rows keep their plan order; the merged
//! folder takes the first part's run id, and `meta.json` lists every part in `merged_from`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cli::{MergeArgs, refuse};
use crate::folder::{self, COW, MEMORY, PAUSES, RUNS};
use crate::results::{self, Gathered, Meta};

struct Part {
    meta: Meta,
    gathered: Gathered,
}

pub fn run(args: &MergeArgs) -> ExitCode {
    if let Some(out) = &args.out {
        folder::check_out(out).unwrap_or_else(|e| refuse(e));
    }
    let parts: Vec<Part> = args
        .parts
        .iter()
        .map(|dir| read_part(dir, args.allow_incomplete).unwrap_or_else(|e| refuse(format!("{e:#}"))))
        .collect();
    let (meta, gathered) = combine(parts).unwrap_or_else(|e| refuse(e));
    if args.out.is_none() {
        folder::check_out(&results::default_folder(&meta.run_id)).unwrap_or_else(|e| refuse(e));
    }
    let folder = args.out.clone().unwrap_or_else(|| results::default_folder(&meta.run_id));
    if let Err(e) = results::write_run_folder(&folder, &gathered, &meta) {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    crate::summary::print(&gathered.runs, Some(&meta));
    println!("merged {} parts ({} cells): {}", meta.merged_from.len(), meta.plan_cells, folder.display());
    ExitCode::SUCCESS
}

fn read_part(dir: &Path, allow_incomplete: bool) -> Result<Part> {
    let meta = folder::read_meta(dir)?;
    if !meta.complete && !allow_incomplete {
        bail!("{0}: the run is not complete; finish it with `harness resume {0}` first", dir.display());
    }
    let read = |file: &str| -> Result<()> {
        let torn = match file {
            RUNS => folder::read_rows::<results::RunRow>(&dir.join(file))?.1,
            PAUSES => folder::read_rows::<results::PauseRow>(&dir.join(file))?.1,
            MEMORY => folder::read_rows::<results::MemoryRow>(&dir.join(file))?.1,
            _ => dir.join(file).exists() && folder::read_rows::<results::CowRow>(&dir.join(file))?.1,
        };
        if torn {
            bail!("{}: the last row is torn (cut by a kill); resume the run first", dir.join(file).display());
        }
        Ok(())
    };
    for file in [RUNS, PAUSES, MEMORY, COW] {
        read(file)?;
    }
    let gathered = folder::read_folder(dir)?;
    let has_row = |id: usize| gathered.runs.iter().any(|r| r.key.cell == id);
    if let Some(cell) = meta.cells.iter().find(|c| !has_row(c.id)) {
        bail!("{}: cell {} has no row in runs.csv; the part is incomplete", dir.display(), cell.id);
    }
    Ok(Part { meta, gathered })
}

/// Checks that the parts are the shards of one run and joins them.
fn combine(parts: Vec<Part>) -> Result<(Meta, Gathered), String> {
    let first = &parts[0].meta;
    for part in &parts[1..] {
        let m = &part.meta;
        let same = |what: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            if a.to_string() == b.to_string() {
                Ok(())
            } else {
                Err(format!("{} and {} are not shards of one run: {what} differs ({a} vs {b})", first.run_id, m.run_id))
            }
        };
        same("experiment", &first.experiment, &m.experiment)?;
        same("seed", &first.seed, &m.seed)?;
        same("plan (its digest)", &first.plan_digest, &m.plan_digest)?;
        same("git commit", &first.git_commit, &m.git_commit)?;
    }
    let mut meta = first.clone();
    let mut gathered = Gathered::default();
    meta.cells.clear();
    for part in parts {
        meta.merged_from.push(part.meta.run_id.clone());
        meta.cells.extend(part.meta.cells);
        gathered.runs.extend(part.gathered.runs);
        gathered.pauses.extend(part.gathered.pauses);
        gathered.memory.extend(part.gathered.memory);
        gathered.cow.extend(part.gathered.cow);
    }
    meta.cells.sort_by_key(|c| c.id);
    if let Some(twice) = meta.cells.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(format!("cell {} appears in two parts: the same shard was given twice", twice[0].id));
    }
    let missing: Vec<String> = (0..meta.plan_cells)
        .filter(|id| meta.cells.binary_search_by_key(id, |c| c.id).is_err())
        .map(|id| id.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!("cells missing from the parts: {} (a shard was not given?)", missing.join(", ")));
    }
    meta.shard = None;
    meta.complete = true;
    for row in &mut gathered.runs {
        row.key.run_id.clone_from(&meta.run_id);
    }
    for row in &mut gathered.pauses {
        row.key.run_id.clone_from(&meta.run_id);
    }
    for row in &mut gathered.memory {
        row.key.run_id.clone_from(&meta.run_id);
    }
    for row in &mut gathered.cow {
        row.key.run_id.clone_from(&meta.run_id);
    }
    gathered.runs.sort_by_key(|r| r.key.cell);
    // Stable sorts: each cell's pauses and samples stay in time order.
    gathered.pauses.sort_by_key(|p| p.key.cell);
    gathered.memory.sort_by_key(|m| m.key.cell);
    gathered.cow.sort_by_key(|c| c.key.cell);
    Ok((meta, gathered))
}
