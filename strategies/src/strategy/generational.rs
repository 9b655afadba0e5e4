//! `generational`: reference counting plus CPython's generational cycle collector, triggered
//! automatically when the gen-0 count (container allocations minus deallocations) passes its
//! threshold, with CPython's rule that a full collection waits until the objects promoted since
//! the last one exceed 25% of the long-lived ones. A full collection runs at exit, as CPython's
//! does. The collector itself is in `heap/collector.rs`; this module only sets it up.

use super::{BackEdges, CollectorConfig, ParamError, ParamSpec, Params, Strategy, StrategyInfo, parse_thresholds};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "generational",
    summary: "reference counting + CPython 3.11's generational cycle collector",
    params: &[ParamSpec {
        name: "threshold",
        default: "cpython311",
        help: "generation thresholds `gen0,gen1,gen2` (e.g. 700,10,10) or a preset: cpython311 = 700,10,10, cpython313 = 2000,10,10",
    }],
    build,
};

#[derive(Debug)]
struct Generational {
    thresholds: [u64; 3],
}

fn build(params: &Params) -> Result<Box<dyn Strategy>, ParamError> {
    let value = params.get("threshold").map_or(INFO.params[0].default, String::as_str);
    Ok(Box::new(Generational { thresholds: parse_thresholds(INFO.name, value)? }))
}

impl Strategy for Generational {
    fn name(&self) -> &'static str {
        INFO.name
    }

    fn back_edges(&self) -> BackEdges {
        BackEdges::Strong
    }

    fn params(&self) -> Vec<(String, String)> {
        let [a, b, c] = self.thresholds;
        vec![("threshold".into(), format!("{a},{b},{c}"))]
    }

    fn collector(&self) -> Option<CollectorConfig> {
        Some(CollectorConfig { thresholds: self.thresholds, automatic: true })
    }

    fn collect_at_exit(&self) -> bool {
        true
    }
}
