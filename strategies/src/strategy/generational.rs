//! `generational`: reference counting plus CPython's generational cycle collector, triggered
//! automatically when the gen-0 count (container allocations minus deallocations) passes its
//! threshold, with CPython's rule that a full collection waits until the objects promoted since
//! the last one exceed 25% of the long-lived ones. A full collection runs at exit, as CPython's
//! does. The collector itself is in `heap/collector.rs`; this module only sets it up.

use super::{
    BACK_EDGES_STRONG, BackEdges, Capabilities, CollectorKind, ParamError, ParamSpec, Params, Strategy, StrategyInfo,
    Tunables, back_edges_param, back_edges_value, parse_thresholds, positive_integer,
};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "generational",
    summary: "reference counting + CPython 3.11's generational cycle collector",
    capabilities: Capabilities {
        collector: CollectorKind::Generational,
        back_edges: BackEdges::Strong,
        returns_blocks: true,
        collects_at_exit: true,
    },
    params: &[
        ParamSpec {
            name: "threshold",
            default: "cpython311",
            help: "generation thresholds `gen0,gen1,gen2` (e.g. 700,10,10) or a preset: cpython311 = 700,10,10, cpython313 = 2000,10,10",
        },
        ParamSpec {
            name: "threshold0",
            default: "from threshold",
            help: "gen-0 threshold alone (overrides threshold's)",
        },
        ParamSpec {
            name: "threshold1",
            default: "from threshold",
            help: "gen-1 threshold alone (overrides threshold's)",
        },
        ParamSpec {
            name: "threshold2",
            default: "from threshold",
            help: "gen-2 threshold alone (overrides threshold's)",
        },
        BACK_EDGES_STRONG,
    ],
    build,
};

/// The one-generation parameters: experiments sweep them as separate axes.
const SINGLE_THRESHOLDS: [&str; 3] = ["threshold0", "threshold1", "threshold2"];

#[derive(Debug)]
struct Generational {
    thresholds: [u64; 3],
    back_edges: BackEdges,
}

fn build(params: &Params) -> Result<Box<dyn Strategy>, ParamError> {
    Ok(Box::new(Generational { thresholds: thresholds_param(params)?, back_edges: back_edges_param(&INFO, params)? }))
}

/// Reads `threshold`, then lets `threshold0..2` override single generations.
fn thresholds_param(params: &Params) -> Result<[u64; 3], ParamError> {
    let value = params.get("threshold").map_or(INFO.params[0].default, String::as_str);
    let mut thresholds = parse_thresholds(INFO.name, value)?;
    for (generation, name) in SINGLE_THRESHOLDS.iter().enumerate() {
        if let Some(value) = params.get(*name) {
            let hint = " (0 would mean `disabled`: use `manual`)";
            thresholds[generation] = positive_integer(INFO.name, name, value, hint)?;
        }
    }
    Ok(thresholds)
}

impl Strategy for Generational {
    fn info(&self) -> &'static StrategyInfo {
        &INFO
    }

    fn back_edges(&self) -> BackEdges {
        self.back_edges
    }

    fn params(&self) -> Vec<(String, String)> {
        let [a, b, c] = self.thresholds;
        vec![("threshold".into(), format!("{a},{b},{c}")), back_edges_value(self.back_edges)]
    }

    fn tunables(&self) -> Tunables {
        Tunables { thresholds: self.thresholds, ..Tunables::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thresholds(pairs: &[(&str, &str)]) -> Result<[u64; 3], ParamError> {
        let params: Params = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        thresholds_param(&params)
    }

    #[test]
    fn single_generation_thresholds_override_the_triple() {
        assert_eq!(thresholds(&[]).unwrap(), [700, 10, 10]);
        assert_eq!(thresholds(&[("threshold0", "100")]).unwrap(), [100, 10, 10]);
        assert_eq!(thresholds(&[("threshold", "cpython313"), ("threshold2", "5")]).unwrap(), [2000, 10, 5]);
        assert!(thresholds(&[("threshold1", "0")]).unwrap_err().to_string().contains("at least 1"));
        assert!(thresholds(&[("threshold1", "ten")]).is_err());
    }
}
