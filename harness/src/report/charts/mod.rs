//! The charts, drawn with plotters into `charts/` as SVG and PNG.
//!
//! Text is measured through plotters' `ab_glyph` path, with DejaVu Sans compiled into the binary
//! and registered once ([`register_embedded_font`]), and drawn on the PNGs from the same font
//! ([`text`]): nothing reads system fonts, so the charts draw the same on a machine with none
//! (plotters' default `ttf` feature needs fontconfig and fails there; `../shared/DESIGN.md`
//! §10). The SVG files name the `sans-serif` family, which a viewer draws with its own fonts;
//! the PNG files carry the embedded font's pixels, and are what the report inlines.
//!
//! Every chart is a [`Figure`]: data gathered first, then drawn once per backend. Legends are
//! drawn in a strip below the plots ([`Legend`]), so they never cover data, and every axis is
//! an [`Axis`] that picks its unit and a log scale by itself.

mod cow;
mod memory;
mod mmu;
mod pauses;
mod summary;
mod sweep;
mod text;
mod tradeoff;

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::cartesian::Cartesian2d;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::data::{Analysis, Program};

/// Charts per program are split into parts of at most this many configurations (lines or
/// panels), so that each stays readable in an experiment with dozens of configurations.
const MAX_LINES: usize = 10;
const MAX_PANELS: usize = 6;
const MAX_BARS: usize = 16;

/// Most ticks on an axis.
const X_TICKS: usize = 10;
const Y_TICKS: usize = 8;

/// Pixel width of every chart.
const WIDTH: u32 = 1200;

/// Font sizes, in pixels.
const TITLE_SIZE: u32 = 26;
const PANEL_TITLE_SIZE: u32 = 19;
const TICK_SIZE: u32 = 15;
const AXIS_DESC_SIZE: u32 = 16;
const LEGEND_SIZE: u32 = 15;

/// What a chart shows; the report orders a program's charts by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Sweep,
    Summary,
    Tradeoff,
    Pauses,
    Mmu,
    Memory,
}

/// A chart written to `charts/<stem>.svg` and `charts/<stem>.png`.
#[derive(Clone, Debug)]
pub struct Chart {
    pub stem: String,
    pub section: Section,
    /// The slug of the program (workload configuration) drawn; `None` for a sweep chart, which
    /// spans a workload's programs.
    pub program: Option<String>,
    pub title: String,
    /// What the chart shows and how to read it (for the report).
    pub caption: String,
    pub size: (u32, u32),
}

/// Something that can be drawn on any plotters backend.
trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// Draws every chart of a run into `dir`; returns the charts and notes on the charts that were
/// skipped (for the report).
pub fn draw_all(analysis: &Analysis, dir: &Path) -> Result<(Vec<Chart>, Vec<String>)> {
    register_embedded_font()?;
    std::fs::create_dir_all(dir)?;
    let mut charts = Vec::new();
    let mut notes = Vec::new();
    let cow = cow::load(dir);
    for program in &analysis.programs {
        summary::draw(analysis, program, dir, &mut charts)?;
        tradeoff::draw(program, dir, &mut charts)?;
        pauses::draw_cdf(analysis, program, dir, &mut charts, &mut notes)?;
        pauses::draw_timeline(analysis, program, dir, &mut charts)?;
        mmu::draw(analysis, program, dir, &mut charts)?;
        memory::draw(analysis, program, dir, &mut charts, &mut notes)?;
        cow::draw(&cow, program, dir, &mut charts)?;
    }
    sweep::draw(analysis, dir, &mut charts, &mut notes)?;
    // Sweeps first, then each program's charts, programs in plan order, charts in the order of
    // `Section`.
    let program_index =
        |c: &Chart| c.program.as_ref().map(|slug| analysis.programs.iter().position(|p| &p.slug == slug));
    charts.sort_by_key(|c| (program_index(c), c.section));
    Ok((charts, notes))
}

/// Registers DejaVu Sans (regular and bold) as plotters' `sans-serif`, once per process.
pub fn register_embedded_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok { Ok(()) } else { Err(anyhow!("the embedded DejaVu Sans font could not be loaded")) }
}

/// What the charts of one kind share: the stem's start, the report section, the title's start
/// and the caption.
struct Family {
    kind: &'static str,
    section: Section,
    title: &'static str,
    caption: String,
}

/// One chart's share of a program's items (configurations' lines, panels or bars), and its
/// title.
struct Part<'i, T> {
    title: String,
    items: &'i [T],
}

/// Draws one program's `items` in charts of at most `per_chart` items each.
fn render_parts<'i, T>(
    family: Family,
    program: &Program,
    items: &'i [T],
    per_chart: usize,
    dir: &Path,
    charts: &mut Vec<Chart>,
) -> Result<()>
where
    Part<'i, T>: Figure,
{
    let parts: Vec<&'i [T]> = items.chunks(per_chart).collect();
    for (part, chunk) in parts.iter().enumerate() {
        let (stem, of) = part_names(family.kind, &program.slug, part, parts.len());
        let title = format!("{}: {}{of}", family.title, program.label);
        let chart = Chart {
            stem,
            section: family.section,
            program: Some(program.slug.clone()),
            title: title.clone(),
            caption: family.caption.clone(),
            size: (0, 0),
        };
        render(&Part { title, items: chunk }, dir, chart, charts)?;
    }
    Ok(())
}

/// The stem of part `part` of `parts` (`pause-cdf-trees-smoke`, `…-2`) and a title suffix.
fn part_names(kind: &str, slug: &str, part: usize, parts: usize) -> (String, String) {
    if parts == 1 {
        (format!("{kind}-{slug}"), String::new())
    } else {
        (format!("{kind}-{slug}-{}", part + 1), format!(" (part {} of {parts})", part + 1))
    }
}

/// Writes `figure` as `<stem>.svg` and `<stem>.png` in `dir` and records it.
fn render(figure: &impl Figure, dir: &Path, chart: Chart, charts: &mut Vec<Chart>) -> Result<()> {
    let size = figure.size();
    let svg = dir.join(format!("{}.svg", chart.stem));
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        figure.draw(&root)?;
        root.present()?;
    }
    let png = dir.join(format!("{}.png", chart.stem));
    {
        let root = text::GlyphExact::new(&png, size).into_drawing_area();
        root.fill(&WHITE)?;
        figure.draw(&root)?;
        root.present()?;
    }
    charts.push(Chart { size, ..chart });
    Ok(())
}

fn font(size: u32) -> FontDesc<'static> {
    ("sans-serif", size).into_font()
}

fn bold(size: u32) -> FontDesc<'static> {
    FontDesc::new(FontFamily::SansSerif, size.into(), FontStyle::Bold)
}

/// Width and height of `text` in the embedded font.
fn text_size(text: &str, font: &FontDesc) -> (u32, u32) {
    font.box_size(text).unwrap_or((text.chars().count() as u32 * font.get_size() as u32 / 2, font.get_size() as u32))
}

/// Draws the figure's title at the top of `root` and returns the area below it.
fn titled<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str) -> Result<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    Ok(root.titled(title, bold(TITLE_SIZE))?)
}

/// Tableau 10: distinct for the usual colour-vision deficiencies, readable on white.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];

fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

const GRID_LIGHT: RGBColor = RGBColor(0xee, 0xee, 0xee);
const GRID_BOLD: RGBColor = RGBColor(0xcc, 0xcc, 0xcc);
const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// How a legend entry's swatch is drawn.
#[derive(Clone, Copy, Debug)]
enum Swatch {
    Line,
    DashedLine,
    Box,
    Dot,
    Circle,
    Triangle,
    Cross,
    Square,
    HollowSquare,
}

/// A legend below the plots: entries flow left to right and wrap; notes follow, one line each
/// (wrapped at words).
struct Legend {
    entries: Vec<(String, RGBColor, Swatch)>,
    notes: Vec<String>,
}

const SWATCH_WIDTH: i32 = 30;
const LEGEND_ROW: i32 = 24;
const LEGEND_GAP: i32 = 26;

impl Legend {
    fn new() -> Legend {
        Legend { entries: Vec::new(), notes: Vec::new() }
    }

    /// A line of text under the entries, such as which lines coincide.
    fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// The notes wrapped at words into lines of at most `width` pixels.
    fn note_lines(&self, width: i32) -> Vec<String> {
        let font = font(LEGEND_SIZE);
        let mut lines = Vec::new();
        for note in &self.notes {
            let mut line = String::new();
            for word in note.split(' ') {
                let longer = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
                if !line.is_empty() && text_size(&longer, &font).0 as i32 > width {
                    lines.push(std::mem::replace(&mut line, word.to_string()));
                } else {
                    line = longer;
                }
            }
            lines.push(line);
        }
        lines
    }

    /// Rows of entries in `width` pixels.
    fn entry_rows(&self, width: i32) -> i32 {
        self.layout(width).iter().map(|(_, row)| row + 1).max().unwrap_or(0)
    }

    fn add(&mut self, label: impl Into<String>, color: RGBColor, swatch: Swatch) {
        self.entries.push((label.into(), color, swatch));
    }

    /// Where each entry goes within `width` pixels: (x, row).
    fn layout(&self, width: i32) -> Vec<(i32, i32)> {
        let font = font(LEGEND_SIZE);
        let (mut x, mut row) = (0, 0);
        self.entries
            .iter()
            .map(|(label, _, _)| {
                let entry_width = SWATCH_WIDTH + 8 + text_size(label, &font).0 as i32;
                if x > 0 && x + entry_width > width {
                    (x, row) = (0, row + 1);
                }
                let place = (x, row);
                x += entry_width + LEGEND_GAP;
                place
            })
            .collect()
    }

    /// Height the legend needs in `width` pixels (with margins).
    fn height(&self, width: u32) -> u32 {
        let margin = 2 * LEGEND_MARGIN;
        let inner = width as i32 - margin;
        let rows = self.entry_rows(inner) + self.note_lines(inner).len() as i32;
        (rows * LEGEND_ROW + margin) as u32
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (width, _) = area.dim_in_pixel();
        let text_style = font(LEGEND_SIZE).color(&INK).pos(Pos::new(HPos::Left, VPos::Center));
        for ((label, color, swatch), (x, row)) in self.entries.iter().zip(self.layout(width as i32 - 2 * LEGEND_MARGIN))
        {
            let (x, y) = (x + LEGEND_MARGIN, row * LEGEND_ROW + LEGEND_MARGIN + LEGEND_ROW / 2);
            let mid = (x + SWATCH_WIDTH / 2, y);
            let style = color.stroke_width(3);
            match swatch {
                Swatch::Line => area.draw(&PathElement::new(vec![(x, y), (x + SWATCH_WIDTH, y)], style))?,
                Swatch::DashedLine => {
                    area.draw(&DashedPathElement::new(vec![(x, y), (x + SWATCH_WIDTH, y)], 6, 4, style))?
                }
                Swatch::Box => area.draw(&Rectangle::new([(x, y - 7), (x + SWATCH_WIDTH, y + 7)], color.filled()))?,
                Swatch::Dot => area.draw(&Circle::new(mid, 4, color.filled()))?,
                Swatch::Circle => area.draw(&Circle::new(mid, 6, color.stroke_width(2)))?,
                Swatch::Triangle => area.draw(&TriangleMarker::new(mid, 7, color.filled()))?,
                Swatch::Cross => area.draw(&Cross::new(mid, 6, color.stroke_width(2)))?,
                Swatch::Square | Swatch::HollowSquare => {
                    let style = if matches!(swatch, Swatch::Square) { color.filled() } else { color.stroke_width(2) };
                    area.draw(&Rectangle::new([(mid.0 - 5, mid.1 - 5), (mid.0 + 5, mid.1 + 5)], style))?
                }
            }
            area.draw(&Text::new(label.clone(), (x + SWATCH_WIDTH + 8, y), text_style.clone()))?;
        }
        let inner = width as i32 - 2 * LEGEND_MARGIN;
        let first_row = self.entry_rows(inner);
        for (i, line) in self.note_lines(inner).into_iter().enumerate() {
            let y = (first_row + i as i32) * LEGEND_ROW + LEGEND_MARGIN + LEGEND_ROW / 2;
            area.draw(&Text::new(line, (LEGEND_MARGIN, y), text_style.clone()))?;
        }
        Ok(())
    }
}

const LEGEND_MARGIN: i32 = 10;

/// Splits a legend strip off the bottom of `area`, draws the legend there, and returns the
/// area above it.
fn with_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, legend: &Legend) -> Result<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    let (width, height) = area.dim_in_pixel();
    let (plots, strip) = area.split_vertically(height - legend.height(width));
    legend.draw(&strip)?;
    Ok(plots)
}

/// What a panel's axes show.
struct PanelAxes<'t> {
    title: &'t str,
    x: Axis,
    y: Axis,
    x_desc: String,
    y_desc: String,
}

/// Space for the y tick labels: the widest label, plus the rotated axis description.
fn y_label_width(axis: &Axis) -> u32 {
    let font = font(TICK_SIZE);
    let widest = axis.tick_labels(Y_TICKS).iter().map(|label| text_size(label, &font).0).max().unwrap_or(0);
    widest + 14 + AXIS_DESC_SIZE + 12
}

/// How many ticks fit along `pixels`, when a tick with label `l` takes `space(l)` pixels: at
/// most `max`, fewer if the labels would otherwise touch.
fn tick_budget(axis: &Axis, max: usize, space: impl Fn(&str) -> u32, pixels: u32) -> usize {
    (2..=max)
        .rev()
        .find(|&n| {
            let labels = axis.tick_labels(n);
            labels.iter().map(|l| space(l)).max().unwrap_or(0) * labels.len() as u32 <= pixels
        })
        .unwrap_or(2)
}

/// A chart in `area` with a caption, labelled axes with units, and a light grid.
fn panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    axes: PanelAxes,
) -> Result<ChartContext<'a, DB, Cartesian2d<Axis, Axis>>>
where
    DB::ErrorType: 'static,
{
    let (width, height) = area.dim_in_pixel();
    let y_label_area = y_label_width(&axes.y);
    let x_ticks =
        tick_budget(&axes.x, X_TICKS, |label| text_size(label, &font(TICK_SIZE)).0 + 28, width - y_label_area);
    let y_ticks = tick_budget(&axes.y, Y_TICKS, |_| 2 * TICK_SIZE + 6, height.saturating_sub(100));
    let mut builder = ChartBuilder::on(area);
    if axes.title.is_empty() {
        builder.margin_top(16);
    } else {
        builder.caption(axes.title, font(PANEL_TITLE_SIZE).color(&INK)).margin_top(6);
    }
    let (x_categorical, y_categorical) = (axes.x.is_categorical(), axes.y.is_categorical());
    let mut chart = builder
        .margin_right(28)
        .margin_left(8)
        .x_label_area_size(TICK_SIZE + AXIS_DESC_SIZE + 26)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(axes.x, axes.y)?;
    let mut mesh = chart.configure_mesh();
    if x_categorical {
        mesh.disable_x_mesh();
    }
    if y_categorical {
        mesh.disable_y_mesh();
    }
    mesh.x_labels(x_ticks)
        .y_labels(y_ticks)
        .x_desc(axes.x_desc)
        .y_desc(axes.y_desc)
        .label_style(font(TICK_SIZE).color(&INK))
        .axis_desc_style(font(AXIS_DESC_SIZE).color(&INK))
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .axis_style(INK)
        .draw()?;
    Ok(chart)
}
