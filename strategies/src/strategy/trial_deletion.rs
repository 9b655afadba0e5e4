//! `trial-deletion`: reference counting plus Bacon and Rajan's synchronous cycle collection
//! ("Concurrent Cycle Collection in Reference Counted Systems", ECOOP 2001, section 3), as PHP's
//! collector has used it since 5.3 (`Zend/zend_gc.c`). A decrement that leaves a container's
//! count above zero buffers it as a possible root; once `roots` are buffered, the next container
//! allocation collects: MarkRoots, ScanRoots, CollectRoots. No generations: the cost is that of
//! the subgraphs the buffered roots reach. A full collection runs at exit. The collector itself
//! is `heap/collector/trial_deletion.rs`; this module only sets it up.

use super::{
    BACK_EDGES, BackEdges, Capabilities, CollectorKind, DEFAULT_ROOTS, IMMORTAL, Policy, StrategyInfo, Tunables,
};
use crate::params::{Defaults, Int, Param, ParamError, Reader};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "trial-deletion",
    summary: "reference counting + Bacon-Rajan trial deletion of buffered possible roots (PHP's collector)",
    capabilities: Capabilities {
        collector: CollectorKind::TrialDeletion,
        back_edges: BackEdges::Strong,
        returns_blocks: true,
        collects_at_exit: true,
    },
    params: &[&ROOTS, &IMMORTAL, &BACK_EDGES],
    build,
};

const ROOTS: Param<Int<u64>> = Param::new(
    "roots",
    Int::at_least(1),
    Defaults::Fixed(DEFAULT_ROOTS),
    "possible roots buffered before a collection (PHP's GC_THRESHOLD_DEFAULT: 10000)",
);

#[derive(Debug)]
struct TrialDeletion {
    roots: u64,
}

fn build(r: &mut Reader) -> Result<Box<dyn Policy>, ParamError> {
    Ok(Box::new(TrialDeletion { roots: r.get(&ROOTS)? }))
}

impl Policy for TrialDeletion {
    fn tunables(&self) -> Tunables {
        Tunables { roots: self.roots, ..Tunables::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Given;

    fn roots(pairs: &[(&str, &str)]) -> Result<u64, ParamError> {
        let given: Given = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        crate::strategy::find(INFO.name).expect("registered").build(&given).map(|s| s.tunables().roots)
    }

    #[test]
    fn roots_default_to_php_and_refuse_zero() {
        assert_eq!(roots(&[]).unwrap(), 10_000);
        assert_eq!(roots(&[("roots", "64")]).unwrap(), 64);
        assert!(roots(&[("roots", "0")]).unwrap_err().to_string().contains("at least 1"));
        assert!(roots(&[("roots", "many")]).is_err());
    }
}
