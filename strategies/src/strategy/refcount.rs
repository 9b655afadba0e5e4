//! `refcount`: pure reference counting, no cycle collector (CPython after `gc.disable()`,
//! forever). Garbage cycles are never freed; the heap's end-of-run reachability walk counts
//! them, and the run reports the leak.

use super::{BACK_EDGES, BackEdges, Capabilities, CollectorKind, IMMORTAL, StrategyInfo, no_policy};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "refcount",
    summary: "pure reference counting; cycles leak and the leak is measured",
    capabilities: Capabilities {
        collector: CollectorKind::None,
        back_edges: BackEdges::Strong,
        returns_blocks: true,
        collects_at_exit: false,
    },
    params: &[&IMMORTAL, &BACK_EDGES],
    build: no_policy,
};
