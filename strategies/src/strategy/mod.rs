//! Strategies: when and how garbage is found. A strategy never changes what a workload
//! computes, only what memory management costs and what leaks.
//!
//! A strategy is a composition: back-edge storage ([`BackEdges`], the `back-edges` parameter of
//! every strategy) × a collector ([`CollectorKind`], tuned by [`Tunables`]) ×
//! a trigger (automatic thresholds, or by hand at checkpoints: [`Strategy::at_checkpoint`]).
//! What a strategy is, is data ([`Capabilities`], a const in its registry entry), so the heap's
//! hot paths are the same code for every strategy and a strategy without parameters of its own
//! is a few lines. The registry [`STRATEGIES`] lists every strategy by name with its
//! parameters; the CLI, the tests and the result files iterate it, so a new strategy is one
//! module here plus one line in the registry.

mod generational;
mod incremental;
mod manual;
mod nogc;
mod refcount;
mod trial_deletion;
mod weakref;

use std::collections::BTreeMap;
use std::fmt;

/// How [`crate::Heap::set_back_edge`] stores an edge that closes a cycle. Every strategy takes
/// a `back-edges` parameter ([`back_edges_param`]); its default is the strategy's
/// [`Capabilities::back_edges`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackEdges {
    /// A counted reference, like any other.
    Strong,
    /// A weak reference (a weakref object, itself a tracked container): refcounting alone frees
    /// every structure whose only cycles are back edges; the collector still sees the weakrefs.
    Weak,
}

impl BackEdges {
    pub fn name(self) -> &'static str {
        match self {
            BackEdges::Strong => "strong",
            BackEdges::Weak => "weak",
        }
    }
}

/// Which cycle collector a strategy runs. Each is one module of `heap/collector/` (its phases,
/// what it needs from the hot path, its parameters); see docs/ARCHITECTURE.md, "Collectors as
/// plug-ins".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollectorKind {
    /// Reference counting alone; `Heap::collect` still runs CPython's collector when asked
    /// directly (as `gc.collect()` works after `gc.disable()`), the program's own requests do not.
    None,
    /// CPython 3.11's generational collector.
    Generational,
    /// CPython 3.14.0's incremental collector (a young generation plus increments of the old).
    Incremental,
    /// Bacon and Rajan's synchronous trial deletion (PHP's collector).
    TrialDeletion,
}

/// What a strategy is, as data (mmtk's `PlanConstraints`): the heap reads it once. A strategy
/// without parameters of its own is its [`StrategyInfo`] and nothing else ([`simple`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub collector: CollectorKind,
    /// The default of the `back-edges` parameter.
    pub back_edges: BackEdges,
    /// Dead objects' blocks go back to the allocator; `false` only for `nogc`, where objects
    /// still die (weakrefs cleared, callbacks and finalizers run, references released) but their
    /// blocks are kept until the heap is dropped.
    pub returns_blocks: bool,
    /// A full collection runs once the workload has returned, before leaks are counted (CPython
    /// collects at interpreter exit).
    pub collects_at_exit: bool,
}

/// The collector's tunables, each defined once here; a collector reads those it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tunables {
    /// Generation thresholds (CPython's `gc.set_threshold`; generational).
    pub thresholds: [u64; 3],
    /// Possible roots buffered before a collection (trial deletion; PHP's `GC_THRESHOLD_DEFAULT`).
    pub roots: u64,
    /// Each increment takes `heap_size / scan_rate_divisor / thresholds[1]` of the old space
    /// (incremental; CPython 3.14's `SCAN_RATE_DIVISOR`).
    pub scan_rate_divisor: u64,
    /// Collect when a threshold is passed (`gc.enable()`), or only when asked.
    pub automatic: bool,
}

impl Default for Tunables {
    fn default() -> Self {
        Tunables {
            thresholds: CPYTHON311_THRESHOLDS,
            roots: DEFAULT_ROOTS,
            scan_rate_divisor: DEFAULT_SCAN_RATE_DIVISOR,
            automatic: true,
        }
    }
}

/// PHP's root-buffer size (`GC_THRESHOLD_DEFAULT`, 10,000 since PHP 7.3).
pub const DEFAULT_ROOTS: u64 = 10_000;

/// CPython 3.14's `SCAN_RATE_DIVISOR`.
pub const DEFAULT_SCAN_RATE_DIVISOR: u64 = 10;

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
    /// The registry entry it was built from.
    fn info(&self) -> &'static StrategyInfo;

    /// The registry name.
    fn name(&self) -> &'static str {
        self.info().name
    }

    /// What it is: its registry entry's capabilities.
    fn capabilities(&self) -> Capabilities {
        self.info().capabilities
    }

    /// The back-edge storage in force (the `back-edges` parameter).
    fn back_edges(&self) -> BackEdges;

    /// Every parameter with the value in force (defaults filled in), for result files.
    fn params(&self) -> Vec<(String, String)>;

    /// The collector's tunables.
    fn tunables(&self) -> Tunables {
        Tunables::default()
    }

    /// Called at every checkpoint; what the heap should do there, if anything.
    fn at_checkpoint(&mut self, _checkpoint: Checkpoint, _info: CheckpointInfo) -> Option<GcAction> {
        None
    }

    /// Whether a full collection runs once the workload has returned.
    fn collect_at_exit(&self) -> bool {
        self.capabilities().collects_at_exit
    }
}

/// A strategy that is its capabilities plus the `back-edges` parameter: `refcount`, `weakref`,
/// `nogc`.
#[derive(Debug)]
struct Simple {
    info: &'static StrategyInfo,
    back_edges: BackEdges,
}

impl Strategy for Simple {
    fn info(&self) -> &'static StrategyInfo {
        self.info
    }

    fn back_edges(&self) -> BackEdges {
        self.back_edges
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![back_edges_value(self.back_edges)]
    }
}

/// Builds a [`Simple`] strategy from its registry entry.
pub(super) fn simple(info: &'static StrategyInfo, params: &Params) -> Result<Box<dyn Strategy>, ParamError> {
    Ok(Box::new(Simple { info, back_edges: back_edges_param(info, params)? }))
}

/// The `back-edges` parameter every strategy accepts, default strong.
pub(super) const BACK_EDGES_STRONG: ParamSpec = ParamSpec {
    name: "back-edges",
    default: "strong",
    help: "how set_back_edge stores a cycle-closing edge: strong (a counted reference) or weak (a weakref object)",
};

/// The `back-edges` parameter of a strategy whose back edges are weak by default.
pub(super) const BACK_EDGES_WEAK: ParamSpec = ParamSpec { default: "weak", ..BACK_EDGES_STRONG };

/// Reads the `back-edges` parameter (default: the strategy's capabilities).
pub(super) fn back_edges_param(info: &'static StrategyInfo, params: &Params) -> Result<BackEdges, ParamError> {
    match params.get(BACK_EDGES_STRONG.name).map(String::as_str) {
        None => Ok(info.capabilities.back_edges),
        Some("strong") => Ok(BackEdges::Strong),
        Some("weak") => Ok(BackEdges::Weak),
        Some(other) => Err(ParamError::Invalid {
            strategy: info.name,
            name: BACK_EDGES_STRONG.name.into(),
            value: other.into(),
            reason: "expected `strong` or `weak`".into(),
        }),
    }
}

/// The `back-edges` parameter's value, for [`Strategy::params`].
pub(super) fn back_edges_value(back_edges: BackEdges) -> (String, String) {
    (BACK_EDGES_STRONG.name.into(), back_edges.name().into())
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
    pub capabilities: Capabilities,
    pub params: &'static [ParamSpec],
    pub build: fn(&Params) -> Result<Box<dyn Strategy>, ParamError>,
}

impl fmt::Debug for StrategyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StrategyInfo").field("name", &self.name).finish_non_exhaustive()
    }
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
pub static STRATEGIES: &[StrategyInfo] = &[
    refcount::INFO,
    weakref::INFO,
    generational::INFO,
    manual::INFO,
    incremental::INFO,
    trial_deletion::INFO,
    nogc::INFO,
];

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

/// CPython 3.11 and 3.12's thresholds, the default everywhere a threshold is needed.
pub const CPYTHON311_THRESHOLDS: [u64; 3] = [700, 10, 10];

/// Named threshold sets: CPython 3.11/3.12 use (700, 10, 10), 3.13 (2000, 10, 10).
pub const THRESHOLD_PRESETS: [(&str, [u64; 3]); 2] =
    [("cpython311", CPYTHON311_THRESHOLDS), ("cpython313", [2000, 10, 10])];

/// Parses a parameter that must be an integer of at least 1; `hint` ends the error message.
pub(super) fn positive_integer(strategy: &'static str, name: &str, value: &str, hint: &str) -> Result<u64, ParamError> {
    match value.trim().parse::<u64>() {
        Ok(number) if number > 0 => Ok(number),
        _ => Err(ParamError::Invalid {
            strategy,
            name: name.into(),
            value: value.into(),
            reason: format!("expected an integer of at least 1{hint}"),
        }),
    }
}

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
