//! Summary bars for one program, one bar group per configuration (medians over the `ok`
//! repeats): wall time split into mutator and memory management, with the exit collection that
//! runs after the workload returned and the wall-time range over repeats; peak RSS and peak
//! reserved bytes; bytes leaked.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Chart, Family, Figure, INK, Legend, MAX_BARS, PanelAxes, Part, Section, Swatch, TICK_SIZE, WIDTH, color, font,
    panel, render_parts, text_size, titled, with_legend, y_label_width,
};
use crate::report::axis::{Axis, LOG_SPAN, Unit, human};
use crate::report::data::{Analysis, Configuration, Program};
use crate::results::median;

/// Draws the summary bars of `program`.
pub fn draw(analysis: &Analysis, program: &Program, dir: &Path, charts: &mut Vec<Chart>) -> Result<()> {
    let bars: Vec<Bar> = program.configurations.iter().map(|c| Bar::of(analysis, c)).collect();
    let family = Family {
        kind: "summary",
        section: Section::Summary,
        title: "Summary",
        caption: "Medians over the ok repeats of each configuration. Time: the workload's wall time split into \
                  mutator and memory management (collections and refcount cascades), then the exit collection \
                  that runs after the workload returned; the whisker is the wall-time range over repeats. \
                  Memory: peak resident set of the cell's process and the allocator's peak reserved bytes. \
                  Leaked: objects refcounting never freed, still alive at the workload's return (drawn only when \
                  something leaked). A panel's axis is logarithmic where its values span 10× or more; there, a \
                  bar's parts are not to scale, and the label gives the memory-management share (mm %)."
            .into(),
    };
    render_parts(family, program, &bars, MAX_BARS, dir, charts)
}

/// One configuration's medians (`None` when no repeat ended `ok`).
struct Bar {
    label: String,
    figures: Option<BarFigures>,
}

struct BarFigures {
    mutator_ns: f64,
    memory_management_ns: f64,
    after_return_ns: f64,
    wall_range_ns: (f64, f64),
    peak_rss_bytes: f64,
    peak_reserved_bytes: f64,
    leaked_bytes: f64,
    leaked_objects: f64,
}

impl Bar {
    fn of(analysis: &Analysis, configuration: &Configuration) -> Bar {
        let splits: Vec<_> = configuration.ok_rows().filter_map(|r| analysis.time_split(r)).collect();
        let wall_ns = configuration.median(|r| r.time.wall_time_ms).map(|ms| ms * 1e6);
        // The median wall time, divided as the median repeat divides it, so that the bar's
        // length is the median wall time and the whisker stays centred on its end.
        let mm_share = median(
            splits.iter().map(|s| s.memory_management_ns / (s.mutator_ns + s.memory_management_ns).max(1.0)).collect(),
        );
        let figures = match (wall_ns, mm_share) {
            (Some(wall_ns), Some(share)) => Some(BarFigures {
                mutator_ns: wall_ns * (1.0 - share),
                memory_management_ns: wall_ns * share,
                after_return_ns: median(splits.iter().map(|s| s.after_return_ns).collect()).unwrap_or(0.0),
                wall_range_ns: configuration
                    .range(|r| r.time.wall_time_ms.map(|ms| ms * 1e6))
                    .unwrap_or((wall_ns, wall_ns)),
                peak_rss_bytes: configuration.median(|r| r.memory.peak_rss_bytes.map(|b| b as f64)).unwrap_or(0.0),
                peak_reserved_bytes: configuration
                    .median(|r| r.memory.peak_reserved_bytes.map(|b| b as f64))
                    .unwrap_or(0.0),
                leaked_bytes: configuration.median(|r| r.memory.leaked_bytes.map(|b| b as f64)).unwrap_or(0.0),
                leaked_objects: configuration.median(|r| r.memory.leaked_objects.map(|b| b as f64)).unwrap_or(0.0),
            }),
            _ => None,
        };
        let label = if figures.is_some() {
            configuration.label.clone()
        } else {
            format!("{} (no ok repeat)", configuration.label)
        };
        Bar { label, figures }
    }
}

/// The bars of one chart.
type SummaryBars<'b> = Part<'b, Bar>;

/// Height of one configuration's row in a panel, and the panel's fixed part (caption, axis).
const BAR_ROW: u32 = 34;
const PANEL_CHROME: u32 = 110;

/// Where a bar's value label goes, in pixels from the bar's end.
const LABEL_OFFSET: (i32, i32) = (6, 0);

/// Palette entries of the bars' parts.
const MUTATOR: usize = 0;
const MEMORY_MANAGEMENT: usize = 2;
const EXIT_COLLECTION: usize = 1;
const PEAK_RSS: usize = 4;
const PEAK_RESERVED: usize = 3;
const LEAKED: usize = 6;

impl SummaryBars<'_> {
    /// Whether any configuration has this figure above zero: a panel or a legend entry for
    /// what no bar shows is left out (an all-zero leaked panel on a 0–1 B axis said nothing).
    fn any(&self, figure: impl Fn(&BarFigures) -> f64) -> bool {
        self.items.iter().filter_map(|b| b.figures.as_ref()).any(|f| figure(f) > 0.0)
    }

    /// Panels drawn: time and peak memory, and leaks when something leaked.
    fn panels(&self) -> u32 {
        if self.any(|f| f.leaked_bytes) { 3 } else { 2 }
    }

    fn legend(&self) -> Legend {
        let mut legend = Legend::new();
        legend.add("mutator", color(MUTATOR), Swatch::Box);
        if self.any(|f| f.memory_management_ns) {
            legend.add("memory management", color(MEMORY_MANAGEMENT), Swatch::Box);
        }
        if self.any(|f| f.after_return_ns) {
            legend.add("exit collection (after the workload)", color(EXIT_COLLECTION), Swatch::Box);
        }
        let ranges =
            self.items.iter().filter_map(|b| b.figures.as_ref()).any(|f| f.wall_range_ns.1 > f.wall_range_ns.0);
        if ranges {
            legend.add("wall-time range over repeats", INK, Swatch::Line);
        }
        legend.add("peak RSS", color(PEAK_RSS), Swatch::Box);
        legend.add("peak reserved bytes", color(PEAK_RESERVED), Swatch::Box);
        if self.panels() == 3 {
            legend.add("leaked bytes", color(LEAKED), Swatch::Box);
        }
        legend
    }

    fn categories(&self) -> Axis {
        Axis::categories(self.items.iter().rev().map(|b| b.label.clone()).collect())
    }

    /// The category position of bar `i` (the first bar on top).
    fn position(&self, i: usize) -> f64 {
        (self.items.len() - 1 - i) as f64
    }

    /// An x axis that leaves room right of the longest bar for its value label: from zero, or
    /// logarithmic where the positive values span [`LOG_SPAN`] or more (peak RSS of 1.15 GiB
    /// beside 45.6 and 45.8 MiB flattened the small ones into one).
    fn value_axis(&self, values: &[(f64, String)], unit: Unit) -> Axis {
        let plot_width = WIDTH as f64 - y_label_width(&self.categories()) as f64 - 60.0;
        let label_px = values.iter().map(|(_, text)| text_size(text, &font(TICK_SIZE)).0).max().unwrap_or(0) as f64;
        let room = ((label_px + 16.0) / plot_width).min(0.6);
        let max = values.iter().map(|(v, _)| *v).fold(0.0, f64::max);
        let min_positive = values.iter().map(|(v, _)| *v).filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
        if min_positive.is_finite() && max / min_positive >= LOG_SPAN {
            // Half the smallest value: its bar is at least a step of the log scale long.
            let lo = Axis::log(min_positive / 2.0, max, unit).range().start;
            let top = (max.ln() + room / (1.0 - room) * (max.ln() - lo.ln())).exp();
            return Axis::log(min_positive / 2.0, top, unit);
        }
        Axis::linear(0.0, if max > 0.0 { max / (1.0 - room) } else { 1.0 }, unit)
    }
}

impl Figure for SummaryBars<'_> {
    fn size(&self) -> (u32, u32) {
        let panel = PANEL_CHROME + self.items.len() as u32 * BAR_ROW;
        (WIDTH, 50 + self.panels() * panel + self.legend().height(WIDTH))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = titled(root, &self.title)?;
        let plots = with_legend(&area, &self.legend())?;
        let panels = plots.split_evenly((self.panels() as usize, 1));
        let figures: Vec<(f64, &BarFigures)> =
            self.items.iter().enumerate().filter_map(|(i, b)| Some((self.position(i), b.figures.as_ref()?))).collect();
        self.draw_time(&panels[0], &figures)?;
        self.draw_peak_memory(&panels[1], &figures)?;
        match panels.get(2) {
            Some(leaks) => self.draw_leaks(leaks, &figures),
            None => Ok(()),
        }
    }
}

/// A bar from `x0` to `x1` across, `y0` to `y1` down.
fn bar(x0: f64, x1: f64, y0: f64, y1: f64, c: RGBColor) -> Rectangle<(f64, f64)> {
    Rectangle::new([(x0, y0), (x1, y1)], c.filled())
}

fn value_style(size: u32) -> TextStyle<'static> {
    font(size).color(&INK).pos(Pos::new(HPos::Left, VPos::Center))
}

/// The bars of a configuration, at its category position.
type Row<'f> = (f64, &'f BarFigures);

impl SummaryBars<'_> {
    /// A panel of horizontal bars, one row per configuration, with an x axis from zero that leaves
    /// room for the value `labels`.
    fn bar_panel<'a, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        title: &str,
        labels: &[(f64, String)],
        unit: Unit,
        x_desc: &str,
    ) -> Result<ChartContext<'a, DB, Cartesian2d<Axis, Axis>>>
    where
        DB::ErrorType: 'static,
    {
        let x = self.value_axis(labels, unit);
        let axes =
            PanelAxes { title, x_desc: x.describe(x_desc), y_desc: "configuration".into(), x, y: self.categories() };
        panel(area, axes)
    }

    /// Wall time split into mutator and memory management, then the exit collection, with the
    /// range over repeats as a whisker.
    fn draw_time<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, figures: &[Row]) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let labels: Vec<(f64, String)> = figures
            .iter()
            .map(|(_, f)| {
                let wall = f.mutator_ns + f.memory_management_ns;
                let mut text = human(wall, Unit::Duration);
                if f.memory_management_ns > 0.0 {
                    text += &format!(" (mm {:.0}%)", 100.0 * f.memory_management_ns / wall.max(1.0));
                }
                if f.after_return_ns > 0.0 {
                    text += &format!(" + {} exit", human(f.after_return_ns, Unit::Duration));
                }
                ((wall + f.after_return_ns).max(f.wall_range_ns.1), text)
            })
            .collect();
        let title = "time: mutator, memory management, exit collection";
        let mut chart = self.bar_panel(area, title, &labels, Unit::Duration, "time")?;
        let base = chart.x_range().start;
        for ((y, f), (end, text)) in figures.iter().zip(labels) {
            // On a log axis the segments start at the axis, and a part left of it is not drawn.
            let [mutator, wall, after] = [
                f.mutator_ns,
                f.mutator_ns + f.memory_management_ns,
                f.mutator_ns + f.memory_management_ns + f.after_return_ns,
            ]
            .map(|x| x.max(base));
            chart.draw_series([
                bar(base, mutator, y - 0.32, y + 0.32, color(MUTATOR)),
                bar(mutator, wall, y - 0.32, y + 0.32, color(MEMORY_MANAGEMENT)),
                bar(wall, after, y - 0.32, y + 0.32, color(EXIT_COLLECTION)),
            ])?;
            let (lo, hi) = (f.wall_range_ns.0.max(base), f.wall_range_ns.1);
            if hi > lo {
                let whisker = INK.stroke_width(2);
                chart.draw_series([
                    PathElement::new(vec![(lo, *y), (hi, *y)], whisker),
                    PathElement::new(vec![(lo, y - 0.15), (lo, y + 0.15)], whisker),
                    PathElement::new(vec![(hi, y - 0.15), (hi, y + 0.15)], whisker),
                ])?;
            }
            chart.draw_series([EmptyElement::at((end, *y)) + Text::new(text, LABEL_OFFSET, value_style(TICK_SIZE))])?;
        }
        Ok(())
    }

    /// Peak RSS and peak reserved bytes, two thin bars per configuration.
    fn draw_peak_memory<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, figures: &[Row]) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let labels: Vec<(f64, String)> = figures
            .iter()
            .flat_map(|(_, f)| {
                [f.peak_rss_bytes, f.peak_reserved_bytes].map(|b| (b, format!("{} ", human(b, Unit::Bytes))))
            })
            .collect();
        let title = "peak memory: RSS and allocator reserved bytes";
        let mut chart = self.bar_panel(area, title, &labels, Unit::Bytes, "bytes")?;
        let base = chart.x_range().start;
        for (y, f) in figures {
            for (value, offset, c) in
                [(f.peak_rss_bytes, 0.17, color(PEAK_RSS)), (f.peak_reserved_bytes, -0.17, color(PEAK_RESERVED))]
            {
                chart.draw_series([bar(base, value.max(base), y + offset - 0.15, y + offset + 0.15, c)])?;
                let text = Text::new(human(value, Unit::Bytes), LABEL_OFFSET, value_style(TICK_SIZE - 2));
                chart.draw_series([EmptyElement::at((value.max(base), y + offset)) + text])?;
            }
        }
        Ok(())
    }

    /// Bytes leaked at the workload's return, labelled with the objects.
    fn draw_leaks<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, figures: &[Row]) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let labels: Vec<(f64, String)> = figures
            .iter()
            .map(|(_, f)| {
                if f.leaked_bytes <= 0.0 {
                    return (0.0, "none leaked".to_string());
                }
                let objects = human(f.leaked_objects, Unit::Count);
                (f.leaked_bytes, format!("{} ({objects} objects)", human(f.leaked_bytes, Unit::Bytes)))
            })
            .collect();
        let mut chart = self.bar_panel(area, "leaked at the workload's return", &labels, Unit::Bytes, "bytes")?;
        let base = chart.x_range().start;
        for ((y, f), (end, text)) in figures.iter().zip(labels) {
            if f.leaked_bytes > 0.0 {
                chart.draw_series([bar(base, f.leaked_bytes, y - 0.32, y + 0.32, color(LEAKED))])?;
            }
            let at = EmptyElement::at((end.max(base), *y));
            chart.draw_series([at + Text::new(text, LABEL_OFFSET, value_style(TICK_SIZE))])?;
        }
        Ok(())
    }
}
