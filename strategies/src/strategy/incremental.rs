//! `incremental`: reference counting plus CPython 3.14.0's incremental cycle collector
//! (gh-108362; reverted in 3.14.5): past the young threshold an allocation runs one increment,
//! young plus a slice of the old space sized from the heap (`heap_size / scan-rate / 10`), after
//! a mark of everything reachable from the roots once per scavenge. A full collection runs at
//! exit. The collector itself is `heap/collector/incremental.rs`; this module only sets it up.

use super::{
    BACK_EDGES_STRONG, BackEdges, Capabilities, CollectorKind, DEFAULT_SCAN_RATE_DIVISOR, ParamError, ParamSpec,
    Params, Strategy, StrategyInfo, Tunables, back_edges_param, back_edges_value, positive_integer,
};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "incremental",
    summary: "reference counting + CPython 3.14.0's incremental cycle collector (young + increments of the old)",
    capabilities: Capabilities {
        collector: CollectorKind::Incremental,
        back_edges: BackEdges::Strong,
        returns_blocks: true,
        collects_at_exit: true,
    },
    params: &[
        ParamSpec {
            name: "threshold",
            default: "2000",
            help: "young threshold: container allocations (less deallocations) that trigger an increment (CPython 3.14: 2000)",
        },
        ParamSpec {
            name: "scan-rate",
            default: "10",
            help: "scan-rate divisor: each increment takes heap_size / scan-rate / 10 of the old space (CPython 3.14's SCAN_RATE_DIVISOR: 10)",
        },
        BACK_EDGES_STRONG,
    ],
    build,
};

/// `gc.set_threshold`'s second argument, the `scale` of the heap slice (3.14's default, 10).
const SCALE: u64 = 10;

#[derive(Debug)]
struct Incremental {
    young_threshold: u64,
    scan_rate_divisor: u64,
    back_edges: BackEdges,
}

fn build(params: &Params) -> Result<Box<dyn Strategy>, ParamError> {
    Ok(Box::new(Incremental {
        young_threshold: young_threshold_param(params)?,
        scan_rate_divisor: scan_rate_param(params)?,
        back_edges: back_edges_param(&INFO, params)?,
    }))
}

/// Reads `threshold`: the young threshold, at least 1.
fn young_threshold_param(params: &Params) -> Result<u64, ParamError> {
    let value = params.get("threshold").map_or(INFO.params[0].default, String::as_str);
    positive_integer(INFO.name, "threshold", value, " (CPython's 0 means `disabled`)")
}

/// Reads `scan-rate`: the scan-rate divisor, at least 1.
fn scan_rate_param(params: &Params) -> Result<u64, ParamError> {
    params
        .get("scan-rate")
        .map_or(Ok(DEFAULT_SCAN_RATE_DIVISOR), |value| positive_integer(INFO.name, "scan-rate", value, " (a divisor)"))
}

impl Strategy for Incremental {
    fn info(&self) -> &'static StrategyInfo {
        &INFO
    }

    fn back_edges(&self) -> BackEdges {
        self.back_edges
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![
            ("threshold".into(), self.young_threshold.to_string()),
            ("scan-rate".into(), self.scan_rate_divisor.to_string()),
            back_edges_value(self.back_edges),
        ]
    }

    fn tunables(&self) -> Tunables {
        Tunables {
            thresholds: [self.young_threshold, SCALE, 0],
            scan_rate_divisor: self.scan_rate_divisor,
            ..Tunables::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parameters_default_to_cpython_314_and_refuse_zero() {
        assert_eq!(young_threshold_param(&params(&[])).unwrap(), 2000);
        assert_eq!(scan_rate_param(&params(&[])).unwrap(), 10);
        assert_eq!(young_threshold_param(&params(&[("threshold", "700")])).unwrap(), 700);
        assert_eq!(scan_rate_param(&params(&[("scan-rate", "5")])).unwrap(), 5);
        assert!(scan_rate_param(&params(&[("scan-rate", "0")])).unwrap_err().to_string().contains("at least 1"));
        assert!(young_threshold_param(&params(&[("threshold", "0")])).is_err());
        assert!(young_threshold_param(&params(&[("threshold", "2000,10,10")])).is_err());
    }
}
