//! Seeded synthetic programs, written only against the safe Mutator API of `strategies`.
//!
//! Each workload stands for a real kind of program, has size presets and explicit parameters
//! (each one typed declaration, `strategies::params::Param`), and returns a [`Checksum`] that must
//! be identical under every strategy: a strategy decides when memory is freed, never what the
//! program computes. The registry [`WORKLOADS`] is what the CLI and the tests iterate, so a new
//! workload is one module here, two lines in this file (`pub mod` and its entry in
//! [`WORKLOADS`]) and one Python twin in `workloads/python/` (see docs/ARCHITECTURE.md).

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

use strategies::Heap;
use strategies::params::Defaults::Fixed;
use strategies::params::{Flag, Owner, Param, ParamInfo, Reader};
pub use strategies::params::{ParamError, Size};

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

/// What a workload is built from: a size preset, a seed, and explicit parameters that override
/// the preset.
#[derive(Clone, Debug)]
pub struct WorkloadArgs {
    pub size: Size,
    pub seed: u64,
    pub params: BTreeMap<String, String>,
}

/// A program, configured from its parameters.
pub trait Workload {
    /// Runs the program to completion. Every handle it made is dropped before it returns.
    fn run(&self, heap: &Heap) -> Checksum;
}

/// A workload built from the registry, with every parameter's value in force (preset values
/// filled in), ready to run on any heap.
pub struct Configured {
    workload: Box<dyn Workload>,
    params: Vec<(String, String)>,
}

impl Configured {
    pub fn run(&self, heap: &Heap) -> Checksum {
        self.workload.run(heap)
    }

    /// Every parameter with the value in force, `(name, value)`, for result files.
    pub fn params(&self) -> Vec<(String, String)> {
        self.params.clone()
    }
}

/// A registry entry: how to find, describe and build a workload.
pub struct WorkloadInfo {
    pub name: &'static str,
    pub summary: &'static str,
    /// Every parameter's declaration, in `--list` order.
    pub params: &'static [&'static dyn ParamInfo],
    pub build: Build,
}

/// Reads a workload's parameters (each through its declaration) and makes the program from
/// them and the seed.
pub type Build = fn(&mut Reader, u64) -> Result<Box<dyn Workload>, ParamError>;

impl WorkloadInfo {
    /// Builds the workload; refuses a parameter it does not have (or has only in another
    /// variant) and a value it cannot use.
    pub fn build(&self, args: &WorkloadArgs) -> Result<Configured, ParamError> {
        let mut reader = Reader::new(Owner::workload(self.name), self.params, &args.params)?.sized(args.size);
        let workload = (self.build)(&mut reader, args.seed)?;
        Ok(Configured { workload, params: reader.finish()? })
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

/// Shared by the tree-shaped workloads.
pub(crate) const PARENTS: Param<Flag> =
    Param::new("parents", Flag, Fixed(false), "give every node a parent back-pointer, closing cycles");

/// What the workloads' unit tests share.
#[cfg(test)]
mod testing {
    use strategies::{Heap, HeapConfig, strategy};

    use crate::{Size, WorkloadArgs, WorkloadInfo};

    /// A heap under `strategy`, with the strategy's default parameters.
    pub(crate) fn heap(strategy: &str) -> Heap {
        Heap::new(HeapConfig::default(), strategy::find(strategy).unwrap().build(&Default::default()).unwrap())
    }

    /// `smoke` size, `seed`, and the parameters `pairs`.
    pub(crate) fn smoke(seed: u64, pairs: &[(&str, &str)]) -> WorkloadArgs {
        WorkloadArgs {
            size: Size::Smoke,
            seed,
            params: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    /// The message `workload` refuses `pairs` with.
    pub(crate) fn refusal(workload: &WorkloadInfo, pairs: &[(&str, &str)]) -> String {
        workload.build(&smoke(1, pairs)).err().expect("refused").to_string()
    }
}
