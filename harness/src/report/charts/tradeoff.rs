//! The time–space trade-off of one program, as GC papers draw it: one point per configuration,
//! its median wall time against its median peak memory (peak RSS in one panel, the allocator's
//! peak reserved bytes in the other), whiskers spanning the repeats' range both ways. The
//! configurations no other one beats on both figures (the Pareto front) are joined by a dashed
//! staircase: every other point is slower, bigger, or both, than some point on it.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{
    Chart, Family, Figure, INK, Legend, PanelAxes, Part, Section, Swatch, WIDTH, color, panel, render_parts, titled,
    with_legend,
};
use crate::report::axis::{Axis, LOG_SPAN, Unit};
use crate::report::data::{Configuration, Program, Spread};
use crate::results::RunRow;

/// Marker shapes, after the palette's ten colours: a chart tells apart this many points (the
/// `thresholds` experiment's 54 configurations per workload fit in one chart, so its Pareto
/// front is drawn whole).
const SHAPES: [Swatch; 6] =
    [Swatch::Dot, Swatch::Triangle, Swatch::Cross, Swatch::Circle, Swatch::Square, Swatch::HollowSquare];
const MAX_POINTS: usize = 10 * SHAPES.len();

/// The two panels: (title, x description, the figure of a row in bytes).
type Memory = (&'static str, &'static str, fn(&RunRow) -> Option<f64>);
const PANELS: [Memory; 2] = [
    ("time against peak RSS", "peak RSS", |r| r.memory.peak_rss_bytes.map(|b| b as f64)),
    ("time against peak reserved bytes", "peak reserved bytes", |r| r.memory.peak_reserved_bytes.map(|b| b as f64)),
];

/// Draws the trade-off chart of `program` (configurations with an `ok` repeat).
pub fn draw(program: &Program, dir: &Path, charts: &mut Vec<Chart>) -> Result<()> {
    let mut points: Vec<TradeoffPoint> =
        program.configurations.iter().enumerate().filter_map(|(i, c)| TradeoffPoint::of(i, c)).collect();
    if points.is_empty() {
        return Ok(());
    }
    // The front over every configuration of the program, also when they take several charts.
    for m in 0..PANELS.len() {
        let medians: Vec<(f64, f64)> = points
            .iter()
            .map(|p| p.memory[m].map_or((f64::INFINITY, f64::INFINITY), |s| (s.median, p.time.median)))
            .collect();
        for (point, on) in points.iter_mut().zip(pareto_front(&medians)) {
            point.on_front[m] = on && point.memory[m].is_some();
        }
    }
    let family = Family {
        kind: "tradeoff",
        section: Section::Tradeoff,
        title: "Time against peak memory",
        caption: "One point per configuration: the median wall time of the workload (without the exit collection) \
                  against the median peak RSS (left) and the allocator's median peak reserved bytes (right); the \
                  whiskers span the repeats' range. Down and left is better. The dashed staircase joins the \
                  Pareto front: the configurations no other one of the workload configuration beats on both \
                  figures. Axes are logarithmic where their values span 10× or more, otherwise linear around the \
                  values (not from zero)."
            .into(),
    };
    render_parts(family, program, &points, MAX_POINTS, dir, charts)
}

/// One configuration's point: its figures and how it is drawn.
struct TradeoffPoint {
    label: String,
    color: RGBColor,
    shape: Swatch,
    time: Spread,
    /// Peak memory, one per panel of [`PANELS`].
    memory: [Option<Spread>; 2],
    /// Whether the point is on the program's Pareto front, per panel.
    on_front: [bool; 2],
}

impl TradeoffPoint {
    /// The point of the `index`-th configuration, `None` without an `ok` repeat.
    fn of(index: usize, configuration: &Configuration) -> Option<TradeoffPoint> {
        Some(TradeoffPoint {
            label: configuration.label.clone(),
            color: color(index),
            shape: SHAPES[(index / 10) % SHAPES.len()],
            time: configuration.spread(|r| r.time.wall_time_ms.map(|ms| ms * 1e6))?,
            memory: PANELS.map(|(_, _, figure)| configuration.spread(figure)),
            on_front: [false; 2],
        })
    }
}

/// Which of `points` (x, y) lie on the Pareto front, lower being better on both: no other
/// point is at most as large on both and smaller on one.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<bool> {
    let dominates = |a: &(f64, f64), b: &(f64, f64)| a.0 <= b.0 && a.1 <= b.1 && (a.0 < b.0 || a.1 < b.1);
    points.iter().map(|p| !points.iter().any(|q| dominates(q, p))).collect()
}

/// The staircase through the front's points, sorted by x: from each point across to the next
/// one's x, then down to it.
fn staircase(mut front: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    front.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut path = Vec::new();
    for (i, p) in front.iter().enumerate() {
        if i > 0 {
            path.push((p.0, front[i - 1].1));
        }
        path.push(*p);
    }
    path
}

/// The points of one chart.
type Tradeoff<'p> = Part<'p, TradeoffPoint>;

const PANEL_HEIGHT: u32 = 560;

impl Tradeoff<'_> {
    fn legend(&self) -> Legend {
        let mut legend = Legend::new();
        for p in self.items {
            legend.add(p.label.clone(), p.color, p.shape);
        }
        // A front of one point is no line: the legend names only what is drawn.
        let front_drawn = (0..PANELS.len()).any(|m| self.items.iter().filter(|p| p.on_front[m]).count() > 1);
        if front_drawn {
            legend.add("Pareto front", INK, Swatch::DashedLine);
        }
        legend
    }

    /// The drawn (memory, time) medians of panel `m`, with the index of their point.
    fn medians(&self, m: usize) -> Vec<(usize, (f64, f64))> {
        self.items.iter().enumerate().filter_map(|(i, p)| Some((i, (p.memory[m]?.median, p.time.median)))).collect()
    }
}

/// An axis for a scatter's values: logarithmic where they span [`LOG_SPAN`] or more, else
/// linear around them (with 8% room each side, down to zero at most), so that points close
/// together stay apart.
fn scatter_axis(values: impl IntoIterator<Item = f64>, unit: Unit) -> Axis {
    let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite() && *v > 0.0).collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    if !lo.is_finite() {
        return Axis::linear(0.0, 1.0, unit);
    }
    if hi / lo >= LOG_SPAN {
        return Axis::log(lo, hi, unit);
    }
    let pad = ((hi - lo) * 0.08).max(hi * 0.02);
    Axis::linear((lo - pad).max(0.0), hi + pad, unit)
}

impl Figure for Tradeoff<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, 50 + PANEL_HEIGHT + self.legend().height(WIDTH))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = titled(root, &self.title)?;
        let plots = with_legend(&area, &self.legend())?;
        let times = self.items.iter().flat_map(|p| [p.time.lo, p.time.hi]);
        let y = scatter_axis(times, Unit::Duration);
        for (m, (panel_area, (title, x_desc, _))) in plots.split_evenly((1, 2)).iter().zip(PANELS).enumerate() {
            let bytes = self.items.iter().filter_map(|p| p.memory[m]).flat_map(|s| [s.lo, s.hi]);
            let x = scatter_axis(bytes, Unit::Bytes);
            let axes = PanelAxes {
                title,
                x_desc: x.describe(x_desc),
                y_desc: y.describe("wall time"),
                x: x.clone(),
                y: y.clone(),
            };
            let mut chart = panel(panel_area, axes)?;
            let medians = self.medians(m);
            let front: Vec<(f64, f64)> =
                medians.iter().filter(|(i, _)| self.items[*i].on_front[m]).map(|(_, p)| *p).collect();
            let front: Vec<(f64, f64)> =
                staircase(front).into_iter().filter(|(bx, t)| x.shows(*bx) && y.shows(*t)).collect();
            chart.draw_series([DashedPathElement::new(front, 6, 4, INK.stroke_width(1))])?;
            for (i, (memory, time)) in medians {
                let point = &self.items[i];
                let (Some(spread), true) = (point.memory[m], x.shows(memory) && y.shows(time)) else { continue };
                let whisker = point.color.stroke_width(1);
                if x.shows(spread.lo) {
                    chart.draw_series([PathElement::new(vec![(spread.lo, time), (spread.hi, time)], whisker)])?;
                }
                if y.shows(point.time.lo) {
                    chart.draw_series([PathElement::new(
                        vec![(memory, point.time.lo), (memory, point.time.hi)],
                        whisker,
                    )])?;
                }
                let at = (memory, time);
                match point.shape {
                    Swatch::Triangle => chart.draw_series([TriangleMarker::new(at, 8, point.color.filled())])?,
                    Swatch::Cross => chart.draw_series([Cross::new(at, 6, point.color.stroke_width(3))])?,
                    Swatch::Circle => chart.draw_series([Circle::new(at, 6, point.color.stroke_width(3))])?,
                    Swatch::Square => chart.draw_series([
                        EmptyElement::at(at) + Rectangle::new([(-5, -5), (5, 5)], point.color.filled())
                    ])?,
                    Swatch::HollowSquare => chart.draw_series([
                        EmptyElement::at(at) + Rectangle::new([(-5, -5), (5, 5)], point.color.stroke_width(2))
                    ])?,
                    _ => chart.draw_series([Circle::new(at, 6, point.color.filled())])?,
                };
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use plotters::coord::ranged1d::Ranged;

    use super::*;

    #[test]
    fn the_front_keeps_what_nothing_beats_on_both_figures() {
        // (peak bytes, wall time): a small slow one, a big fast one, one beaten by the first on
        // both, one in between, and a copy of the fast one (a tie beats neither).
        let points = [(10.0, 900.0), (60.0, 300.0), (12.0, 950.0), (30.0, 500.0), (60.0, 300.0), (70.0, 300.0)];
        assert_eq!(pareto_front(&points), [true, true, false, true, true, false]);
    }

    #[test]
    fn close_values_get_a_linear_axis_around_them_and_spread_ones_a_log_axis() {
        let mib = f64::from(1u32 << 20);
        let close = scatter_axis([6.3 * mib, 6.8 * mib], Unit::Bytes);
        assert!(!close.is_log());
        assert!(close.range().start > 6.0 * mib && close.range().end < 7.0 * mib, "{:?}", close.range());
        assert!(scatter_axis([1e6, 20e6], Unit::Duration).is_log(), "a 20× span");
        assert_eq!(scatter_axis([], Unit::Bytes).range(), 0.0..1.0, "no value, an empty axis");
    }

    #[test]
    fn the_staircase_steps_across_then_down() {
        let path = staircase(vec![(60.0, 300.0), (10.0, 900.0), (30.0, 500.0)]);
        assert_eq!(path, [(10.0, 900.0), (30.0, 900.0), (30.0, 500.0), (60.0, 500.0), (60.0, 300.0)]);
    }
}
