//! `weakref`: reference counting with every back edge held as a weak reference, the idiom the
//! Python docs recommend for parent pointers. No cycle of strong references ever forms, so
//! refcounting alone frees everything; each back edge costs a weakref object (a tracked
//! container) instead. Following a back edge whose target has died is a workload bug and panics.

use super::{BackEdges, ParamError, Params, Strategy, StrategyInfo};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "weakref",
    summary: "reference counting with back edges held weakly, so nothing leaks",
    params: &[],
    build,
};

#[derive(Debug)]
struct Weakref;

fn build(_: &Params) -> Result<Box<dyn Strategy>, ParamError> {
    Ok(Box::new(Weakref))
}

impl Strategy for Weakref {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn back_edges(&self) -> BackEdges {
        BackEdges::Weak
    }
}
