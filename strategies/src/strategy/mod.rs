//! Strategies: when and how garbage is found. A strategy never changes what a workload
//! computes, only what memory management costs and what leaks.
//!
//! A strategy is a composition: back-edge storage ([`BackEdges`], the `back-edges` parameter of
//! every strategy) × a collector ([`CollectorKind`], tuned by [`Tunables`]) ×
//! a trigger (automatic thresholds, or by hand at checkpoints: [`Strategy::at_checkpoint`]).
//! What a strategy is, is data ([`Capabilities`], a const in its registry entry), so the heap's
//! hot paths are the same code for every strategy and a strategy without parameters of its own
//! is a few lines; a strategy with parameters of its own declares each once
//! ([`crate::params::Param`]) and reads them into its [`Policy`]. The registry [`STRATEGIES`]
//! lists every strategy by name with its parameters; the CLI, the tests and the result files iterate it, so a new strategy is one
//! module here plus one line in the registry.

mod generational;
mod incremental;
mod manual;
mod nogc;
mod refcount;
mod trial_deletion;
mod weakref;

use std::fmt;

use crate::params::{Choice, Defaults, Flag, Given, Owner, Param, ParamError, ParamInfo, Reader};

/// How [`crate::Heap::set_back_edge`] stores an edge that closes a cycle. Every strategy takes
/// a `back-edges` parameter ([`BACK_EDGES`]); its default is the strategy's
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

/// The CPython release whose incremental collector `incremental` models: the increment's
/// arithmetic changed in 3.14.1 (GH-140262, backported as PR #140447) and stayed so until the
/// collector was reverted in 3.14.5. `heap/collector/incremental.rs` says what differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncrementalVersion {
    /// 3.14.0.
    V3_14_0,
    /// 3.14.1 to 3.14.4.
    V3_14_1,
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
/// without parameters of its own is its [`StrategyInfo`] and nothing else ([`no_policy`]).
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
    /// Which release's increment arithmetic (incremental).
    pub incremental_version: IncrementalVersion,
    /// Collect when a threshold is passed (`gc.enable()`), or only when asked; a strategy may
    /// turn it on later ([`GcAction::FreezeAndEnable`]).
    pub automatic: bool,
}

impl Default for Tunables {
    fn default() -> Self {
        Tunables {
            thresholds: CPYTHON311_THRESHOLDS,
            roots: DEFAULT_ROOTS,
            scan_rate_divisor: DEFAULT_SCAN_RATE_DIVISOR,
            incremental_version: IncrementalVersion::V3_14_0,
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
    /// `gc.freeze()` then `gc.enable()`: CPython's recipe for a pre-fork server, whose automatic
    /// collection was off while it built its long-lived heap.
    FreezeAndEnable,
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
    fn tunables(&self) -> Tunables;

    /// Called at every checkpoint; what the heap should do there, if anything.
    fn at_checkpoint(&mut self, checkpoint: Checkpoint, info: CheckpointInfo) -> Option<GcAction>;

    /// Whether a full collection runs once the workload has returned.
    fn collect_at_exit(&self) -> bool;

    /// Whether every object alive at `startup_done` becomes immortal (the `immortal` parameter).
    fn immortal(&self) -> bool;
}

/// What one strategy decides beyond its capabilities, made by its registry entry's `build`
/// from its own parameters. The defaults are those of a strategy without parameters.
pub trait Policy: fmt::Debug {
    /// The collector's tunables.
    fn tunables(&self) -> Tunables {
        Tunables::default()
    }

    /// Called at every checkpoint; what the heap should do there, if anything.
    fn at_checkpoint(&mut self, _checkpoint: Checkpoint, _info: CheckpointInfo) -> Option<GcAction> {
        None
    }

    /// Whether a full collection runs once the workload has returned (`default`: the
    /// capabilities' `collects_at_exit`).
    fn collect_at_exit(&self, default: bool) -> bool {
        default
    }
}

/// The policy of a strategy without parameters of its own (`refcount`, `weakref`, `nogc`).
#[derive(Debug)]
struct NoPolicy;

impl Policy for NoPolicy {}

/// The `build` of a strategy without parameters of its own.
pub(super) fn no_policy(_: &mut Reader) -> Result<Box<dyn Policy>, ParamError> {
    Ok(Box::new(NoPolicy))
}

/// A strategy built from its registry entry: the parameters every strategy has, its policy,
/// and every value in force.
#[derive(Debug)]
struct Configured {
    info: &'static StrategyInfo,
    back_edges: BackEdges,
    immortal: bool,
    policy: Box<dyn Policy>,
    params: Vec<(String, String)>,
}

impl Strategy for Configured {
    fn info(&self) -> &'static StrategyInfo {
        self.info
    }

    fn back_edges(&self) -> BackEdges {
        self.back_edges
    }

    fn params(&self) -> Vec<(String, String)> {
        self.params.clone()
    }

    fn tunables(&self) -> Tunables {
        self.policy.tunables()
    }

    fn at_checkpoint(&mut self, checkpoint: Checkpoint, info: CheckpointInfo) -> Option<GcAction> {
        self.policy.at_checkpoint(checkpoint, info)
    }

    fn collect_at_exit(&self) -> bool {
        self.policy.collect_at_exit(self.info.capabilities.collects_at_exit)
    }

    fn immortal(&self) -> bool {
        self.immortal
    }
}

/// The values of the `back-edges` parameter.
const BACK_EDGES_CHOICE: Choice<BackEdges> = Choice(&[("strong", BackEdges::Strong), ("weak", BackEdges::Weak)]);

/// The `back-edges` parameter every strategy has; its default is the strategy's
/// [`Capabilities::back_edges`] (this one, or [`BACK_EDGES_WEAK`]).
pub(super) const BACK_EDGES: Param<Choice<BackEdges>> = Param::new(
    "back-edges",
    BACK_EDGES_CHOICE,
    Defaults::Fixed(BackEdges::Strong),
    "how set_back_edge stores a cycle-closing edge: strong (a counted reference) or weak (a weakref object)",
);

/// [`BACK_EDGES`] for a strategy whose back edges are weak by default.
pub(super) const BACK_EDGES_WEAK: Param<Choice<BackEdges>> =
    Param { default: Defaults::Fixed(BackEdges::Weak), ..BACK_EDGES };

/// The `immortal` parameter of every strategy whose dead objects' blocks go back to the
/// allocator ([`Capabilities::returns_blocks`]): immortality is "this object's block is never
/// returned", which says nothing under `nogc`, where no block is; and `nogc`, the LBO baseline,
/// must pay the refcount writes every other strategy pays. There it is refused.
pub(super) const IMMORTAL: Param<Flag> = Param::new(
    "immortal",
    Flag,
    Defaults::Fixed(false),
    "at startup_done every object reachable from the tracked containers becomes immortal (PEP 683): refcount operations on it write nothing, it is never freed nor examined by a collector",
);

/// A registry entry: how to find, describe and build a strategy.
pub struct StrategyInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub capabilities: Capabilities,
    /// Every parameter's declaration, in `--list` order; the shared ones ([`IMMORTAL`] where
    /// blocks are returned, [`BACK_EDGES`]) last.
    pub params: &'static [&'static dyn ParamInfo],
    pub build: Build,
}

/// Reads a strategy's own parameters (each through its declaration) and makes its policy.
pub type Build = fn(&mut Reader) -> Result<Box<dyn Policy>, ParamError>;

impl fmt::Debug for StrategyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StrategyInfo").field("name", &self.name).finish_non_exhaustive()
    }
}

impl StrategyInfo {
    /// Builds the strategy; refuses a parameter it does not have and a value it cannot use.
    pub fn build(&'static self, params: &Given) -> Result<Box<dyn Strategy>, ParamError> {
        let owner = Owner::strategy(self.name);
        if let Some(value) = params.get(IMMORTAL.name).filter(|_| !self.capabilities.returns_blocks) {
            let reason = "no block is ever freed here, so immortality means nothing; and this baseline pays every refcount write the other strategies pay";
            return Err(ParamError::invalid(owner, IMMORTAL.name, value, reason));
        }
        let mut reader = Reader::new(owner, self.params, params)?;
        let policy = (self.build)(&mut reader)?;
        let immortal = self.capabilities.returns_blocks && reader.get(&IMMORTAL)?;
        let back_edges = reader.get(self.back_edges_param())?;
        Ok(Box::new(Configured { info: self, back_edges, immortal, policy, params: reader.finish()? }))
    }

    /// The declaration of its `back-edges` parameter, whose default is its capabilities'.
    fn back_edges_param(&self) -> &'static Param<Choice<BackEdges>> {
        match self.capabilities.back_edges {
            BackEdges::Strong => &BACK_EDGES,
            BackEdges::Weak => &BACK_EDGES_WEAK,
        }
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

/// CPython 3.11 and 3.12's thresholds, the default everywhere a threshold is needed.
pub const CPYTHON311_THRESHOLDS: [u64; 3] = [700, 10, 10];

/// Named threshold sets: CPython 3.11/3.12 use (700, 10, 10), 3.13 (2000, 10, 10).
pub const THRESHOLD_PRESETS: [(&str, [u64; 3]); 2] =
    [("cpython311", CPYTHON311_THRESHOLDS), ("cpython313", [2000, 10, 10])];

/// The registered names, for error messages and `--help`.
pub fn names() -> Vec<&'static str> {
    STRATEGIES.iter().map(|s| s.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(pairs: &[(&str, &str)]) -> Given {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_strategy_lists_the_values_in_force_and_its_own_back_edge_default() {
        for info in STRATEGIES {
            let built = info.build(&Given::new()).unwrap();
            let listed: Vec<&str> = info.params.iter().map(|p| p.name()).collect();
            let in_force: Vec<String> = built.params().into_iter().map(|(name, _)| name).collect();
            assert!(in_force.iter().all(|name| listed.contains(&name.as_str())), "{}: {in_force:?}", info.name);
            let declared = info.params.iter().find(|p| p.name() == BACK_EDGES.name).expect("back-edges declared");
            assert_eq!(declared.default_text(), info.capabilities.back_edges.name(), "{}", info.name);
            assert_eq!(built.back_edges(), info.capabilities.back_edges);
        }
        let weak = find("refcount").unwrap().build(&given(&[("back-edges", "weak")])).unwrap();
        let in_force = [("immortal", "false"), ("back-edges", "weak")].map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(weak.params(), in_force);
        let error = find("nogc").unwrap().build(&given(&[("back-edges", "soft")])).unwrap_err().to_string();
        assert_eq!(error, "strategy `nogc`: parameter `back-edges` = `soft`: expected strong or weak");
    }

    #[test]
    fn immortal_is_offered_wherever_blocks_are_returned_and_refused_under_nogc() {
        for info in STRATEGIES {
            let offered = info.params.iter().any(|p| p.name() == IMMORTAL.name);
            assert_eq!(offered, info.capabilities.returns_blocks, "{}", info.name);
            let built = info.build(&given(&[("immortal", "true")]));
            match built {
                Ok(strategy) => {
                    assert!(strategy.immortal() && strategy.params().contains(&("immortal".into(), "true".into())))
                }
                Err(e) => assert!(
                    e.to_string()
                        .starts_with("strategy `nogc`: parameter `immortal` = `true`: no block is ever freed here"),
                    "{e}"
                ),
            }
            assert!(!info.build(&Given::new()).unwrap().immortal());
        }
    }

    #[test]
    fn manual_reads_its_own_parameters_and_lists_them() {
        let manual = find("manual").unwrap().build(&given(&[("every", "5"), ("exit-collect", "false")])).unwrap();
        let shown: Vec<String> = manual.params().into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            shown,
            ["freeze=true", "every=5", "live-bytes=0", "exit-collect=false", "immortal=false", "back-edges=strong"]
        );
        assert!(!manual.collect_at_exit());
        let unknown = find("manual").unwrap().build(&given(&[("evry", "5")])).unwrap_err().to_string();
        assert!(unknown.contains(
            "has no parameter `evry` (it accepts: freeze, every, live-bytes, exit-collect, immortal, back-edges)"
        ));
    }
}
