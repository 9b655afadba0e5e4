//! Sweep charts, for runs whose configurations differ in a parameter (experiments): the swept
//! parameter on the x axis against wall time, memory-management time, p99 and max pause, peak
//! RSS and peak reserved bytes, one chart per workload.
//!
//! When several parameters are swept, the one with the most values is the x axis and each
//! combination of the others (with the strategy) is a line. Configurations that do not set the
//! x parameter (a `refcount` beside a swept `generational`) are dashed reference lines.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{Chart, Figure, Legend, PanelAxes, Section, Swatch, WIDTH, color, panel, titled, with_legend};
use crate::report::axis::{Axis, Unit};
use crate::report::data::{Analysis, Configuration, Spread, slug};
use crate::report::series::{COINCIDENT_TOLERANCE, Scale, coincidence_notes, coincident_groups, nested_widths};
use crate::results::RunRow;

/// The panels: (title, unit, the figure of a row in base units).
type Metric = (&'static str, Unit, fn(&RunRow) -> Option<f64>);
const METRICS: [Metric; 6] = [
    ("wall time", Unit::Duration, |r| r.time.wall_time_ms.map(|ms| ms * 1e6)),
    ("memory-management time", Unit::Duration, |r| r.time.mm_time_ms.map(|ms| ms * 1e6)),
    ("p99 pause", Unit::Duration, |r| r.pauses.pause_p99_us.map(|us| us * 1e3)),
    ("max pause", Unit::Duration, |r| r.pauses.pause_max_us.map(|us| us * 1e3)),
    ("peak RSS", Unit::Bytes, |r| r.memory.peak_rss_bytes.map(|b| b as f64)),
    ("peak reserved bytes", Unit::Bytes, |r| r.memory.peak_reserved_bytes.map(|b| b as f64)),
];

/// Draws one sweep chart per workload that has a swept parameter.
pub fn draw(analysis: &Analysis, dir: &Path, charts: &mut Vec<Chart>, notes: &mut Vec<String>) -> Result<()> {
    if analysis.swept.is_empty() {
        if analysis.folder.meta.as_ref().is_some_and(|m| m.experiment != "adhoc") {
            notes.push("No parameter varies across this experiment's cells, so there is no sweep chart.".into());
        }
        return Ok(());
    }
    for workload in analysis.workloads() {
        let configurations: Vec<&Configuration> =
            analysis.configurations_of(workload).into_iter().map(|(_, c)| c).collect();
        let Some(sweep) = Sweep::of(&analysis.swept, &configurations) else { continue };
        let title = format!("Sweep of {}: {workload}", sweep.parameter);
        let others = if sweep.others.is_empty() {
            String::new()
        } else {
            format!(", one line per value of {}", sweep.others.join(", "))
        };
        let chart = Chart {
            stem: format!("sweep-{}", slug(workload)),
            section: Section::Sweep,
            program: None,
            title: title.clone(),
            caption: format!(
                "Medians over the ok repeats against {}{others}; error bars span the repeats' range. Dashed: \
                 configurations that do not set {} (their median, for reference). Axes are logarithmic where \
                 the values span 10× or more. Lines that coincide in a panel are drawn nested (up to four) or \
                 once, each with its error bars, and named under the legend.",
                sweep.parameter, sweep.parameter
            ),
            size: (0, 0),
        };
        super::render(&SweepChart { title, sweep }, dir, chart, charts)?;
    }
    Ok(())
}

/// The lines of one workload's sweep chart.
struct Sweep {
    /// The x-axis parameter, e.g. `generational.threshold0`.
    parameter: String,
    /// The other swept parameters that tell lines apart.
    others: Vec<String>,
    x: Axis,
    lines: Vec<SweepLine>,
    references: Vec<Reference>,
}

/// A line: configurations that differ only in the x parameter.
struct SweepLine {
    label: String,
    /// (x position, figures of each metric).
    points: Vec<(f64, [Option<Spread>; 6])>,
}

/// A configuration without the x parameter: its medians as horizontal lines.
struct Reference {
    label: String,
    medians: [Option<f64>; 6],
}

fn figures(configuration: &Configuration) -> [Option<Spread>; 6] {
    METRICS.map(|(_, _, figure)| configuration.spread(figure))
}

impl Sweep {
    /// The sweep among `configurations`: `None` when no swept parameter takes two values here.
    fn of(swept: &[String], configurations: &[&Configuration]) -> Option<Sweep> {
        let values_of = |parameter: &String| {
            let mut values: Vec<&String> = Vec::new();
            for c in configurations {
                if let Some(v) = c.given.get(parameter).filter(|v| !values.contains(v)) {
                    values.push(v);
                }
            }
            values
        };
        let present: Vec<(&String, Vec<&String>)> =
            swept.iter().map(|p| (p, values_of(p))).filter(|(_, values)| values.len() > 1).collect();
        let (parameter, values) = present.iter().max_by_key(|(_, values)| values.len())?.clone();
        let others: Vec<String> = present.iter().map(|(p, _)| (*p).clone()).filter(|p| p != parameter).collect();

        // Numeric values go on a numeric axis; others (`true`, `false`) are categories, in the
        // order they first appear.
        let numbers: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok()).collect();
        let categories: Vec<String> =
            if numbers.is_some() { Vec::new() } else { values.iter().map(|v| v.to_string()).collect() };
        let x = match &numbers {
            Some(numbers) => Axis::for_parameter(numbers),
            None => Axis::categories(categories.clone()),
        };
        let position = |value: &String| match numbers {
            Some(_) => value.parse().unwrap_or(f64::NAN),
            None => categories.iter().position(|c| c == value).map_or(f64::NAN, |i| i as f64),
        };

        let mut lines: Vec<SweepLine> = Vec::new();
        let mut references = Vec::new();
        for c in configurations {
            let Some(value) = c.given.get(parameter) else {
                references.push(Reference {
                    label: format!("{} (not swept)", c.label),
                    medians: figures(c).map(|f| f.map(|f| f.median)),
                });
                continue;
            };
            push_point(&mut lines, line_label(c, &others), position(value), figures(c));
        }
        for line in &mut lines {
            line.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        Some(Sweep { parameter: parameter.clone(), others, x, lines, references })
    }
}

fn push_point(lines: &mut Vec<SweepLine>, label: String, x: f64, figures: [Option<Spread>; 6]) {
    match lines.iter_mut().find(|l| l.label == label) {
        Some(line) => line.points.push((x, figures)),
        None => lines.push(SweepLine { label, points: vec![(x, figures)] }),
    }
}

/// The strategy and the values of the other swept parameters it sets, without their prefix:
/// `generational threshold1=10`.
fn line_label(configuration: &Configuration, others: &[String]) -> String {
    let mut label = configuration.strategy.clone();
    for parameter in others {
        if let Some(value) = configuration.given.get(parameter) {
            let key = parameter.split_once('.').map_or(parameter.as_str(), |(_, key)| key);
            label += &format!(" {key}={value}");
        }
    }
    label
}

struct SweepChart {
    title: String,
    sweep: Sweep,
}

const SWEEP_PANEL_HEIGHT: u32 = 340;

impl SweepChart {
    fn legend(&self) -> Legend {
        let mut legend = Legend::new();
        for (i, line) in self.sweep.lines.iter().enumerate() {
            legend.add(line.label.clone(), color(i), Swatch::Line);
        }
        for (i, reference) in self.sweep.references.iter().enumerate() {
            legend.add(reference.label.clone(), color(self.sweep.lines.len() + i), Swatch::DashedLine);
        }
        let lines = &self.sweep.lines;
        for (m, (title, unit, _)) in METRICS.iter().enumerate() {
            let groups = self.groups(m, &self.y_axis(m, *unit));
            for note in coincidence_notes(&groups, lines.len(), |i| lines[i].label.clone()) {
                legend.note(format!("{title}: {note}"));
            }
        }
        legend
    }

    /// The y axis of metric `m`'s panel: every line's medians and ranges, and the references.
    fn y_axis(&self, m: usize, unit: Unit) -> Axis {
        let sweep = &self.sweep;
        let values = sweep
            .lines
            .iter()
            .flat_map(|l| l.points.iter().filter_map(|(_, f)| f[m]).flat_map(|f| [f.median, f.lo, f.hi]))
            .chain(sweep.references.iter().filter_map(|r| r.medians[m]));
        Axis::for_amounts(values, unit, false)
    }

    /// Each line's drawn points in metric `m`'s panel: (x, spread), where `y` shows the median.
    fn points(&self, m: usize, y: &Axis) -> Vec<Vec<(f64, Spread)>> {
        let drawn = |(x, f): &(f64, [Option<Spread>; 6])| Some((*x, f[m]?));
        self.sweep
            .lines
            .iter()
            .map(|line| {
                line.points.iter().filter_map(drawn).filter(|(x, f)| x.is_finite() && y.shows(f.median)).collect()
            })
            .collect()
    }

    /// The lines of metric `m`'s panel that coincide, grouped.
    fn groups(&self, m: usize, y: &Axis) -> Vec<Vec<usize>> {
        let medians: Vec<Vec<(f64, f64)>> =
            self.points(m, y).into_iter().map(|p| p.into_iter().map(|(x, f)| (x, f.median)).collect()).collect();
        let scale = if y.is_log() { Scale::Log } else { Scale::Linear };
        coincident_groups(&medians, COINCIDENT_TOLERANCE, scale)
    }
}

impl Figure for SweepChart {
    fn size(&self) -> (u32, u32) {
        (WIDTH, 50 + 3 * SWEEP_PANEL_HEIGHT + self.legend().height(WIDTH))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = titled(root, &self.title)?;
        let plots = with_legend(&area, &self.legend())?;
        let sweep = &self.sweep;
        for (m, (panel_area, (title, unit, _))) in plots.split_evenly((3, 2)).iter().zip(METRICS).enumerate() {
            let y = self.y_axis(m, unit);
            let axes = PanelAxes {
                title,
                x_desc: sweep.x.describe(&sweep.parameter),
                y_desc: y.describe(title),
                x: sweep.x.clone(),
                y: y.clone(),
            };
            let mut chart = panel(panel_area, axes)?;
            let (x_lo, x_hi) = (chart.x_range().start, chart.x_range().end);
            let widths = nested_widths(&self.groups(m, &y), sweep.lines.len());
            for (i, (figures, width)) in self.points(m, &y).into_iter().zip(widths).enumerate() {
                let c = color(i);
                if width > 0 {
                    let medians = figures.iter().map(|(x, f)| (*x, f.median));
                    chart.draw_series(LineSeries::new(medians, c.stroke_width(width)))?;
                    // Markers nest as their lines do.
                    let radius = 4 + width / 2;
                    chart.draw_series(figures.iter().map(|(x, f)| Circle::new((*x, f.median), radius, c.filled())))?;
                }
                // Every line's error bars, also those of a line drawn once with others: the
                // medians coincide, the ranges over the repeats need not.
                for (x, f) in figures.iter().filter(|(_, f)| f.hi > f.lo && y.shows(f.lo)) {
                    let style = c.stroke_width(2);
                    let cap =
                        |value: f64| EmptyElement::at((*x, value)) + PathElement::new(vec![(-6, 0), (6, 0)], style);
                    chart.draw_series([PathElement::new(vec![(*x, f.lo), (*x, f.hi)], style)])?;
                    chart.draw_series([cap(f.lo), cap(f.hi)])?;
                }
            }
            for (i, reference) in sweep.references.iter().enumerate() {
                let Some(value) = reference.medians[m].filter(|v| y.shows(*v)) else { continue };
                let style = color(sweep.lines.len() + i).stroke_width(2);
                chart.draw_series([DashedPathElement::new(vec![(x_lo, value), (x_hi, value)], 8, 5, style)])?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five lines of the same medians are drawn once, in the first one's colour; the error
    /// bars of the other four, whose repeats spread differently, are drawn all the same.
    #[test]
    fn lines_drawn_once_keep_their_error_bars() {
        super::super::register_embedded_font().unwrap();
        let spread = |half: f64| Some(Spread { median: 1e6, lo: 1e6 - half, hi: 1e6 + half });
        let lines: Vec<SweepLine> = (0..5)
            .map(|i| SweepLine {
                label: format!("generational threshold1={i}"),
                points: [100.0, 700.0]
                    .map(|x| (x, [spread(1e4 * (i + 1) as f64), None, None, None, None, None]))
                    .to_vec(),
            })
            .collect();
        let sweep = Sweep {
            parameter: "generational.threshold0".into(),
            others: vec!["generational.threshold1".into()],
            x: Axis::for_parameter(&[100.0, 700.0]),
            lines,
            references: Vec::new(),
        };
        let chart = SweepChart { title: "sweep".into(), sweep };
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, chart.size()).into_drawing_area();
            chart.draw(&root).unwrap();
            root.present().unwrap();
        }
        assert!(svg.contains("wall time: all 5 lines coincide"), "the legend names them");
        let RGBColor(r, g, b) = color(4);
        let bar = format!("stroke=\"#{r:02X}{g:02X}{b:02X}\" stroke-width=\"2\"");
        assert!(svg.matches(&bar).count() >= 2, "the fifth line's error bars: {bar}");
    }
}
