//! Minimum mutator utilisation curves of one program, as GC papers draw them (Cheng and
//! Blelloch, PLDI 2001): for each window length on a log axis, the smallest share of any
//! window of that length left to the program, one line per configuration that paused, from
//! the pause record of its representative repeat (`report::mmu`).

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Chart, Family, Figure, Legend, MAX_LINES, PanelAxes, Part, Section, Swatch, WIDTH, color, panel, render_parts,
    titled, with_legend,
};
use crate::report::axis::{Axis, Unit};
use crate::report::data::{Analysis, Program};
use crate::report::mmu::{curve, curve_windows, mutator_pauses};
use crate::report::series::{COINCIDENT_TOLERANCE, Scale, coincidence_notes, coincident_groups, nested_widths};

/// Draws the MMU curves of every configuration of `program` that paused while its workload ran.
pub fn draw(analysis: &Analysis, program: &Program, dir: &Path, charts: &mut Vec<Chart>) -> Result<()> {
    let mut runs = Vec::new();
    let mut without_pauses = Vec::new();
    for (index, configuration) in program.configurations.iter().enumerate() {
        let Some(row) = configuration.representative() else { continue };
        let (pauses, wall_ns) = mutator_pauses(analysis, row);
        if pauses.is_empty() || wall_ns <= 0.0 {
            without_pauses.push(configuration.label.clone());
            continue;
        }
        let label = format!("{} (repeat {})", configuration.label, row.key.repeat);
        runs.push((label, color(index), pauses, wall_ns));
    }
    if runs.is_empty() {
        return Ok(());
    }
    // From half the shortest of the configurations' longest pauses, where every curve is still
    // 0, to the longest run.
    let longest_pause = |pauses: &[(f64, f64)]| pauses.iter().map(|p| p.1).fold(0.0, f64::max);
    let shortest = runs.iter().map(|(_, _, p, _)| longest_pause(p)).fold(f64::INFINITY, f64::min) / 2.0;
    let longest = runs.iter().map(|(_, _, _, wall)| *wall).fold(0.0, f64::max);
    let windows = curve_windows(shortest.min(longest).max(1.0), longest);
    let lines: Vec<MmuLine> = runs
        .into_iter()
        .map(|(label, color, pauses, wall_ns)| MmuLine { label, color, points: curve(&pauses, wall_ns, &windows) })
        .collect();
    let without = if without_pauses.is_empty() {
        String::new()
    } else {
        format!(" No pause while the workload ran (MMU 1 at every window): {}.", without_pauses.join(", "))
    };
    let family = Family {
        kind: "mmu",
        section: Section::Mmu,
        title: "Minimum mutator utilisation",
        caption: format!(
            "For each window length (log axis), the smallest fraction of any window of that length left to the \
             program, from the pauses of the repeat with the median wall time; the exit collection, after the \
             workload returned, is left out. A curve is 0 up to its longest pause and ends, at the run's length, \
             at the overall utilisation; higher and further left is better. Curves that coincide are drawn \
             nested, the first widest.{without}"
        ),
    };
    render_parts(family, program, &lines, MAX_LINES, dir, charts)
}

struct MmuLine {
    label: String,
    color: RGBColor,
    /// (window ns, MMU).
    points: Vec<(f64, f64)>,
}

/// The MMU curves of one chart.
type MmuChart<'l> = Part<'l, MmuLine>;

impl MmuChart<'_> {
    fn groups(&self) -> Vec<Vec<usize>> {
        let series: Vec<Vec<(f64, f64)>> = self.items.iter().map(|l| l.points.clone()).collect();
        coincident_groups(&series, COINCIDENT_TOLERANCE, Scale::Linear)
    }

    fn legend(&self) -> Legend {
        let mut legend = Legend::new();
        for line in self.items {
            let overall = line.points.last().map_or(1.0, |p| p.1);
            legend.add(format!("{} (overall {:.0}%)", line.label, overall * 100.0), line.color, Swatch::Line);
        }
        for names in coincidence_notes(&self.groups(), self.items.len(), |i| self.items[i].label.clone()) {
            legend.note(names);
        }
        legend
    }
}

impl Figure for MmuChart<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, 560 + self.legend().height(WIDTH))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = titled(root, &self.title)?;
        let plots = with_legend(&area, &self.legend())?;
        let windows = self.items.iter().flat_map(|l| l.points.iter().map(|p| p.0));
        let shortest = windows.clone().fold(f64::INFINITY, f64::min).max(1.0);
        let x = Axis::log(shortest, windows.fold(shortest, f64::max), Unit::Duration);
        let y = Axis::linear(0.0, 1.02, Unit::Fraction);
        let axes = PanelAxes {
            title: "",
            x_desc: x.describe("window length"),
            y_desc: "minimum mutator utilisation".into(),
            x,
            y,
        };
        let mut chart = panel(&plots, axes)?;
        let widths = nested_widths(&self.groups(), self.items.len());
        for (line, width) in self.items.iter().zip(widths).filter(|(_, w)| *w > 0) {
            chart.draw_series(LineSeries::new(line.points.iter().copied(), line.color.stroke_width(width)))?;
            if let Some(&(window, utilisation)) = line.points.last() {
                chart.draw_series([Circle::new((window, utilisation), 5, line.color.filled())])?;
            }
        }
        Ok(())
    }
}
