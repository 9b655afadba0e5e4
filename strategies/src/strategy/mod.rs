//! Strategies: when and how garbage is found. A strategy never changes what a workload
//! computes, only what memory management costs and what leaks.
//!
//! What a strategy can do is data ([`BackEdges`]) plus hooks at slow paths, so the heap's hot
//! paths are the same code for every strategy. The registry [`STRATEGIES`] lists every strategy
//! by name with its parameters; the CLI, the tests and the result files iterate it, so a new
//! strategy is one module here plus one line in the registry.

mod generational;
mod manual;
mod nogc;
mod refcount;
mod weakref;

use std::collections::BTreeMap;
use std::fmt;

/// How [`crate::Heap::set_back_edge`] stores an edge that closes a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackEdges {
    /// A counted reference, like any other.
    Strong,
    /// A weak reference; refcounting alone then frees every structure.
    Weak,
}

/// How the cycle collector runs under a strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CollectorConfig {
    /// Generation thresholds (CPython's `gc.set_threshold`).
    pub thresholds: [u64; 3],
    /// Collect when gen 0's count passes its threshold (`gc.enable()`), or only on request.
    pub automatic: bool,
}

/// A point in the workload's life that it announces, where a strategy may act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkpoint {
    /// The long-lived heap is built.
    StartupDone,
    /// One more unit of work (a request, a tree) is finished.
    RequestDone,
}

/// What the heap knows at a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointInfo {
    pub requests_done: u64,
    /// Bytes of live objects, list items and dict tables included.
    pub live_bytes: u64,
}

/// What a strategy asks the heap to do at a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcAction {
    /// `gc.freeze()`.
    Freeze,
    /// `gc.collect(generation)`.
    Collect(usize),
}

/// A memory-management strategy, built from the registry with its parameters.
pub trait Strategy: fmt::Debug {
    /// The registry name.
    fn name(&self) -> &'static str;

    fn back_edges(&self) -> BackEdges;

    /// Every parameter with the value in force (defaults filled in), for result files; none
    /// for strategies without parameters.
    fn params(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The cycle collector's settings; `None` for strategies that rely on refcounting alone.
    fn collector(&self) -> Option<CollectorConfig> {
        None
    }

    /// Called at every checkpoint; what the heap should do there, if anything.
    fn at_checkpoint(&mut self, _checkpoint: Checkpoint, _info: CheckpointInfo) -> Option<GcAction> {
        None
    }

    /// Whether the blocks of dead objects go back to the allocator. `false` only for `nogc`:
    /// objects still die (weakrefs cleared, callbacks and finalizers run, references released),
    /// but their blocks are kept until the heap is dropped.
    fn returns_blocks(&self) -> bool {
        true
    }

    /// Whether a full collection runs once the workload has returned, before leaks are counted
    /// (CPython collects at interpreter exit).
    fn collect_at_exit(&self) -> bool {
        false
    }
}

/// A parameter a strategy accepts.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// Parameter values given by the user, by name.
pub type Params = BTreeMap<String, String>;

/// A parameter the strategy does not know, or a value it cannot use.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamError {
    #[error("strategy `{strategy}` has no parameter `{name}` (it accepts: {accepted})")]
    Unknown { strategy: &'static str, name: String, accepted: String },
    #[error("strategy `{strategy}`: parameter `{name}` = `{value}`: {reason}")]
    Invalid { strategy: &'static str, name: String, value: String, reason: String },
}

/// A registry entry: how to find, describe and build a strategy.
pub struct StrategyInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
    pub build: fn(&Params) -> Result<Box<dyn Strategy>, ParamError>,
}

impl StrategyInfo {
    /// Builds the strategy after checking that every given parameter is one it accepts.
    pub fn build(&self, params: &Params) -> Result<Box<dyn Strategy>, ParamError> {
        if let Some(unknown) = params.keys().find(|k| !self.params.iter().any(|p| p.name == k.as_str())) {
            let accepted: Vec<&str> = self.params.iter().map(|p| p.name).collect();
            return Err(ParamError::Unknown {
                strategy: self.name,
                name: unknown.clone(),
                accepted: if accepted.is_empty() { "none".into() } else { accepted.join(", ") },
            });
        }
        (self.build)(params)
    }
}

/// Every strategy, in the order results list them.
pub static STRATEGIES: &[StrategyInfo] = &[refcount::INFO, weakref::INFO, generational::INFO, manual::INFO, nogc::INFO];

/// The registry entry named `name`.
pub fn find(name: &str) -> Option<&'static StrategyInfo> {
    STRATEGIES.iter().find(|s| s.name == name)
}

/// Parses a `threshold` value, `gen0,gen1,gen2` or a preset name (`cpython311`, `cpython313`).
pub fn parse_thresholds(strategy: &'static str, value: &str) -> Result<[u64; 3], ParamError> {
    let invalid = |reason: &str| ParamError::Invalid {
        strategy,
        name: "threshold".into(),
        value: value.into(),
        reason: reason.into(),
    };
    if let Some((_, thresholds)) = THRESHOLD_PRESETS.iter().find(|(name, _)| *name == value) {
        return Ok(*thresholds);
    }
    let parts: Vec<&str> = value.split(',').collect();
    let presets: Vec<&str> = THRESHOLD_PRESETS.iter().map(|(n, _)| *n).collect();
    let expected = format!("expected three integers `gen0,gen1,gen2` or a preset ({})", presets.join(", "));
    if parts.len() != 3 {
        return Err(invalid(&expected));
    }
    let mut thresholds = [0; 3];
    for (slot, part) in thresholds.iter_mut().zip(parts) {
        *slot = part.trim().parse().map_err(|_| invalid(&expected))?;
    }
    if thresholds.contains(&0) {
        return Err(invalid(
            "every threshold must be at least 1 (CPython's 0 means `disabled`: use the `manual` strategy)",
        ));
    }
    Ok(thresholds)
}

/// Named threshold sets: CPython 3.11/3.12 use (700, 10, 10), 3.13 (2000, 10, 10).
pub const THRESHOLD_PRESETS: [(&str, [u64; 3]); 2] = [("cpython311", [700, 10, 10]), ("cpython313", [2000, 10, 10])];

/// Reads a parameter, or its default, and parses it.
pub(crate) fn param<T: std::str::FromStr>(
    strategy: &'static str,
    params: &Params,
    name: &str,
    default: &str,
) -> Result<T, ParamError>
where
    T::Err: fmt::Display,
{
    let value = params.get(name).map_or(default, String::as_str);
    value.parse().map_err(|e: T::Err| ParamError::Invalid {
        strategy,
        name: name.into(),
        value: value.into(),
        reason: e.to_string(),
    })
}

/// The registered names, for error messages and `--help`.
pub fn names() -> Vec<&'static str> {
    STRATEGIES.iter().map(|s| s.name).collect()
}
