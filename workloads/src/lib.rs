//! Seeded synthetic programs, written only against the safe Mutator API of `strategies`.
//!
//! Each workload stands for a real kind of program, has size presets and explicit parameters,
//! and returns a [`Checksum`] that must be identical under every strategy: a strategy decides
//! when memory is freed, never what the program computes. The registry [`WORKLOADS`] is what the
//! CLI and the tests iterate, so a new workload is one module plus one line.

pub mod btree;
pub mod cache;
pub mod churn;
pub mod cycles;
pub mod requests;
pub mod rng;
pub mod traversal;
pub mod trees;

use std::collections::BTreeMap;
use std::fmt;

use strategies::{Heap, ParamSpec};

/// A running digest of what a workload computed (FNV-1a over 64-bit words, simple enough for
/// the Python twins to reproduce).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Checksum(pub u64);

impl Checksum {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;

    pub fn new() -> Checksum {
        Checksum(Self::OFFSET)
    }

    pub fn mix(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(Self::PRIME);
    }
}

impl Default for Checksum {
    fn default() -> Self {
        Checksum::new()
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Size presets, smallest first. `smoke` runs in well under a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Size {
    Smoke,
    Small,
    Default,
    Large,
}

impl Size {
    pub const ALL: [Size; 4] = [Size::Smoke, Size::Small, Size::Default, Size::Large];

    pub fn name(self) -> &'static str {
        match self {
            Size::Smoke => "smoke",
            Size::Small => "small",
            Size::Default => "default",
            Size::Large => "large",
        }
    }

    pub fn from_name(name: &str) -> Option<Size> {
        Size::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// What a workload is built from: a size preset, a seed, and explicit parameters that override
/// the preset.
#[derive(Clone, Debug)]
pub struct WorkloadArgs {
    pub size: Size,
    pub seed: u64,
    pub params: BTreeMap<String, String>,
}

/// A parameter the workload does not know, or a value it cannot use.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorkloadError {
    #[error("workload `{workload}` has no parameter `{name}` (it accepts: {accepted})")]
    Unknown { workload: &'static str, name: String, accepted: String },
    #[error("workload `{workload}`: parameter `{name}` = `{value}`: {reason}")]
    Invalid { workload: &'static str, name: String, value: String, reason: String },
}

/// A configured workload, ready to run on any heap.
pub trait Workload {
    /// Runs the program to completion. Every handle it made is dropped before it returns.
    fn run(&self, heap: &Heap) -> Checksum;

    /// Every parameter with the value in force (preset values filled in), for result files.
    fn params(&self) -> Vec<(String, String)>;
}

/// A registry entry: how to find, describe and build a workload.
pub struct WorkloadInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
    pub build: fn(&WorkloadArgs) -> Result<Box<dyn Workload>, WorkloadError>,
}

impl WorkloadInfo {
    /// Builds the workload after checking that every given parameter is one it accepts.
    pub fn build(&self, args: &WorkloadArgs) -> Result<Box<dyn Workload>, WorkloadError> {
        if let Some(unknown) = args.params.keys().find(|k| !self.params.iter().any(|p| p.name == k.as_str())) {
            let accepted: Vec<&str> = self.params.iter().map(|p| p.name).collect();
            return Err(WorkloadError::Unknown {
                workload: self.name,
                name: unknown.clone(),
                accepted: accepted.join(", "),
            });
        }
        (self.build)(args)
    }
}

/// Every workload.
pub static WORKLOADS: &[WorkloadInfo] =
    &[trees::INFO, cycles::INFO, traversal::INFO, btree::INFO, requests::INFO, cache::INFO, churn::INFO];

pub fn find(name: &str) -> Option<&'static WorkloadInfo> {
    WORKLOADS.iter().find(|w| w.name == name)
}

pub fn names() -> Vec<&'static str> {
    WORKLOADS.iter().map(|w| w.name).collect()
}

/// Reads parameter `name` from `args`, or returns `default`; parses with `FromStr`.
pub(crate) fn param<T: std::str::FromStr>(
    workload: &'static str,
    args: &WorkloadArgs,
    name: &str,
    default: T,
) -> Result<T, WorkloadError>
where
    T::Err: fmt::Display,
{
    match args.params.get(name) {
        None => Ok(default),
        Some(value) => value.parse().map_err(|e: T::Err| WorkloadError::Invalid {
            workload,
            name: name.to_string(),
            value: value.clone(),
            reason: e.to_string(),
        }),
    }
}

/// The error for a parameter value a workload cannot use.
pub(crate) fn invalid(workload: &WorkloadInfo, name: &str, value: impl fmt::Display, reason: &str) -> WorkloadError {
    WorkloadError::Invalid {
        workload: workload.name,
        name: name.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// A workload's parameters in force, for [`Workload::params`].
pub(crate) fn named_params<const N: usize>(pairs: [(&str, String); N]) -> Vec<(String, String)> {
    pairs.into_iter().map(|(name, value)| (name.to_string(), value)).collect()
}
