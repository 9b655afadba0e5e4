//! Pause charts of one program: the distribution of pause durations (a CDF on a log axis, with
//! p50, p99 and max marked) and the timeline of pauses (each pause's duration against the time
//! it began).

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{
    Chart, Family, Figure, INK, Legend, MAX_LINES, MAX_PANELS, PanelAxes, Part, Section, Swatch, WIDTH, color, panel,
    render_parts, titled, with_legend,
};
use crate::report::axis::{Axis, Unit, human};
use crate::report::data::{Analysis, Program, quantile};
use crate::report::series::{COINCIDENT_TOLERANCE, Scale, coincidence_notes, coincident_groups, nested_widths};

/// CDF curves keep at most about this many points (plus the slowest 1%, up to [`TAIL_POINTS`]):
/// enough for the shape, small enough for the SVG.
const CDF_POINTS: usize = 1000;
const TAIL_POINTS: usize = 1000;

/// Draws the pause CDF of every configuration of `program` that paused.
pub fn draw_cdf(
    analysis: &Analysis,
    program: &Program,
    dir: &Path,
    charts: &mut Vec<Chart>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let mut series = Vec::new();
    let mut without_pauses = Vec::new();
    for (index, configuration) in program.configurations.iter().enumerate() {
        let mut durations: Vec<f64> = configuration
            .ok_rows()
            .flat_map(|row| analysis.pauses(row.key.cell))
            .map(|pause| pause.duration_ns as f64)
            .collect();
        if durations.is_empty() {
            without_pauses.push(configuration.label.clone());
            continue;
        }
        durations.sort_by(f64::total_cmp);
        series.push(CdfSeries::of(configuration.label.clone(), color(index), &durations));
    }
    let without = if without_pauses.is_empty() {
        String::new()
    } else {
        format!(" No pauses recorded under: {}.", without_pauses.join(", "))
    };
    if series.is_empty() {
        notes.push(format!("{}: no pauses were recorded, so there are no pause charts.", program.label));
        return Ok(());
    }
    let family = Family {
        kind: "pause-cdf",
        section: Section::Pauses,
        title: "Pause-time distribution",
        caption: format!(
            "The fraction of pauses no longer than each duration, per configuration, pooling the pauses of every ok \
             repeat; log duration axis. The legend gives each configuration's number of pauses (n) and p99. \
             Markers: p50 (circle), p99 (triangle), max (cross), by nearest rank. Curves that coincide are drawn \
             nested, the first widest.{without}"
        ),
    };
    render_parts(family, program, &series, MAX_LINES, dir, charts)
}

struct CdfSeries {
    label: String,
    color: RGBColor,
    count: usize,
    /// The staircase of the empirical CDF: (duration ns, fraction).
    steps: Vec<(f64, f64)>,
    p50: f64,
    p99: f64,
    max: f64,
    /// The duration at each percentile 1..=100, to find curves that coincide.
    profile: Vec<(f64, f64)>,
}

impl CdfSeries {
    fn of(label: String, color: RGBColor, sorted: &[f64]) -> CdfSeries {
        let n = sorted.len();
        let stride = n.div_ceil(CDF_POINTS).max(1);
        let tail_start = n - (n / 100).min(TAIL_POINTS);
        let ranks = (0..tail_start).step_by(stride).chain(tail_start..n);
        let fraction = |rank: usize| rank as f64 / n as f64;
        let steps = ranks.flat_map(|i| [(sorted[i], fraction(i)), (sorted[i], fraction(i + 1))]).collect();
        let at = |q| quantile(sorted, q).unwrap_or(0.0);
        let profile = (1..=100).map(|p| (f64::from(p), at(f64::from(p) / 100.0))).collect();
        CdfSeries { label, color, count: n, steps, p50: at(0.5), p99: at(0.99), max: at(1.0), profile }
    }
}

/// The CDF curves of one chart.
type PauseCdf<'s> = Part<'s, CdfSeries>;

impl PauseCdf<'_> {
    fn groups(&self) -> Vec<Vec<usize>> {
        let profiles: Vec<Vec<(f64, f64)>> = self.items.iter().map(|s| s.profile.clone()).collect();
        coincident_groups(&profiles, COINCIDENT_TOLERANCE, Scale::Log)
    }

    fn legend(&self) -> Legend {
        let mut legend = Legend::new();
        for s in self.items {
            let label = format!("{} (n={}, p99 {})", s.label, s.count, human(s.p99, Unit::Duration));
            legend.add(label, s.color, Swatch::Line);
        }
        legend.add("p50", INK, Swatch::Circle);
        legend.add("p99", INK, Swatch::Triangle);
        legend.add("max", INK, Swatch::Cross);
        for names in coincidence_notes(&self.groups(), self.items.len(), |i| self.items[i].label.clone()) {
            legend.note(names);
        }
        legend
    }
}

impl Figure for PauseCdf<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, 620 + self.legend().height(WIDTH))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = titled(root, &self.title)?;
        let plots = with_legend(&area, &self.legend())?;
        let durations = self.items.iter().flat_map(|s| s.steps.iter().map(|(d, _)| *d));
        let min = durations.clone().fold(f64::INFINITY, f64::min).max(1.0);
        let max = durations.fold(0.0, f64::max).max(min);
        let x = Axis::log(min, max, Unit::Duration);
        let y = Axis::linear(0.0, 1.02, Unit::Fraction);
        let axes = PanelAxes {
            title: "",
            x_desc: x.describe("pause duration"),
            y_desc: "fraction of pauses ≤ duration".into(),
            x,
            y,
        };
        let mut chart = panel(&plots, axes)?;
        let widths = nested_widths(&self.groups(), self.items.len());
        for (s, width) in self.items.iter().zip(widths).filter(|(_, w)| *w > 0) {
            chart.draw_series(LineSeries::new(s.steps.iter().copied(), s.color.stroke_width(width)))?;
        }
        for s in self.items {
            let style = s.color.stroke_width(3);
            chart.draw_series([Circle::new((s.p50, 0.5), 7, style)])?;
            chart.draw_series([TriangleMarker::new((s.p99, 0.99), 8, s.color.filled())])?;
            chart.draw_series([Cross::new((s.max, 1.0), 7, style)])?;
        }
        Ok(())
    }
}

/// Draws the pause timeline of each configuration's representative repeat, one panel each.
pub fn draw_timeline(analysis: &Analysis, program: &Program, dir: &Path, charts: &mut Vec<Chart>) -> Result<()> {
    let panels: Vec<TimelinePanel> = program
        .configurations
        .iter()
        .filter_map(|configuration| {
            let row = configuration.representative()?;
            let pauses = analysis.pauses(row.key.cell);
            (!pauses.is_empty()).then(|| TimelinePanel {
                title: format!(
                    "{}: repeat {}, {} pause{}",
                    configuration.label,
                    row.key.repeat,
                    pauses.len(),
                    if pauses.len() == 1 { "" } else { "s" }
                ),
                returned_ns: row.time.wall_time_ms.unwrap_or(0.0) * 1e6,
                pauses: pauses
                    .iter()
                    .map(|p| (p.start_ns as f64, p.duration_ns as f64, PauseKind::of(p.kind.name(), p.generation)))
                    .collect(),
            })
        })
        .collect();
    let family = Family {
        kind: "pause-timeline",
        section: Section::Pauses,
        title: "Pause timeline",
        caption: "Each pause's duration against the time it began, for the repeat with the median wall time of \
                  each configuration; colour by what paused. The dashed line marks the workload's return: pauses \
                  after it are the exit collection."
            .into(),
    };
    render_parts(family, program, &panels, MAX_PANELS, dir, charts)
}

/// What a pause was: a collection of some generation, or a refcount cascade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PauseKind {
    Collection(u8),
    Cascade,
    Other,
}

impl PauseKind {
    fn of(kind: &str, generation: Option<u8>) -> PauseKind {
        match (kind, generation) {
            ("collection", Some(g)) => PauseKind::Collection(g),
            ("cascade", _) => PauseKind::Cascade,
            _ => PauseKind::Other,
        }
    }

    fn label(self) -> String {
        match self {
            PauseKind::Collection(g) => format!("collection, generation {g}"),
            PauseKind::Cascade => "refcount cascade".into(),
            PauseKind::Other => "other".into(),
        }
    }

    fn color(self) -> RGBColor {
        match self {
            PauseKind::Collection(g) => color(g as usize),
            PauseKind::Cascade => color(4),
            PauseKind::Other => color(9),
        }
    }
}

struct TimelinePanel {
    title: String,
    /// When the workload returned, from the heap's creation.
    returned_ns: f64,
    /// (start ns, duration ns, kind).
    pauses: Vec<(f64, f64, PauseKind)>,
}

/// The timeline panels of one chart.
type PauseTimeline<'p> = Part<'p, TimelinePanel>;

const TIMELINE_PANEL_HEIGHT: u32 = 250;

impl PauseTimeline<'_> {
    fn legend(&self) -> Legend {
        let mut kinds: Vec<PauseKind> = self.items.iter().flat_map(|p| p.pauses.iter().map(|(_, _, k)| *k)).collect();
        kinds.sort();
        kinds.dedup();
        let mut legend = Legend::new();
        for kind in kinds {
            legend.add(kind.label(), kind.color(), Swatch::Dot);
        }
        legend.add("workload returned", INK, Swatch::DashedLine);
        legend
    }
}

impl Figure for PauseTimeline<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, 50 + self.items.len() as u32 * TIMELINE_PANEL_HEIGHT + self.legend().height(WIDTH))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = titled(root, &self.title)?;
        let plots = with_legend(&area, &self.legend())?;
        let end = self.items.iter().flat_map(|p| p.pauses.iter().map(|(start, d, _)| start + d)).fold(0.0, f64::max);
        let end = self.items.iter().map(|p| p.returned_ns).fold(end, f64::max);
        let y = Axis::for_amounts(
            self.items.iter().flat_map(|p| p.pauses.iter().map(|(_, d, _)| *d)),
            Unit::Duration,
            false,
        );
        for (panel_area, timeline) in plots.split_evenly((self.items.len(), 1)).iter().zip(self.items) {
            let x = Axis::linear(0.0, end * 1.02, Unit::Duration);
            let axes = PanelAxes {
                title: &timeline.title,
                x_desc: x.describe("time since the heap was created"),
                y_desc: y.describe("pause"),
                x,
                y: y.clone(),
            };
            let mut chart = panel(panel_area, axes)?;
            chart.draw_series(
                timeline
                    .pauses
                    .iter()
                    .map(|(start, duration, kind)| Circle::new((*start, *duration), 3, kind.color().filled())),
            )?;
            let (bottom, top) = (chart.y_range().start, chart.y_range().end);
            chart.draw_series([DashedPathElement::new(
                vec![(timeline.returned_ns, bottom), (timeline.returned_ns, top)],
                6,
                4,
                INK.stroke_width(1),
            )])?;
        }
        Ok(())
    }
}
