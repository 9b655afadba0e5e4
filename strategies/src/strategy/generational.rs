//! `generational`: reference counting plus CPython's generational cycle collector, triggered
//! automatically when the gen-0 count (container allocations minus deallocations) passes its
//! threshold, with CPython's rule that a full collection waits until the objects promoted since
//! the last one exceed 25% of the long-lived ones. A full collection runs at exit, as CPython's
//! does. With `freeze=true` it follows the recipe of CPython's gc docs for a pre-fork server:
//! automatic collection off while the long-lived heap is built, `gc.freeze()` at
//! `startup_done` (the frozen objects are never examined again, nor their garbage collected),
//! then automatic collection on with the same thresholds. A workload that never announces
//! `startup_done` then never collects automatically. The collector itself is in
//! `heap/collector/generational.rs`; this module only sets it up.

use super::{
    BACK_EDGES, BackEdges, Capabilities, Checkpoint, CheckpointInfo, CollectorKind, GcAction, IMMORTAL, Policy,
    StrategyInfo, THRESHOLD_PRESETS, Tunables,
};
use crate::params::{Defaults, Flag, Int, Ints, Optional, Param, ParamError, Reader};

pub(super) const INFO: StrategyInfo = StrategyInfo {
    name: "generational",
    summary: "reference counting + CPython 3.11's generational cycle collector",
    capabilities: Capabilities {
        collector: CollectorKind::Generational,
        back_edges: BackEdges::Strong,
        returns_blocks: true,
        collects_at_exit: true,
    },
    params: &[&THRESHOLD, &THRESHOLD0, &THRESHOLD1, &THRESHOLD2, &FREEZE, &IMMORTAL, &BACK_EDGES],
    build,
};

/// `gen0,gen1,gen2` or a preset; 0 (CPython's `disabled`) is refused: that is `manual`.
const THRESHOLD: Param<Ints<3>> = Param::new(
    "threshold",
    Ints { labels: ["gen0", "gen1", "gen2"], separator: ',', each: Int::at_least(1), presets: &THRESHOLD_PRESETS },
    Defaults::Fixed(THRESHOLD_PRESETS[0].1),
    "generation thresholds `gen0,gen1,gen2`, or a preset: cpython311 (3.11, 3.12), cpython313 (0 would mean `disabled`: use `manual`)",
);

/// One generation's threshold alone, overriding `threshold`'s: experiments sweep them as
/// separate axes.
const fn single_threshold(name: &'static str, help: &'static str) -> Param<Optional<Int<u64>>> {
    Param::new(name, Optional { inner: Int::at_least(1), absent: "from threshold" }, Defaults::Fixed(None), help)
}

const THRESHOLD0: Param<Optional<Int<u64>>> =
    single_threshold("threshold0", "gen-0 threshold alone (overrides threshold's)");
const THRESHOLD1: Param<Optional<Int<u64>>> =
    single_threshold("threshold1", "gen-1 threshold alone (overrides threshold's)");
const THRESHOLD2: Param<Optional<Int<u64>>> =
    single_threshold("threshold2", "gen-2 threshold alone (overrides threshold's)");

const FREEZE: Param<Flag> = Param::new(
    "freeze",
    Flag,
    Defaults::Fixed(false),
    "automatic collection off until startup_done, then gc.freeze() and gc.enable() (CPython's pre-fork recipe)",
);

#[derive(Debug)]
struct Generational {
    thresholds: [u64; 3],
    freeze: bool,
}

fn build(r: &mut Reader) -> Result<Box<dyn Policy>, ParamError> {
    Ok(Box::new(Generational { thresholds: thresholds_param(r)?, freeze: r.get(&FREEZE)? }))
}

/// Reads `threshold`, then lets `threshold0..2` override single generations.
fn thresholds_param(r: &mut Reader) -> Result<[u64; 3], ParamError> {
    let mut thresholds = r.get(&THRESHOLD)?;
    for (slot, single) in thresholds.iter_mut().zip([&THRESHOLD0, &THRESHOLD1, &THRESHOLD2]) {
        if let Some(value) = r.get(single)? {
            *slot = value;
        }
    }
    Ok(thresholds)
}

impl Policy for Generational {
    fn tunables(&self) -> Tunables {
        Tunables { thresholds: self.thresholds, automatic: !self.freeze, ..Tunables::default() }
    }

    fn at_checkpoint(&mut self, checkpoint: Checkpoint, _info: CheckpointInfo) -> Option<GcAction> {
        (self.freeze && checkpoint == Checkpoint::StartupDone).then_some(GcAction::FreezeAndEnable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Given;

    fn thresholds(pairs: &[(&str, &str)]) -> Result<[u64; 3], ParamError> {
        let given: Given = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        crate::strategy::find(INFO.name).expect("registered").build(&given).map(|s| s.tunables().thresholds)
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
