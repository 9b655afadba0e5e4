//! The overhead table in the style of the LBO method (Cai et al., "Distilling the Real Cost of
//! Production Garbage Collectors", ISPASS 2022): each configuration's cost as a multiple of a
//! lower bound, so that strategies are compared with what no collector could beat rather than
//! with each other.
//!
//! - **Time**: the lower bound is the wall time of `nogc`, which never frees and so spends no
//!   time managing memory; without a `nogc` run, the best wall time observed on the program.
//! - **Memory**: `nogc` keeps everything, so its peak is an upper bound, not a lower one. The
//!   lower bound is the smallest peak of live bytes sampled in `memory.csv` (what the program
//!   needs at least), or, without memory samples, the smallest peak reserved bytes observed.
//!   The heap figure compared with it is the allocator's peak reserved bytes; peak RSS is
//!   compared with the smallest peak RSS observed (it includes the process' own footprint).

use super::data::{Analysis, Configuration, Program};

/// A lower bound and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    pub value: f64,
    /// E.g. `nogc`, `best observed (refcount)`.
    pub basis: String,
}

/// One configuration's figures (medians over its `ok` repeats) and their ratios to the
/// baselines.
pub struct OverheadRow<'p, 'a> {
    pub configuration: &'p Configuration<'a>,
    pub wall_ms: Option<f64>,
    pub time: Option<f64>,
    pub heap_bytes: Option<f64>,
    pub heap: Option<f64>,
    pub rss_bytes: Option<f64>,
    pub rss: Option<f64>,
}

pub struct OverheadTable<'p, 'a> {
    pub time_baseline: Option<Baseline>,
    pub heap_baseline: Option<Baseline>,
    pub rss_baseline: Option<Baseline>,
    pub rows: Vec<OverheadRow<'p, 'a>>,
}

/// The overhead table of one program.
pub fn overhead_table<'p, 'a>(analysis: &Analysis<'a>, program: &'p Program<'a>) -> OverheadTable<'p, 'a> {
    let wall = |c: &Configuration| c.median(|r| r.wall_time_ms);
    let heap = |c: &Configuration| c.median(|r| r.peak_reserved_bytes.map(|b| b as f64));
    let rss = |c: &Configuration| c.median(|r| r.peak_rss_bytes.map(|b| b as f64));
    let configurations = &program.configurations;

    let nogc = configurations.iter().find(|c| c.is_nogc()).and_then(wall);
    let time_baseline = match nogc {
        Some(value) => Some(Baseline { value, basis: "nogc".into() }),
        None => smallest(configurations, wall, "best observed"),
    };
    let peak_live = |c: &Configuration| c.median(|r| analysis.peak_live_bytes(r.cell));
    let heap_baseline = smallest(configurations, peak_live, "smallest peak live bytes")
        .or_else(|| smallest(configurations, heap, "smallest peak reserved"));
    let rss_baseline = smallest(configurations, rss, "smallest peak RSS");

    let ratio = |value: Option<f64>, baseline: &Option<Baseline>| match (value, baseline) {
        (Some(v), Some(b)) if b.value > 0.0 => Some(v / b.value),
        _ => None,
    };
    let rows = configurations
        .iter()
        .map(|c| {
            let (wall_ms, heap_bytes, rss_bytes) = (wall(c), heap(c), rss(c));
            OverheadRow {
                configuration: c,
                wall_ms,
                time: ratio(wall_ms, &time_baseline),
                heap_bytes,
                heap: ratio(heap_bytes, &heap_baseline),
                rss_bytes,
                rss: ratio(rss_bytes, &rss_baseline),
            }
        })
        .collect();
    OverheadTable { time_baseline, heap_baseline, rss_baseline, rows }
}

/// The smallest figure over the configurations, named after the configuration that had it.
fn smallest(
    configurations: &[Configuration],
    figure: impl Fn(&Configuration) -> Option<f64>,
    what: &str,
) -> Option<Baseline> {
    configurations
        .iter()
        .filter_map(|c| figure(c).filter(|v| *v > 0.0).map(|v| (v, &c.label)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(value, label)| Baseline { value, basis: format!("{what} ({label})") })
}
