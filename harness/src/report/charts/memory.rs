//! Memory over time for one program, from `memory.csv`: live bytes, allocator reserved bytes
//! and RSS of each configuration's representative repeat, against the number of object
//! allocations so far. The allocation count, not the clock, is the x axis: every strategy runs
//! the same program, so the same allocation count is the same point in the program, whatever
//! time each strategy spent collecting.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Chart, Family, Figure, Legend, MAX_LINES, PanelAxes, Part, Section, Swatch, WIDTH, color, panel, render_parts,
    titled, with_legend,
};
use crate::report::axis::{Axis, Unit};
use crate::report::data::{Analysis, MemorySample, Program};
use crate::report::series::{COINCIDENT_TOLERANCE, Scale, coincidence_notes, coincident_groups, nested_widths};

/// A panel: its title and the figure of a sample it plots.
type Metric = (&'static str, fn(&MemorySample) -> u64);

/// The three figures drawn, one panel each.
const METRICS: [Metric; 3] = [
    ("live bytes (the model's objects)", |s| s.live_bytes),
    ("allocator reserved bytes (arenas and large blocks)", |s| s.allocator_reserved_bytes),
    ("resident set size (RSS)", |s| s.rss_bytes),
];

/// Draws the memory chart of `program`, or notes why there is none.
pub fn draw(
    analysis: &Analysis,
    program: &Program,
    dir: &Path,
    charts: &mut Vec<Chart>,
    notes: &mut Vec<String>,
) -> Result<()> {
    if !analysis.has_memory() {
        if !notes.iter().any(|n| n.starts_with("memory.csv")) {
            notes.push(
                "memory.csv is not in this run folder (a harness without memory sampling wrote it): the \
                 memory-over-time charts are skipped, and the memory lower bound of the overhead table is the \
                 smallest peak reserved bytes observed."
                    .into(),
            );
        }
        return Ok(());
    }
    let lines: Vec<MemoryLine> = program
        .configurations
        .iter()
        .enumerate()
        .filter_map(|(index, configuration)| {
            let row = configuration.representative()?;
            let samples = analysis.memory(row.key.cell)?;
            (!samples.is_empty()).then(|| MemoryLine {
                label: format!("{} (repeat {})", configuration.label, row.key.repeat),
                color: color(index),
                samples: samples.iter().map(|s| (*s).clone()).collect(),
            })
        })
        .collect();
    if lines.is_empty() {
        notes.push(format!("{}: memory.csv has no samples for this program; no memory chart.", program.label));
        return Ok(());
    }
    let family = Family {
        kind: "memory",
        section: Section::Memory,
        title: "Memory over the run",
        caption: "Live bytes, allocator reserved bytes and RSS against object allocations so far, for the repeat \
                  with the median wall time of each configuration: the same allocation count is the same point in \
                  the program under every strategy. A panel's y axis is logarithmic when its values span 10× or \
                  more. Lines that coincide (within 1% of the axis at every sample) are drawn nested, the first widest, so \
                  that each colour shows; the legend names them."
            .into(),
    };
    render_parts(family, program, &lines, MAX_LINES, dir, charts)
}

struct MemoryLine {
    label: String,
    color: RGBColor,
    /// Samples by allocation count.
    samples: Vec<MemorySample>,
}

/// The memory lines of one chart.
type MemoryChart<'l> = Part<'l, MemoryLine>;

const MEMORY_PANEL_HEIGHT: u32 = 280;

impl MemoryChart<'_> {
    /// Each line's points in the panel of `metric`: (allocations, bytes).
    fn series(&self, metric: fn(&MemorySample) -> u64) -> Vec<Vec<(f64, f64)>> {
        self.items
            .iter()
            .map(|l| l.samples.iter().map(|s| (s.allocations as f64, metric(s) as f64)).collect())
            .collect()
    }

    /// The y axis of the panel of `metric`.
    fn y_axis(&self, metric: fn(&MemorySample) -> u64) -> Axis {
        Axis::for_amounts(
            self.items.iter().flat_map(|l| l.samples.iter().map(|s| metric(s) as f64)),
            Unit::Bytes,
            false,
        )
    }

    /// The lines of the panel of `metric` that coincide, grouped.
    fn groups(&self, metric: fn(&MemorySample) -> u64) -> Vec<Vec<usize>> {
        let scale = if self.y_axis(metric).is_log() { Scale::Log } else { Scale::Linear };
        coincident_groups(&self.series(metric), COINCIDENT_TOLERANCE, scale)
    }

    fn legend(&self) -> Legend {
        let mut legend = Legend::new();
        for line in self.items {
            legend.add(line.label.clone(), line.color, Swatch::Line);
        }
        for (title, metric) in METRICS {
            let groups = self.groups(metric);
            let short = title.split(" (").next().unwrap_or(title);
            for names in coincidence_notes(&groups, self.items.len(), |i| self.items[i].label.clone()) {
                legend.note(format!("{short}: {names}"));
            }
        }
        legend
    }
}

impl Figure for MemoryChart<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, 50 + METRICS.len() as u32 * MEMORY_PANEL_HEIGHT + self.legend().height(WIDTH))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = titled(root, &self.title)?;
        let plots = with_legend(&area, &self.legend())?;
        let allocations = self.items.iter().flat_map(|l| l.samples.iter().map(|s| s.allocations as f64));
        let x_max = allocations.fold(1.0, f64::max);
        for (panel_area, (title, metric)) in plots.split_evenly((METRICS.len(), 1)).iter().zip(METRICS) {
            let y = self.y_axis(metric);
            let x = Axis::linear(0.0, x_max, Unit::Count);
            let axes = PanelAxes {
                title,
                x_desc: x.describe("object allocations so far"),
                y_desc: y.describe("bytes"),
                y: y.clone(),
                x,
            };
            let mut chart = panel(panel_area, axes)?;
            let series = self.series(metric);
            let widths = nested_widths(&self.groups(metric), series.len());
            for ((line, points), width) in self.items.iter().zip(series).zip(widths).filter(|(_, w)| *w > 0) {
                let points = points.into_iter().filter(|(_, v)| y.shows(*v));
                chart.draw_series(LineSeries::new(points, line.color.stroke_width(width)))?;
            }
        }
        Ok(())
    }
}
