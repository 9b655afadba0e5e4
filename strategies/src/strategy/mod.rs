//! Strategies: when and how garbage is found. A strategy never changes what a workload
//! computes, only what memory management costs and what leaks.
//!
//! What a strategy can do is data ([`BackEdges`]) plus hooks at slow paths, so the heap's hot
//! paths are the same code for every strategy. The registry [`STRATEGIES`] lists every strategy
//! by name with its parameters; the CLI, the tests and the result files iterate it, so a new
//! strategy is one module here plus one line in the registry.

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

/// A memory-management strategy, built from the registry with its parameters.
pub trait Strategy: fmt::Debug {
    /// The registry name.
    fn name(&self) -> &'static str;

    fn back_edges(&self) -> BackEdges;

    /// Every parameter with the value in force (defaults filled in), for result files.
    fn params(&self) -> Vec<(String, String)>;
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
pub static STRATEGIES: &[StrategyInfo] = &[refcount::INFO, weakref::INFO];

/// The registry entry named `name`.
pub fn find(name: &str) -> Option<&'static StrategyInfo> {
    STRATEGIES.iter().find(|s| s.name == name)
}

/// The registered names, for error messages and `--help`.
pub fn names() -> Vec<&'static str> {
    STRATEGIES.iter().map(|s| s.name).collect()
}
