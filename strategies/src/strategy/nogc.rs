//! `nogc`: no memory-management cost, the lower bound of the LBO method (Cai et al., "Distilling
//! the real cost of production garbage collectors", ISPASS 2022), where the cost of a strategy is
//! measured against a run that never reclaims memory.
//!
//! The program must compute what it computes under every other strategy, so death is kept and
//! only reclamation goes: an object whose refcount reaches zero dies exactly as under `refcount`
//! (its weakrefs are cleared, their callbacks and its finalizer run, the references it holds are
//! released, so its children may die in turn), but its block, a list's items and a dict's table
//! are never returned to the allocator. There is no cycle collector: cycles stay alive, as under
//! `refcount`. Memory only grows.
//!
//! What remains is work every strategy here does and that the program's meaning depends on
//! (reference counts, the moment weakref callbacks and finalizers run), not reclamation. So no
//! pause is recorded and no clock is read in a cascade: a pause is the mutator stopped to manage
//! memory, and a cascade that returns nothing is the program's own bookkeeping. A list growing
//! or shrinking still moves its items to a new block and frees the old one, as `realloc` would
//! in any runtime: that is the list's storage, not garbage.
//!
//! Figures: `live_*` counts logically live objects, as under `refcount`; the dead objects kept
//! are `retained_*` ([`crate::HeapStats`]); the leak report counts what is logically alive at
//! the end (the cycles `refcount` leaks too). Dropping the heap frees the retained blocks.

use super::{BACK_EDGES, BackEdges, Capabilities, CollectorKind, StrategyInfo, no_policy};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "nogc",
    summary: "never reclaim: objects die by refcount but no block is freed (the LBO lower bound)",
    capabilities: Capabilities {
        collector: CollectorKind::None,
        back_edges: BackEdges::Strong,
        returns_blocks: false,
        collects_at_exit: false,
    },
    params: &[&BACK_EDGES],
    build: no_policy,
};
