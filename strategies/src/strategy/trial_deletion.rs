//! `trial-deletion`: reference counting plus Bacon and Rajan's synchronous cycle collection
//! ("Concurrent Cycle Collection in Reference Counted Systems", ECOOP 2001, section 3), as PHP's
//! collector has used it since 5.3 (`Zend/zend_gc.c`). A decrement that leaves a container's
//! count above zero buffers it as a possible root; once `roots` are buffered, the next container
//! allocation collects: MarkRoots, ScanRoots, CollectRoots. No generations: the cost is that of
//! the subgraphs the buffered roots reach. A full collection runs at exit. The collector itself
//! is `heap/collector/trial_deletion.rs`; this module only sets it up.

use super::{
    BACK_EDGES_STRONG, BackEdges, Capabilities, CollectorKind, DEFAULT_ROOTS, ParamError, ParamSpec, Params, Strategy,
    StrategyInfo, Tunables, back_edges_param, back_edges_value, positive_integer,
};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "trial-deletion",
    summary: "reference counting + Bacon-Rajan trial deletion of buffered possible roots (PHP's collector)",
    capabilities: Capabilities {
        collector: CollectorKind::TrialDeletion,
        back_edges: BackEdges::Strong,
        returns_blocks: true,
        collects_at_exit: true,
    },
    params: &[
        ParamSpec {
            name: "roots",
            default: "10000",
            help: "possible roots buffered before a collection (PHP's GC_THRESHOLD_DEFAULT: 10000)",
        },
        BACK_EDGES_STRONG,
    ],
    build,
};

#[derive(Debug)]
struct TrialDeletion {
    roots: u64,
    back_edges: BackEdges,
}

fn build(params: &Params) -> Result<Box<dyn Strategy>, ParamError> {
    Ok(Box::new(TrialDeletion { roots: roots_param(params)?, back_edges: back_edges_param(&INFO, params)? }))
}

/// Reads `roots`: a buffer size of at least 1.
fn roots_param(params: &Params) -> Result<u64, ParamError> {
    params.get("roots").map_or(Ok(DEFAULT_ROOTS), |value| positive_integer(INFO.name, "roots", value, ""))
}

impl Strategy for TrialDeletion {
    fn info(&self) -> &'static StrategyInfo {
        &INFO
    }

    fn back_edges(&self) -> BackEdges {
        self.back_edges
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![("roots".into(), self.roots.to_string()), back_edges_value(self.back_edges)]
    }

    fn tunables(&self) -> Tunables {
        Tunables { roots: self.roots, ..Tunables::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(pairs: &[(&str, &str)]) -> Result<u64, ParamError> {
        roots_param(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn roots_default_to_php_and_refuse_zero() {
        assert_eq!(roots(&[]).unwrap(), 10_000);
        assert_eq!(roots(&[("roots", "64")]).unwrap(), 64);
        assert!(roots(&[("roots", "0")]).unwrap_err().to_string().contains("at least 1"));
        assert!(roots(&[("roots", "many")]).is_err());
    }
}
