//! `incremental`: reference counting plus CPython 3.14.0's incremental cycle collector
//! (gh-108362; reverted in 3.14.5): past the young threshold an allocation runs one increment,
//! young plus a slice of the old space sized from the heap (`heap_size / scan-rate / 10`), after
//! a mark of everything reachable from the roots once per scavenge. A full collection runs at
//! exit. `version=3.14.1` gives the arithmetic of 3.14.1–3.14.4 instead. The collector itself is `heap/collector/incremental.rs`; this module only sets it up.

use super::{
    BACK_EDGES, BackEdges, Capabilities, CollectorKind, DEFAULT_SCAN_RATE_DIVISOR, IMMORTAL, IncrementalVersion,
    Policy, StrategyInfo, Tunables,
};
use crate::params::{Choice, Defaults, Int, Param, ParamError, Reader};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "incremental",
    summary: "reference counting + CPython 3.14.0's incremental cycle collector (young + increments of the old)",
    capabilities: Capabilities {
        collector: CollectorKind::Incremental,
        back_edges: BackEdges::Strong,
        returns_blocks: true,
        collects_at_exit: true,
    },
    params: &[&THRESHOLD, &SCAN_RATE, &VERSION, &IMMORTAL, &BACK_EDGES],
    build,
};

/// CPython 3.14's young threshold (`gc.get_threshold()[0]`).
const CPYTHON314_YOUNG_THRESHOLD: u64 = 2000;

const THRESHOLD: Param<Int<u64>> = Param::new(
    "threshold",
    Int::at_least(1),
    Defaults::Fixed(CPYTHON314_YOUNG_THRESHOLD),
    "young threshold: container allocations (less deallocations) that trigger an increment (CPython 3.14: 2000; its 0 means `disabled`)",
);

const SCAN_RATE: Param<Int<u64>> = Param::new(
    "scan-rate",
    Int::at_least(1),
    Defaults::Fixed(DEFAULT_SCAN_RATE_DIVISOR),
    "scan-rate divisor: each increment takes heap_size / scan-rate / 10 of the old space (CPython 3.14's SCAN_RATE_DIVISOR: 10)",
);

const VERSION: Param<Choice<IncrementalVersion>> = Param::new(
    "version",
    Choice(&[("3.14.0", IncrementalVersion::V3_14_0), ("3.14.1", IncrementalVersion::V3_14_1)]),
    Defaults::Fixed(IncrementalVersion::V3_14_0),
    "3.14.0, or 3.14.1 for 3.14.1–3.14.4 (GH-140262: an increment returns at once while the budget is negative, young included; the heap slice capped at 2× young, not added again after the increment)",
);

/// `gc.set_threshold`'s second argument, the `scale` of the heap slice (3.14's default, 10).
const SCALE: u64 = 10;

#[derive(Debug)]
struct Incremental {
    young_threshold: u64,
    scan_rate_divisor: u64,
    version: IncrementalVersion,
}

fn build(r: &mut Reader) -> Result<Box<dyn Policy>, ParamError> {
    Ok(Box::new(Incremental {
        young_threshold: r.get(&THRESHOLD)?,
        scan_rate_divisor: r.get(&SCAN_RATE)?,
        version: r.get(&VERSION)?,
    }))
}

impl Policy for Incremental {
    fn tunables(&self) -> Tunables {
        Tunables {
            thresholds: [self.young_threshold, SCALE, 0],
            scan_rate_divisor: self.scan_rate_divisor,
            incremental_version: self.version,
            ..Tunables::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Given;

    fn tunables(pairs: &[(&str, &str)]) -> Result<Tunables, ParamError> {
        let given: Given = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        crate::strategy::find(INFO.name).expect("registered").build(&given).map(|s| s.tunables())
    }

    #[test]
    fn parameters_default_to_cpython_314_and_refuse_zero() {
        let defaults = tunables(&[]).unwrap();
        assert_eq!((defaults.thresholds[0], defaults.scan_rate_divisor), (2000, 10));
        assert_eq!(tunables(&[("threshold", "700")]).unwrap().thresholds[0], 700);
        assert_eq!(tunables(&[("scan-rate", "5")]).unwrap().scan_rate_divisor, 5);
        assert!(tunables(&[("scan-rate", "0")]).unwrap_err().to_string().contains("at least 1"));
        assert!(tunables(&[("threshold", "0")]).is_err());
        assert!(tunables(&[("threshold", "2000,10,10")]).is_err());
        assert_eq!(defaults.incremental_version, IncrementalVersion::V3_14_0);
        assert_eq!(tunables(&[("version", "3.14.1")]).unwrap().incremental_version, IncrementalVersion::V3_14_1);
        assert!(tunables(&[("version", "3.14.5")]).unwrap_err().to_string().contains("3.14.0 or 3.14.1"));
    }
}
