//! Copy-on-write charts for a prefork run, from `cow.csv`: shared and private bytes per worker
//! against requests served, one line per configuration (the mean over workers at each sample);
//! and one bar per configuration of the shared bytes per worker after serving (runs.csv's
//! `shared_after_serving_bytes` figure, from the same samples). Both use each configuration's
//! representative repeat. A run without prefork cells has no rows, and no chart.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Chart, Family, Figure, INK, Legend, MAX_BARS, MAX_LINES, PanelAxes, Part, Section, Swatch, TICK_SIZE, WIDTH, color,
    font, panel, render_parts, titled, with_legend,
};
use crate::report::axis::{Axis, Unit, human};
use crate::report::data::Program;
use crate::results::CowRow;
use strategies::CowSample;

/// The rows of `cow.csv` in the run folder that holds `charts_dir` (none if it has no file).
pub fn load(charts_dir: &Path) -> Vec<CowRow> {
    charts_dir.parent().and_then(|run| crate::folder::read_cow(run).ok()).unwrap_or_default()
}

/// Draws the copy-on-write charts of `program`, if its cells forked workers.
pub fn draw(cow: &[CowRow], program: &Program, dir: &Path, charts: &mut Vec<Chart>) -> Result<()> {
    let lines: Vec<CowLine> = program
        .configurations
        .iter()
        .enumerate()
        .filter_map(|(index, configuration)| {
            let row = configuration.representative()?;
            let samples: Vec<&CowSample> =
                cow.iter().filter(|c| c.key.cell == row.key.cell).map(|c| &c.record).collect();
            (!samples.is_empty()).then(|| CowLine {
                label: format!("{} (repeat {})", configuration.label, row.key.repeat),
                color: color(index),
                points: mean_over_workers(&samples),
                shared_after_serving: row.cow.shared_after_serving_bytes.unwrap_or(0) as f64,
            })
        })
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    let over_time = Family {
        kind: "cow",
        section: Section::Memory,
        title: "Copy-on-write sharing per worker",
        caption: "Prefork: shared (Shared_Clean + Shared_Dirty) and private (Private_Clean + Private_Dirty) \
                  bytes per worker from its /proc/self/smaps_rollup, against the requests it has served, the mean \
                  over workers at each sample. The last point of a line is after one explicit full collection. \
                  Shared bytes include the harness binary's pages, which stay shared."
            .into(),
    };
    render_parts(over_time, program, &lines, MAX_LINES, dir, charts)?;
    let bars: Vec<CowBar> = lines
        .iter()
        .map(|l| CowBar { label: l.label.clone(), color: l.color, bytes: l.shared_after_serving })
        .collect();
    let after_serving = Family {
        kind: "cow-shared",
        section: Section::Memory,
        title: "Shared bytes per worker after serving",
        caption: "Prefork: the mean over workers of the shared bytes when each had served its share \
                  (runs.csv's shared_after_serving_bytes), per configuration."
            .into(),
    };
    render_parts(after_serving, program, &bars, MAX_BARS, dir, charts)
}

/// One point of a line: requests served, shared bytes, private bytes.
type Point = (f64, f64, f64);

/// A panel of the lines chart: its title and the figure of a point it plots.
type Metric = (&'static str, fn(&Point) -> f64);

/// The mean over workers of the k-th sample of each, for every k some worker has.
fn mean_over_workers(samples: &[&CowSample]) -> Vec<Point> {
    let workers = samples.iter().map(|s| s.worker).max().map_or(0, |w| w + 1);
    let by_worker: Vec<Vec<&CowSample>> =
        (0..workers).map(|w| samples.iter().filter(|s| s.worker == w).copied().collect()).collect();
    let longest = by_worker.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .map(|k| {
            let at: Vec<&CowSample> = by_worker.iter().filter_map(|w| w.get(k).copied()).collect();
            let mean = |f: fn(&CowSample) -> u64| at.iter().map(|s| f(s) as f64).sum::<f64>() / at.len() as f64;
            (
                mean(|s| s.requests_done),
                mean(|s| s.shared_bytes),
                mean(|s| s.private_clean_bytes + s.private_dirty_bytes),
            )
        })
        .collect()
}

struct CowLine {
    label: String,
    color: RGBColor,
    points: Vec<Point>,
    shared_after_serving: f64,
}

struct CowBar {
    label: String,
    color: RGBColor,
    bytes: f64,
}

const PANEL_HEIGHT: u32 = 300;
const BAR_ROW: u32 = 34;

fn legend<'a>(items: impl Iterator<Item = (&'a String, RGBColor)>) -> Legend {
    let mut legend = Legend::new();
    for (label, color) in items {
        legend.add(label.clone(), color, Swatch::Line);
    }
    legend
}

impl Figure for Part<'_, CowLine> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, 50 + 2 * PANEL_HEIGHT + legend(self.items.iter().map(|l| (&l.label, l.color))).height(WIDTH))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = titled(root, &self.title)?;
        let plots = with_legend(&area, &legend(self.items.iter().map(|l| (&l.label, l.color))))?;
        let x_max = self.items.iter().flat_map(|l| l.points.iter().map(|p| p.0)).fold(1.0, f64::max);
        let panels: [Metric; 2] = [("shared bytes per worker", |p| p.1), ("private bytes per worker", |p| p.2)];
        for (panel_area, (title, figure)) in plots.split_evenly((2, 1)).iter().zip(panels) {
            let y = Axis::for_amounts(self.items.iter().flat_map(|l| l.points.iter().map(figure)), Unit::Bytes, true);
            let x = Axis::linear(0.0, x_max, Unit::Count);
            let axes = PanelAxes {
                title,
                x_desc: x.describe("requests served by the worker"),
                y_desc: y.describe("bytes"),
                y,
                x,
            };
            let mut chart = panel(panel_area, axes)?;
            for line in self.items {
                let points: Vec<(f64, f64)> = line.points.iter().map(|p| (p.0, figure(p))).collect();
                chart.draw_series(LineSeries::new(points.iter().copied(), line.color.stroke_width(2)))?;
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, line.color.filled())))?;
            }
        }
        Ok(())
    }
}

impl Figure for Part<'_, CowBar> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, 50 + 110 + self.items.len() as u32 * BAR_ROW)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = titled(root, &self.title)?;
        let n = self.items.len();
        let y = Axis::categories(self.items.iter().rev().map(|b| b.label.clone()).collect());
        let max = self.items.iter().map(|b| b.bytes).fold(0.0, f64::max);
        let x = Axis::linear(0.0, if max > 0.0 { max * 1.25 } else { 1.0 }, Unit::Bytes);
        let axes = PanelAxes {
            title: "",
            x_desc: x.describe("shared bytes per worker after serving"),
            y_desc: String::new(),
            x,
            y,
        };
        let mut chart = panel(&area, axes)?;
        let label_style = font(TICK_SIZE).color(&INK).pos(Pos::new(HPos::Left, VPos::Center));
        for (i, bar) in self.items.iter().enumerate() {
            let position = (n - 1 - i) as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, position - 0.32), (bar.bytes, position + 0.32)],
                bar.color.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                human(bar.bytes, Unit::Bytes),
                (bar.bytes + max * 0.01, position),
                label_style.clone(),
            )))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strategies::CowPhase;

    fn sample(worker: usize, requests_done: u64, shared_bytes: u64) -> CowSample {
        CowSample { worker, phase: CowPhase::Serving, requests_done, shared_bytes, ..CowSample::default() }
    }

    #[test]
    fn lines_average_the_workers_sample_by_sample() {
        let samples = [sample(0, 0, 100), sample(0, 10, 50), sample(1, 0, 300), sample(1, 12, 150)];
        let refs: Vec<&CowSample> = samples.iter().collect();
        assert_eq!(mean_over_workers(&refs), vec![(0.0, 200.0, 0.0), (11.0, 100.0, 0.0)]);
    }
}
