//! `manual`: Instagram's recipe (2017; `gc.freeze()` since CPython 3.7). Automatic collection is
//! off (`gc.disable()`); optionally everything built before `startup_done` is frozen, so the
//! collector never walks it again (and, after `fork()`, never writes its pages); collection runs by
//! hand every N `request_done` checkpoints, when live bytes pass a limit, or both. The final
//! collection at exit can be skipped, as Instagram skipped it with `os._exit`. It is the same
//! collector as `generational`, with a different trigger.

use super::{
    BACK_EDGES, BackEdges, Capabilities, Checkpoint, CheckpointInfo, CollectorKind, GcAction, IMMORTAL, Policy,
    StrategyInfo, Tunables,
};
use crate::params::{Defaults, Flag, Int, Param, ParamError, Reader};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "manual",
    summary: "Instagram's recipe: automatic GC off, optional freeze at startup, collect by hand",
    capabilities: Capabilities {
        collector: CollectorKind::Generational,
        back_edges: BackEdges::Strong,
        returns_blocks: true,
        collects_at_exit: true,
    },
    params: &[&FREEZE, &EVERY, &LIVE_BYTES, &EXIT_COLLECT, &IMMORTAL, &BACK_EDGES],
    build,
};

const FREEZE: Param<Flag> =
    Param::new("freeze", Flag, Defaults::Fixed(true), "gc.freeze() at the workload's startup_done checkpoint");
const EVERY: Param<Int<u64>> = Param::new(
    "every",
    Int::at_least(0),
    Defaults::Fixed(0),
    "full collection every N request_done checkpoints (0: never by count)",
);
const LIVE_BYTES: Param<Int<u64>> = Param::new(
    "live-bytes",
    Int::at_least(0),
    Defaults::Fixed(0),
    "full collection at a request_done checkpoint once live bytes exceed this limit (0: no limit)",
);
const EXIT_COLLECT: Param<Flag> =
    Param::new("exit-collect", Flag, Defaults::Fixed(true), "run a full collection when the workload returns");

#[derive(Debug)]
struct Manual {
    freeze: bool,
    every: u64,
    live_bytes_limit: u64,
    exit_collect: bool,
}

fn build(r: &mut Reader) -> Result<Box<dyn Policy>, ParamError> {
    Ok(Box::new(Manual {
        freeze: r.get(&FREEZE)?,
        every: r.get(&EVERY)?,
        live_bytes_limit: r.get(&LIVE_BYTES)?,
        exit_collect: r.get(&EXIT_COLLECT)?,
    }))
}

impl Policy for Manual {
    fn tunables(&self) -> Tunables {
        Tunables { automatic: false, ..Tunables::default() }
    }

    fn at_checkpoint(&mut self, checkpoint: Checkpoint, info: CheckpointInfo) -> Option<GcAction> {
        match checkpoint {
            Checkpoint::StartupDone if self.freeze => Some(GcAction::Freeze),
            Checkpoint::StartupDone => None,
            Checkpoint::RequestDone => {
                let by_count = self.every > 0 && info.requests_done.is_multiple_of(self.every);
                let by_memory = self.live_bytes_limit > 0 && info.live_bytes > self.live_bytes_limit;
                (by_count || by_memory).then_some(GcAction::Collect(2))
            }
        }
    }

    fn collect_at_exit(&self, _default: bool) -> bool {
        self.exit_collect
    }
}
