//! `manual`: Instagram's recipe (2017; `gc.freeze()` since CPython 3.7). Automatic collection is
//! off (`gc.disable()`); optionally everything built before `startup_done` is frozen, so the
//! collector never walks it again (and, after `fork()`, never writes its pages); collection runs by
//! hand every N `request_done` checkpoints, when live bytes pass a limit, or both. The final
//! collection at exit can be skipped, as Instagram skipped it with `os._exit`. It is the same
//! collector as `generational`, with a different trigger.

use super::{
    BACK_EDGES_STRONG, BackEdges, Capabilities, Checkpoint, CheckpointInfo, CollectorKind, GcAction, ParamError,
    ParamSpec, Params, Strategy, StrategyInfo, Tunables, back_edges_param, back_edges_value, param,
};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "manual",
    summary: "Instagram's recipe: automatic GC off, optional freeze at startup, collect by hand",
    capabilities: Capabilities {
        collector: CollectorKind::Generational,
        back_edges: BackEdges::Strong,
        returns_blocks: true,
        collects_at_exit: true,
    },
    params: &[
        ParamSpec { name: "freeze", default: "true", help: "gc.freeze() at the workload's startup_done checkpoint" },
        ParamSpec {
            name: "every",
            default: "0",
            help: "full collection every N request_done checkpoints (0: never by count)",
        },
        ParamSpec {
            name: "live-bytes",
            default: "0",
            help: "full collection at a request_done checkpoint once live bytes exceed this limit (0: no limit)",
        },
        ParamSpec { name: "exit-collect", default: "true", help: "run a full collection when the workload returns" },
        BACK_EDGES_STRONG,
    ],
    build,
};

#[derive(Debug)]
struct Manual {
    freeze: bool,
    every: u64,
    live_bytes_limit: u64,
    exit_collect: bool,
    back_edges: BackEdges,
}

fn build(params: &Params) -> Result<Box<dyn Strategy>, ParamError> {
    let default = |name: &str| INFO.params.iter().find(|p| p.name == name).expect("declared").default;
    Ok(Box::new(Manual {
        freeze: param(INFO.name, params, "freeze", default("freeze"))?,
        every: param(INFO.name, params, "every", default("every"))?,
        live_bytes_limit: param(INFO.name, params, "live-bytes", default("live-bytes"))?,
        exit_collect: param(INFO.name, params, "exit-collect", default("exit-collect"))?,
        back_edges: back_edges_param(&INFO, params)?,
    }))
}

impl Strategy for Manual {
    fn info(&self) -> &'static StrategyInfo {
        &INFO
    }

    fn back_edges(&self) -> BackEdges {
        self.back_edges
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![
            ("freeze".into(), self.freeze.to_string()),
            ("every".into(), self.every.to_string()),
            ("live-bytes".into(), self.live_bytes_limit.to_string()),
            ("exit-collect".into(), self.exit_collect.to_string()),
            back_edges_value(self.back_edges),
        ]
    }

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

    fn collect_at_exit(&self) -> bool {
        self.exit_collect
    }
}
