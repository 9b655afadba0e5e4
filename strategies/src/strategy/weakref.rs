//! `weakref`: reference counting with every back edge held as a weak reference, the idiom the
//! Python docs recommend for parent pointers. No cycle of strong references ever forms, so
//! refcounting alone frees everything; each back edge costs a weakref object (a tracked
//! container) instead. Following a back edge whose target has died is a workload bug and panics.
//! It is `refcount` with `back-edges=weak` by default; any other strategy takes that parameter
//! too (CPython's weakref idiom with the collector on is `generational back-edges=weak`).

use super::{BACK_EDGES_WEAK, BackEdges, Capabilities, CollectorKind, IMMORTAL, StrategyInfo, no_policy};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "weakref",
    summary: "reference counting with back edges held weakly, so nothing leaks",
    capabilities: Capabilities {
        collector: CollectorKind::None,
        back_edges: BackEdges::Weak,
        returns_blocks: true,
        collects_at_exit: false,
    },
    params: &[&IMMORTAL, &BACK_EDGES_WEAK],
    build: no_policy,
};
