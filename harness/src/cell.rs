//! One cell: a workload under one strategy, run in a fresh child process of the harness so that
//! peak RSS and allocator state never carry over from another cell.
//!
//! The parent passes a [`CellSpec`] as JSON on the command line (`--run-cell`); the child runs
//! it and prints a [`CellOutcome`] as JSON on stdout. A child that crashes or exits non-zero
//! yields a failed cell with the tail of its stderr, and the run goes on.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use hdrhistogram::Histogram as HdrHistogram;
use serde::{Deserialize, Serialize};
use strategies::{AllocatorConfig, AllocatorKind, Heap, HeapConfig, SystemBackend, strategy};
use workloads::{Size, WorkloadArgs};

use crate::system;

/// Everything a child needs to run one cell.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CellSpec {
    pub workload: String,
    pub size: String,
    pub seed: u64,
    pub workload_params: BTreeMap<String, String>,
    pub strategy: String,
    pub strategy_params: BTreeMap<String, String>,
    pub allocator: String,
    pub backend: String,
    pub cascade_threshold: u64,
}

/// One pause, as the child reports it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PauseRecord {
    pub kind: String,
    pub generation: Option<u8>,
    pub start_ns: u64,
    pub duration_ns: u64,
    /// Objects freed (cascade) or examined (collection).
    pub objects: u64,
    pub collected: u64,
    pub uncollectable: u64,
}

/// One generation's line of `gc.get_stats()`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct GenerationRecord {
    pub collections: u64,
    pub collected: u64,
    pub uncollectable: u64,
}

/// Count and percentiles of a set of durations, in nanoseconds (zero when there are none).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
}

impl LatencySummary {
    pub fn of(durations_ns: impl IntoIterator<Item = u64>) -> LatencySummary {
        // Nanosecond resolution, three significant digits, up to an hour.
        let mut histogram = HdrHistogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid bounds");
        for ns in durations_ns {
            histogram.saturating_record(ns.max(1));
        }
        if histogram.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: histogram.len(),
            p50_ns: histogram.value_at_quantile(0.50),
            p99_ns: histogram.value_at_quantile(0.99),
            max_ns: histogram.max(),
        }
    }
}

/// What a child measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CellOutcome {
    pub checksum: String,
    pub wall_ns: u64,
    pub memory_management_ns: u64,
    pub pauses: Vec<PauseRecord>,
    /// VmHWM of the child: the peak resident set of this cell alone.
    pub peak_rss_bytes: u64,
    pub peak_reserved_bytes: u64,
    pub leaked_objects: u64,
    pub leaked_bytes: u64,
    /// Collections per generation, the exit collection included.
    pub collections: [u64; 3],
    /// `gc.get_stats()` when the workload returned, before the exit collection: what the
    /// program's own run caused (what `harness validate` compares with CPython).
    pub gc_stats_at_return: [GenerationRecord; 3],
    /// Wall time of each request (from one checkpoint to the next), in nanoseconds.
    pub request_latencies: LatencySummary,
    /// Parameters in force, preset and default values filled in.
    pub workload_params: Vec<(String, String)>,
    pub strategy_params: Vec<(String, String)>,
    pub allocator: String,
}

/// How a cell ended.
#[derive(Clone, Debug)]
pub enum CellResult {
    Ok(Box<CellOutcome>),
    Failed { error: String },
}

/// Runs `spec` in this process (the child side).
pub fn execute(spec: &CellSpec) -> Result<CellOutcome> {
    let size = Size::from_name(&spec.size).ok_or_else(|| anyhow!("unknown size {}", spec.size))?;
    let args = WorkloadArgs { size, seed: spec.seed, params: spec.workload_params.clone() };
    let workload =
        workloads::find(&spec.workload).ok_or_else(|| anyhow!("unknown workload {}", spec.workload))?.build(&args)?;
    let strategy = strategy::find(&spec.strategy)
        .ok_or_else(|| anyhow!("unknown strategy {}", spec.strategy))?
        .build(&spec.strategy_params)?;
    let allocator = AllocatorConfig {
        kind: AllocatorKind::from_name(&spec.allocator)
            .ok_or_else(|| anyhow!("unknown allocator {}", spec.allocator))?,
        backend: SystemBackend::from_name(&spec.backend).ok_or_else(|| anyhow!("unknown backend {}", spec.backend))?,
    };
    let strategy_params = strategy.params();
    let heap = Heap::new(HeapConfig { allocator, cascade_pause_threshold: spec.cascade_threshold }, strategy);
    let allocator_name = format!("{}/{}", spec.allocator, spec.backend);

    system::reset_peak_rss();
    let start = Instant::now();
    let checksum = workload.run(&heap);
    let wall_ns = start.elapsed().as_nanos() as u64;
    let peak_rss_bytes = system::peak_rss_bytes().context("reading VmHWM from /proc/self/status")?;
    let gc_stats_at_return = heap.gc_stats().map(|g| GenerationRecord {
        collections: g.collections,
        collected: g.collected,
        uncollectable: g.uncollectable,
    });
    let report = heap.finish();

    Ok(CellOutcome {
        checksum: checksum.to_string(),
        wall_ns,
        memory_management_ns: report.memory_management_ns,
        pauses: report
            .pauses
            .iter()
            .map(|p| PauseRecord {
                kind: p.kind.name().into(),
                generation: p.generation,
                start_ns: p.start_ns,
                duration_ns: p.duration_ns,
                objects: p.objects,
                collected: p.collected,
                uncollectable: p.uncollectable,
            })
            .collect(),
        peak_rss_bytes,
        peak_reserved_bytes: report.stats.alloc.bytes_reserved_peak,
        leaked_objects: report.leaked.objects,
        leaked_bytes: report.leaked.bytes,
        collections: report.stats.collections,
        gc_stats_at_return,
        request_latencies: LatencySummary::of(report.request_latencies_ns.iter().copied()),
        workload_params: workload.params(),
        strategy_params,
        allocator: allocator_name,
    })
}

/// Runs `spec` in a fresh child process of this binary (the parent side).
pub fn run_in_child(spec: &CellSpec) -> CellResult {
    match spawn(spec) {
        Ok(outcome) => CellResult::Ok(Box::new(outcome)),
        Err(e) => CellResult::Failed { error: format!("{e:#}") },
    }
}

fn spawn(spec: &CellSpec) -> Result<CellOutcome> {
    let exe = std::env::current_exe().context("locating the harness binary")?;
    let output = Command::new(exe)
        .arg("--run-cell")
        .arg(serde_json::to_string(spec)?)
        .stdin(Stdio::null())
        .output()
        .context("starting the child process")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
        bail!("child {}: {}", output.status, tail.join("\n"));
    }
    serde_json::from_slice(&output.stdout).context("reading the child's outcome")
}
