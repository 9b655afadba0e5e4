//! Runs the cells of a plan, each in a fresh child process, and appends each finished cell's
//! rows to the run folder (`folder.rs`) as it finishes.
//!
//! - **Order.** Cells run in a random order drawn from the run's seed, so that machine drift
//!   (thermal state, a noisy neighbour) spreads over every strategy instead of hitting the last
//!   ones. The folder is put in plan order when the run completes, which is what lets shards of
//!   a run merge into the same folder as the unsharded run. A resumed run skips the cells done.
//! - **Stopping.** A SIGINT or SIGTERM (the [`StopFlag`]) kills the running cell, which is not
//!   recorded, and ends the run: what finished is in the folder, `harness resume` does the rest.
//! - **Limits.** Each child is killed after the timeout (`timeout`); its heap cap travels in its
//!   spec. A cell that fails or times out is recorded with its status and the run goes on.
//! - **Progress.** A progress bar with an ETA when stdout is a terminal, one plain line per
//!   finished cell otherwise (logs, CI, batch schedulers).

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use workloads::rng::SplitMix64;

use crate::cell::{self, CellResult, CellSpec, Interrupted, StopFlag};
use crate::folder::RunWriter;
use crate::plan::PlannedCell;
use crate::results;

/// How a run of cells ended.
pub enum Ran {
    /// Every cell ran and was appended to the folder.
    AllCells,
    /// A signal stopped the run; the cells finished before it are in the folder.
    Stopped(Interrupted),
}

/// Runs the `cells` not yet `done`, in an order shuffled with `order_seed` (the same order a
/// resumed run would have had), each at most `timeout`; appends each finished cell's rows to
/// `folder` as it finishes.
pub fn run_cells(
    folder: &mut RunWriter,
    cells: &[PlannedCell],
    done: &BTreeSet<usize>,
    order_seed: u64,
    timeout: Duration,
    stop: &StopFlag,
) -> Result<Ran> {
    let order: Vec<usize> =
        shuffled(cells.len(), order_seed).into_iter().filter(|&i| !done.contains(&cells[i].id)).collect();
    let progress = Progress::new(order.len() as u64);
    let run_id = folder.meta().run_id.clone();
    for index in order {
        let cell = &cells[index];
        progress.starting(&describe(&cell.spec));
        let started = Instant::now();
        let result = match cell::run_in_child(&cell.spec, timeout, stop) {
            Ok(result) => result,
            Err(interrupted) => {
                progress.done();
                return Ok(Ran::Stopped(interrupted));
            }
        };
        progress.finished(&describe(&cell.spec), &result, started.elapsed());
        let (pauses, memory, cow) = match &result {
            CellResult::Ok(outcome) => (
                results::keyed(&run_id, cell, &outcome.pauses),
                results::keyed(&run_id, cell, &outcome.memory_samples),
                results::keyed(&run_id, cell, &outcome.cow_samples),
            ),
            _ => (Vec::new(), Vec::new(), Vec::new()),
        };
        folder.append(&results::row(&run_id, cell, &result), &pauses, &memory, &cow)?;
    }
    progress.done();
    Ok(Ran::AllCells)
}

/// `0..n` in a Fisher–Yates order drawn from `seed`.
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix64::new(seed ^ 0x6f72_6465_72ed_5eed); // a stream apart from the workloads'
    for i in (1..n).rev() {
        order.swap(i, rng.index(i + 1));
    }
    order
}

fn describe(spec: &CellSpec) -> String {
    let params: Vec<String> = spec.strategy_params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let workload_params: Vec<String> = spec.workload_params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut text = format!("{} ({}) under {}", spec.workload, spec.size, spec.strategy);
    if !params.is_empty() {
        text += &format!(" [{}]", params.join(" "));
    }
    if !workload_params.is_empty() {
        text += &format!(" {{{}}}", workload_params.join(" "));
    }
    if spec.repeat > 1 {
        text += &format!(" repeat {}", spec.repeat);
    }
    if !spec.record {
        text += " (recording off)";
    }
    text
}

/// A bar on a terminal, plain lines elsewhere.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: std::cell::Cell<u64>,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} cells  {elapsed} elapsed, ETA {eta}  {msg}")
                    .expect("a valid template"),
            );
            bar
        });
        Progress { bar, total, done: std::cell::Cell::new(0) }
    }

    fn starting(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
        }
    }

    fn finished(&self, what: &str, result: &CellResult, took: Duration) {
        self.done.set(self.done.get() + 1);
        let status = match result {
            CellResult::Ok(outcome) if outcome.status != results::Status::Ok => outcome.status.to_string(),
            CellResult::Ok(_) => "ok".into(),
            CellResult::Failed { error } => format!("failed: {}", error.lines().last().unwrap_or_default()),
            CellResult::TimedOut { after, .. } => {
                format!("timed out after {}", results::format_duration_us(after.as_secs_f64() * 1e6))
            }
        };
        let line = format!("[{}/{}] {what}: {status} ({:.1} s)", self.done.get(), self.total, took.as_secs_f64());
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_a_seeded_permutation() {
        let order = shuffled(10, 42);
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_eq!(order, shuffled(10, 42), "same seed, same order");
        assert_ne!(order, shuffled(10, 43), "another seed, another order");
        assert_ne!(order, (0..10).collect::<Vec<_>>());
    }
}
