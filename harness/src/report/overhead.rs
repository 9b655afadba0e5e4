//! The overhead table in the style of the LBO method (Cai et al., "Distilling the Real Cost of
//! Production Garbage Collectors", ISPASS 2022): each configuration's cost as a multiple of a
//! lower bound, so that strategies are compared with what no collector could beat rather than
//! with each other.
//!
//! - **Time**: the lower bound is the *distilled mutator time*, as Cai et al. compute it: the
//!   smallest, over the configurations of a program, of the median wall time minus the time
//!   spent managing memory (`mutator_time_ms`), which is `nogc`'s wall time where that is lower
//!   (`nogc` spends none). `nogc` alone is no bound: it never reuses a block, and the page
//!   faults that costs can make it slower than `refcount` (DESIGN §12: 1.38× on trees).
//!   Every configuration's wall time is at least its own mutator time, so no time overhead is
//!   below 1.00×.
//! - **Memory**: `nogc` keeps everything, so its peak is an upper bound, not a lower one. The
//!   lower bound is the smallest peak of live bytes sampled in `memory.csv` (what the program
//!   needs at least), or, without memory samples, the smallest peak reserved bytes observed.
//!   The heap figure compared with it is the allocator's peak reserved bytes; peak RSS is
//!   compared with the smallest peak RSS observed (it includes the process' own footprint).

use super::data::{Analysis, Configuration, NOGC, Program};

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
    /// Why a ratio that measured below its bound is shown as 1.00×, one line per such ratio.
    pub below_bound: Vec<String>,
}

/// The overhead table of one program.
pub fn overhead_table<'p, 'a>(analysis: &Analysis<'a>, program: &'p Program<'a>) -> OverheadTable<'p, 'a> {
    let wall = |c: &Configuration| c.median(|r| r.time.wall_time_ms);
    let heap = |c: &Configuration| c.median(|r| r.memory.peak_reserved_bytes.map(|b| b as f64));
    let rss = |c: &Configuration| c.median(|r| r.memory.peak_rss_bytes.map(|b| b as f64));
    let configurations = &program.configurations;

    let mutator = |c: &Configuration| c.median(|r| r.time.mutator_time_ms.or(r.time.wall_time_ms));
    let time_baseline = lowest(configurations, mutator).map(|(value, c)| Baseline {
        value,
        basis: if c.is_nogc() { NOGC.into() } else { format!("distilled mutator time ({})", c.label) },
    });
    let peak_live = |c: &Configuration| c.median(|r| analysis.peak_live_bytes(r.key.cell));
    let heap_baseline = smallest(configurations, peak_live, "smallest peak live bytes")
        .or_else(|| smallest(configurations, heap, "smallest peak reserved"));
    let rss_baseline = smallest(configurations, rss, "smallest peak RSS");

    let mut below_bound = Vec::new();
    let rows = configurations
        .iter()
        .map(|c| {
            let (wall_ms, heap_bytes, rss_bytes) = (wall(c), heap(c), rss(c));
            let mut ratio = |what: &str, value: Option<f64>, baseline: &Option<Baseline>| {
                ratio_at_least_one(value, baseline.as_ref()).map(|(ratio, measured)| {
                    if measured < 1.0 {
                        below_bound.push(format!(
                            "{}: {what} measured {measured:.3}× its bound ({}), shown as 1.00×: the bound is \
                             the median of another configuration, and medians of different samples can cross",
                            c.label,
                            baseline.as_ref().map_or("", |b| b.basis.as_str()),
                        ));
                    }
                    ratio
                })
            };
            OverheadRow {
                configuration: c,
                wall_ms,
                time: ratio("time", wall_ms, &time_baseline),
                heap_bytes,
                heap: ratio("heap", heap_bytes, &heap_baseline),
                rss_bytes,
                rss: ratio("RSS", rss_bytes, &rss_baseline),
            }
        })
        .collect();
    OverheadTable { time_baseline, heap_baseline, rss_baseline, rows, below_bound }
}

/// `value / bound`, never below 1 (a bound is a bound), with the ratio as measured.
fn ratio_at_least_one(value: Option<f64>, bound: Option<&Baseline>) -> Option<(f64, f64)> {
    let (value, bound) = (value?, bound?);
    (bound.value > 0.0).then(|| (value / bound.value).max(1.0)).map(|shown| (shown, value / bound.value))
}

/// The smallest figure over the configurations, named after the configuration that had it.
fn smallest(
    configurations: &[Configuration],
    figure: impl Fn(&Configuration) -> Option<f64>,
    what: &str,
) -> Option<Baseline> {
    lowest(configurations, figure).map(|(value, c)| Baseline { value, basis: format!("{what} ({})", c.label) })
}

/// The smallest positive figure over the configurations, and the configuration that had it.
fn lowest<'c, 'a>(
    configurations: &'c [Configuration<'a>],
    figure: impl Fn(&Configuration) -> Option<f64>,
) -> Option<(f64, &'c Configuration<'a>)> {
    configurations
        .iter()
        .filter_map(|c| figure(c).filter(|v| *v > 0.0).map(|v| (v, c)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}
