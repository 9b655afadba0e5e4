//! `refcount`: pure reference counting, no cycle collector (CPython after `gc.disable()`,
//! forever). Garbage cycles are never freed; the heap's end-of-run reachability walk counts
//! them, and the run reports the leak.

use super::{BackEdges, ParamError, Params, Strategy, StrategyInfo};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "refcount",
    summary: "pure reference counting; cycles leak and the leak is measured",
    params: &[],
    build,
};

#[derive(Debug)]
struct Refcount;

fn build(_: &Params) -> Result<Box<dyn Strategy>, ParamError> {
    Ok(Box::new(Refcount))
}

impl Strategy for Refcount {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn back_edges(&self) -> BackEdges {
        BackEdges::Strong
    }
}
