//! Warm-up cells (`--warmup N`): before the measured cells, each configuration (the cells of its
//! first repeat) runs N times in a fresh child process and the outcome is discarded. They warm
//! what outlives a child: the page cache holding the harness binary, the CPU's clock and caches
//! under the frequency governor. They are not written to any file; `meta.json` records how many
//! ran (`warmup`), so that a reader knows the first measured cells were not cold.

use std::time::Duration;

use crate::cell::{self, CellResult, Interrupted, StopFlag};
use crate::plan::PlannedCell;

/// Runs each first-repeat cell of `cells` `rounds` times, discarding the outcomes. Returns the
/// number of warm-up cells run, or the signal that stopped them.
pub fn warm_up(cells: &[PlannedCell], rounds: u32, timeout: Duration, stop: &StopFlag) -> Result<usize, Interrupted> {
    let firsts: Vec<&PlannedCell> = cells.iter().filter(|c| c.spec.repeat == 1).collect();
    let mut ran = 0;
    for round in 1..=rounds {
        for cell in &firsts {
            if let CellResult::Failed { error } = cell::run_in_child(&cell.spec, timeout, stop)? {
                eprintln!("warning: warm-up {round} of cell {} failed (discarded): {error}", cell.id);
            }
            ran += 1;
        }
    }
    Ok(ran)
}
