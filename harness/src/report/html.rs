//! `report.html`: the page a person opens first. The charts (drawn with the embedded font, so
//! they look the same everywhere; each links to its SVG and PNG beside it) are inline as `data:`
//! URIs in a small single run, so that page alone is the report, and linked as files in
//! `charts/` otherwise, so that an experiment's page stays small. The page opens with an index
//! (every section, table and chart linked), then the notes, the sweeps, and one section per
//! workload configuration: its tables of figures, overhead and MMU, then its charts; the run's
//! metadata last. No script: it opens from a file, offline, in any browser.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine as _;

use super::charts::Chart;
use super::data::{Analysis, Configuration, Program};
use super::mmu;
use super::overhead::{Baseline, overhead_table};
use crate::results::{Status, checksum_mismatches, format_bytes, format_duration_us};

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0 auto;
       max-width: 1400px; padding: 1rem 1.5rem 4rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { margin-top: 2.4rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3 { margin-top: 1.6rem; }
.lead { color: #555; margin-top: 0; }
nav ul { padding-left: 1.2rem; }
nav li { margin: .2rem 0; }
.back { font-size: .85rem; margin-top: -.4rem; }
table { border-collapse: collapse; font-size: .82rem; margin: .6rem 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: .25rem .45rem; text-align: right; vertical-align: top; }
td { white-space: nowrap; }
td:first-child, .meta td { white-space: normal; }
.wide { overflow-x: auto; }
th { background: #f5f5f5; }
td:first-child, th:first-child { text-align: left; }
td.params, .meta td { text-align: left; }
.params { color: #666; font-size: .78rem; }
caption { caption-side: bottom; text-align: left; color: #555; font-size: .82rem; padding-top: .4rem; max-width: 1100px; }
figure { margin: 1.4rem 0 2.2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: .9rem; max-width: 1100px; }
.note { background: #fff8e1; border-left: 4px solid #f2b01e; padding: .4rem .8rem; margin: .4rem 0; }
.error { background: #fdecea; border-left: 4px solid #d93025; padding: .4rem .8rem; margin: .4rem 0; }
pre { background: #f7f7f7; padding: .5rem; overflow-x: auto; font-size: .8rem; }
code { font-size: .85em; }
"#;

/// The whole page. Reads each chart's PNG from `chart_dir` to inline it, in a small report.
pub fn page(analysis: &Analysis, charts: &[Chart], notes: &[String], chart_dir: &Path) -> Result<String> {
    let folder = analysis.folder;
    let run_id = folder
        .meta_json
        .as_ref()
        .and_then(|m| m["run_id"].as_str().map(str::to_string))
        .or_else(|| folder.runs.first().map(|r| r.key.run_id.clone()))
        .unwrap_or_else(|| "run".into());
    let mut html = String::new();
    writeln!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>GC harness report: {id}</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>{STYLE}</style>\n\
         </head>\n<body>",
        id = escape(&run_id)
    )?;
    header(&mut html, analysis, &run_id)?;
    contents(&mut html, analysis, charts)?;
    notes_section(&mut html, analysis, notes)?;
    reproduces_section(&mut html, analysis)?;
    let experiment = folder.meta_json.as_ref().and_then(|m| m["experiment"].as_str()).unwrap_or("adhoc");
    let inline = experiment == "adhoc" && charts.len() <= MAX_INLINE_CHARTS;
    let sweeps: Vec<&Chart> = charts.iter().filter(|c| c.program.is_none()).collect();
    if !sweeps.is_empty() {
        writeln!(html, "<section id=\"sweep\">\n<h2>Parameter sweeps</h2>")?;
        for chart in sweeps {
            figure(&mut html, chart, chart_dir, inline)?;
        }
        writeln!(html, "</section>")?;
    }
    reading_section(&mut html)?;
    for program in &analysis.programs {
        program_section(&mut html, analysis, program, charts, chart_dir, inline)?;
    }
    metadata_section(&mut html, analysis)?;
    writeln!(html, "</body>\n</html>")?;
    Ok(html)
}

/// A single run (not an experiment) with at most this many charts has them inline, so the page
/// alone can be mailed; larger ones link the files in `charts/`, which keeps the page small
/// (the `thresholds` experiment's inlined page was 26 MB).
pub const MAX_INLINE_CHARTS: usize = 6;

/// The anchor of a program's section, and of its tables.
fn program_anchor(program: &Program) -> String {
    format!("program-{}", program.slug)
}

/// One workload configuration: its tables, then its charts.
fn program_section(
    html: &mut String,
    analysis: &Analysis,
    program: &Program,
    charts: &[Chart],
    chart_dir: &Path,
    inline: bool,
) -> Result<()> {
    let anchor = program_anchor(program);
    writeln!(
        html,
        "<section id=\"{anchor}\">\n<h2>{}</h2>\n<p class=\"back\"><a href=\"#index\">back to the index</a></p>",
        escape(&program.label)
    )?;
    figures_table(html, program, &anchor)?;
    overhead_table_html(html, analysis, program, &anchor)?;
    mmu_table(html, analysis, program, &anchor)?;
    let own: Vec<&Chart> = charts.iter().filter(|c| c.program.as_deref() == Some(program.slug.as_str())).collect();
    if !analysis.has_memory() {
        writeln!(
            html,
            "<p class=\"note\">No memory samples in this run folder (<code>memory.csv</code>): the memory-over-time charts are skipped.</p>"
        )?;
    }
    for chart in own {
        figure(html, chart, chart_dir, inline)?;
    }
    writeln!(html, "</section>")?;
    Ok(())
}

fn header(html: &mut String, analysis: &Analysis, run_id: &str) -> Result<()> {
    let runs = &analysis.folder.runs;
    let meta = analysis.folder.meta_json.as_ref();
    let field = |name: &str| meta.and_then(|m| m[name].as_str()).unwrap_or("?").to_string();
    let ok = runs.iter().filter(|r| r.outcome.status == Status::Ok).count();
    let programs: Vec<String> = analysis.programs.iter().map(|p| p.label.clone()).collect();
    writeln!(html, "<header>\n<h1>GC harness report: {}</h1>", escape(run_id))?;
    writeln!(
        html,
        "<p class=\"lead\">Experiment <b>{}</b> · {} · commit <code>{}</code> · {ok} of {} cells ok · {}</p>\n</header>",
        escape(&field("experiment")),
        escape(&field("created_utc")),
        escape(&field("git_commit")),
        runs.len(),
        escape(&programs.join(", ")),
    )?;
    Ok(())
}

/// The index: sweeps first, then one entry per workload configuration with its tables and
/// charts, each a link to its anchor.
fn contents(html: &mut String, analysis: &Analysis, charts: &[Chart]) -> Result<()> {
    writeln!(html, "<nav id=\"index\">\n<h2>Index</h2>\n<ul class=\"index\">")?;
    writeln!(html, "<li><a href=\"#notes\">Notes and checks</a></li>")?;
    if analysis.folder.meta_json.as_ref().is_some_and(|m| m["reproduces"].is_string()) {
        writeln!(html, "<li><a href=\"#reproduces\">What this experiment reproduces</a></li>")?;
    }
    let sweeps: Vec<&Chart> = charts.iter().filter(|c| c.program.is_none()).collect();
    if !sweeps.is_empty() {
        writeln!(html, "<li><a href=\"#sweep\">Parameter sweeps</a>: {}</li>", chart_links(&sweeps))?;
    }
    writeln!(html, "<li><a href=\"#reading\">How to read the tables</a></li>")?;
    for program in &analysis.programs {
        let anchor = program_anchor(program);
        let own: Vec<&Chart> = charts.iter().filter(|c| c.program.as_deref() == Some(program.slug.as_str())).collect();
        writeln!(
            html,
            "<li><a href=\"#{anchor}\">{}</a> ({} configuration{}): tables <a href=\"#{anchor}-figures\">figures</a> · \
             <a href=\"#{anchor}-overhead\">overhead</a> · <a href=\"#{anchor}-mmu\">MMU</a>; charts {}</li>",
            escape(&program.label),
            program.configurations.len(),
            plural(program.configurations.len()),
            chart_links(&own)
        )?;
    }
    writeln!(html, "<li><a href=\"#metadata\">Run metadata</a></li>\n</ul>\n</nav>")?;
    Ok(())
}

/// Links to charts by their short name (a program's chart: the title before the program's
/// label), the parts of one chart as numbers after its name: `Summary (parts 1 2 3)`.
fn chart_links(charts: &[&Chart]) -> String {
    let mut kinds: Vec<(String, Vec<&Chart>)> = Vec::new();
    for chart in charts {
        let name =
            if chart.program.is_some() { chart.title.split(": ").next().unwrap_or(&chart.title) } else { &chart.title };
        match kinds.last_mut() {
            Some((last, parts)) if last == name => parts.push(chart),
            _ => kinds.push((name.to_string(), vec![chart])),
        }
    }
    let link = |chart: &Chart, text: &str| format!("<a href=\"#{}\">{}</a>", escape(&chart.stem), escape(text));
    let links: Vec<String> = kinds
        .iter()
        .map(|(name, parts)| match parts.as_slice() {
            [one] => link(one, name),
            parts => {
                let numbers: Vec<String> =
                    parts.iter().enumerate().map(|(i, c)| link(c, &(i + 1).to_string())).collect();
                format!("{} (parts {})", escape(name), numbers.join(" "))
            }
        })
        .collect();
    if links.is_empty() { "none".into() } else { links.join(" · ") }
}

fn notes_section(html: &mut String, analysis: &Analysis, notes: &[String]) -> Result<()> {
    let runs = &analysis.folder.runs;
    writeln!(html, "<section id=\"notes\">\n<h2>Notes and checks</h2>")?;
    if runs.iter().any(|r| crate::system::checked_debug_assertions(&r.setup.build_profile)) {
        writeln!(
            html,
            "<div class=\"error\"><b>Debug build</b>: {}.</div>",
            escape(crate::system::DEBUG_BUILD_WARNING)
        )?;
    }
    let machine = analysis.folder.meta.as_ref().and_then(|m| m.system.as_ref());
    for warning in machine.into_iter().flat_map(|s| &s.warnings) {
        writeln!(html, "<div class=\"error\"><b>Noisy machine</b>: {}.</div>", escape(warning))?;
    }
    let mismatches = checksum_mismatches(runs);
    if mismatches.is_empty() {
        writeln!(html, "<p>Checksums: identical under every strategy that ran, for each workload configuration.</p>")?;
    } else {
        writeln!(
            html,
            "<div class=\"error\"><b>Checksums differ between strategies</b>: a strategy changed what the workload computed.<ul>"
        )?;
        for m in mismatches {
            writeln!(html, "<li>{}</li>", escape(&m))?;
        }
        writeln!(html, "</ul></div>")?;
    }
    let not_ok: Vec<_> = runs.iter().filter(|r| r.outcome.status != Status::Ok).collect();
    if !not_ok.is_empty() {
        writeln!(
            html,
            "<div class=\"error\"><b>{} cell{} did not end ok</b>; their figures are left out of the medians.",
            not_ok.len(),
            plural(not_ok.len())
        )?;
        for row in not_ok {
            writeln!(
                html,
                "<details><summary>cell {}: {} under {} (repeat {}): {}</summary><pre>{}</pre></details>",
                row.key.cell,
                escape(&row.key.workload),
                escape(&row.key.strategy),
                row.key.repeat,
                escape(row.outcome.status.name()),
                escape(row.outcome.error.as_deref().unwrap_or(""))
            )?;
        }
        writeln!(html, "</div>")?;
    }
    for note in notes {
        writeln!(html, "<p class=\"note\">{}</p>", escape(note))?;
    }
    writeln!(html, "</section>")?;
    Ok(())
}

/// What the experiment reproduces, from its file, shown above the figures measured here.
fn reproduces_section(html: &mut String, analysis: &Analysis) -> Result<()> {
    let Some(reproduces) = analysis.folder.meta_json.as_ref().and_then(|m| m["reproduces"].as_str()) else {
        return Ok(());
    };
    writeln!(
        html,
        "<section id=\"reproduces\">\n<h2>What this experiment reproduces</h2>\n<p class=\"lead\">{}</p>\n\
         <p>What was measured here follows: the figures per configuration and the overhead table; compare \
         them with the published result above.</p>\n</section>",
        escape(reproduces)
    )?;
    Ok(())
}

/// What the tables of every program show, said once.
fn reading_section(html: &mut String) -> Result<()> {
    writeln!(
        html,
        "<section id=\"reading\">\n<h2>How to read the tables</h2>\n<p><b>Figures per configuration</b>: \
         medians over the ok repeats; the range is the smallest and largest wall time. Memory management is the \
         time in collections and refcount cascades, the exit collection (after the workload returned) included; \
         pause percentiles are per cell, then the median over repeats.</p>\n<p><b>Overhead against a lower bound \
         (LBO)</b>: each configuration's cost as a multiple of a lower bound, after the LBO method (Cai et al., \
         <i>Distilling the Real Cost of Production Garbage Collectors</i>, ISPASS 2022). 1.00× is the bound; lower \
         is better; no figure is below it.</p>\n<p><b>Minimum mutator utilisation (MMU)</b>: for each window \
         length, the smallest share of any window of that length left to the program (Cheng and Blelloch, PLDI \
         2001), from the pauses of the repeat with the median wall time; pauses after the workload returned (the \
         exit collection) are left out. 100% is no pause; 0% means some pause is at least as long as the window. \
         Windows longer than the run are the whole run. The MMU chart draws the whole curve.</p>\n</section>"
    )?;
    Ok(())
}

fn figures_table(html: &mut String, program: &Program, anchor: &str) -> Result<()> {
    writeln!(html, "<h3 id=\"{anchor}-figures\">Figures per configuration</h3>\n<div class=\"wide\"><table>")?;
    writeln!(
        html,
        "<tr><th>configuration</th><th>ok</th><th>wall time</th><th>range</th><th>memory management</th>\
         <th>pauses</th><th>p50</th><th>p99</th><th>max</th><th>collections 0/1/2</th><th>peak RSS</th>\
         <th>peak reserved</th><th>leaked</th></tr>"
    )?;
    for c in &program.configurations {
        figures_row(html, c)?;
    }
    writeln!(html, "</table></div>")?;
    Ok(())
}

fn figures_row(html: &mut String, c: &Configuration) -> Result<()> {
    let ms = |v: Option<f64>| v.map_or("–".into(), |ms| format_duration_us(ms * 1e3));
    let us = |v: Option<f64>| v.map_or("–".into(), format_duration_us);
    let bytes = |v: Option<f64>| v.map_or("–".into(), |b| format_bytes(b as u64));
    let count = |v: Option<f64>| v.map_or("–".into(), |n| format!("{n:.0}"));
    let total = c.rows.len();
    let ok = c.ok_rows().count();
    let range = match c.range(|r| r.time.wall_time_ms) {
        Some((lo, hi)) if ok > 1 => format!("{}–{}", ms(Some(lo)), ms(Some(hi))),
        _ => String::new(),
    };
    let collections = [
        c.median(|r| r.collections.collections_gen0.map(|n| n as f64)),
        c.median(|r| r.collections.collections_gen1.map(|n| n as f64)),
        c.median(|r| r.collections.collections_gen2.map(|n| n as f64)),
    ];
    let collections = match collections {
        [Some(a), Some(b), Some(d)] => format!("{a:.0}/{b:.0}/{d:.0}"),
        _ => "–".into(),
    };
    let leaked = match (
        c.median(|r| r.memory.leaked_objects.map(|n| n as f64)),
        c.median(|r| r.memory.leaked_bytes.map(|n| n as f64)),
    ) {
        (Some(objects), Some(b)) => format!("{objects:.0} obj / {}", format_bytes(b as u64)),
        _ => "–".into(),
    };
    let params = c.params_in_force();
    writeln!(
        html,
        "<tr><td>{}<br><span class=\"params\">{}</span></td><td>{ok}/{total}</td><td>{}</td><td>{range}</td><td>{}</td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{collections}</td><td>{}</td><td>{}</td><td>{leaked}</td></tr>",
        escape(&c.label),
        escape(params),
        ms(c.median(|r| r.time.wall_time_ms)),
        ms(c.median(|r| r.time.mm_time_ms)),
        count(c.median(|r| r.pauses.pause_count.map(|n| n as f64))),
        us(c.median(|r| r.pauses.pause_p50_us)),
        us(c.median(|r| r.pauses.pause_p99_us)),
        us(c.median(|r| r.pauses.pause_max_us)),
        bytes(c.median(|r| r.memory.peak_rss_bytes.map(|b| b as f64))),
        bytes(c.median(|r| r.memory.peak_reserved_bytes.map(|b| b as f64))),
    )?;
    Ok(())
}

fn overhead_table_html(html: &mut String, analysis: &Analysis, program: &Program, anchor: &str) -> Result<()> {
    let table = overhead_table(analysis, program);
    let describe = |b: &Option<Baseline>, format: &dyn Fn(f64) -> String| match b {
        Some(b) => format!("{} = {}", escape(&b.basis), format(b.value)),
        None => "none (no ok cell)".into(),
    };
    let time_basis = "the distilled mutator time: the smallest median wall time minus memory-management \
         time over the configurations, which is <code>nogc</code>'s wall time where that is lower (it spends none \
         managing memory)";
    let heap_basis = if analysis.has_memory() {
        "the smallest peak of live bytes sampled in <code>memory.csv</code> (what the program needs at least)"
    } else {
        "the smallest peak reserved bytes observed (no <code>memory.csv</code>)"
    };
    writeln!(html, "<h3 id=\"{anchor}-overhead\">Overhead against a lower bound (LBO)</h3>\n<table>")?;
    writeln!(
        html,
        "<caption>Medians over ok repeats. <b>Time</b> against {time_basis}: {}. <b>Heap</b>: the allocator's \
         peak reserved bytes against {heap_basis}: {}; <code>nogc</code> keeps everything, so its peak is \
         no lower bound. <b>RSS</b> against the smallest peak RSS observed: {}. Wall time excludes the exit \
         collection.</caption>",
        describe(&table.time_baseline, &|ms| format_duration_us(ms * 1e3)),
        describe(&table.heap_baseline, &|b| format_bytes(b as u64)),
        describe(&table.rss_baseline, &|b| format_bytes(b as u64)),
    )?;
    writeln!(
        html,
        "<tr><th>configuration</th><th>wall time</th><th>time overhead</th><th>peak reserved</th>\
         <th>heap overhead</th><th>peak RSS</th><th>RSS overhead</th></tr>"
    )?;
    let ratio = |r: Option<f64>| r.map_or("–".into(), |r| format!("{r:.2}×"));
    let bytes = |v: Option<f64>| v.map_or("–".into(), |b| format_bytes(b as u64));
    for row in &table.rows {
        writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row.configuration.label),
            row.wall_ms.map_or("–".into(), |ms| format_duration_us(ms * 1e3)),
            ratio(row.time),
            bytes(row.heap_bytes),
            ratio(row.heap),
            bytes(row.rss_bytes),
            ratio(row.rss),
        )?;
    }
    writeln!(html, "</table>")?;
    for why in &table.below_bound {
        writeln!(html, "<p class=\"note\">{}</p>", escape(why))?;
    }
    Ok(())
}

/// Minimum mutator utilisation at a few window lengths, per configuration: points of the MMU
/// curves, from the pauses of the representative repeat inside the wall time.
fn mmu_table(html: &mut String, analysis: &Analysis, program: &Program, anchor: &str) -> Result<()> {
    writeln!(
        html,
        "<h3 id=\"{anchor}-mmu\">Minimum mutator utilisation (MMU)</h3>\n<table>\n<tr><th>configuration</th><th>pauses</th>"
    )?;
    for window in mmu::WINDOWS_NS {
        writeln!(html, "<th>MMU {}</th>", format_duration_us(window / 1e3))?;
    }
    writeln!(html, "</tr>")?;
    for c in &program.configurations {
        let Some(row) = c.representative() else { continue };
        let (pauses, wall_ns) = mmu::mutator_pauses(analysis, row);
        write!(html, "<tr><td>{}</td><td>{}</td>", escape(&c.label), pauses.len())?;
        for window in mmu::WINDOWS_NS {
            write!(html, "<td>{:.1}%</td>", 100.0 * mmu::mmu(&pauses, wall_ns, window))?;
        }
        writeln!(html, "</tr>")?;
    }
    writeln!(html, "</table>")?;
    Ok(())
}

/// A chart with its caption: the PNG inline (`inline`) or linked from `charts/`.
fn figure(html: &mut String, chart: &Chart, chart_dir: &Path, inline: bool) -> Result<()> {
    let png_path = chart_dir.join(format!("{}.png", chart.stem));
    let data = if inline {
        let png = std::fs::read(&png_path).with_context(|| format!("reading {}", png_path.display()))?;
        format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png))
    } else {
        format!("charts/{}.png", escape(&chart.stem))
    };
    let (width, height) = chart.size;
    writeln!(
        html,
        "<figure id=\"{stem}\">\n<img class=\"chart\" src=\"{data}\" width=\"{width}\" \
         height=\"{height}\" alt=\"{title}\">\n<figcaption><b>{title}.</b> {caption} \
         <a href=\"charts/{stem}.svg\">SVG</a> · <a href=\"charts/{stem}.png\">PNG</a></figcaption>\n</figure>",
        stem = escape(&chart.stem),
        title = escape(&chart.title),
        caption = escape(&chart.caption),
    )?;
    Ok(())
}

fn metadata_section(html: &mut String, analysis: &Analysis) -> Result<()> {
    writeln!(html, "<section id=\"metadata\">\n<h2>Run metadata</h2>")?;
    let Some(serde_json::Value::Object(meta)) = &analysis.folder.meta_json else {
        writeln!(html, "<p class=\"note\">No readable meta.json in this run folder.</p>\n</section>")?;
        return Ok(());
    };
    writeln!(html, "<table class=\"meta\">")?;
    for (key, value) in meta {
        let shown = match (key.as_str(), value) {
            ("cells", _) => continue,
            ("command_line", serde_json::Value::Array(args)) => {
                let args: Vec<String> = args.iter().map(|a| a.as_str().map_or(a.to_string(), str::to_string)).collect();
                format!("<code>{}</code>", escape(&args.join(" ")))
            }
            (_, serde_json::Value::String(s)) => escape(s),
            (_, serde_json::Value::Null) => "–".into(),
            (_, serde_json::Value::Array(items)) if items.is_empty() => "–".into(),
            (_, value @ (serde_json::Value::Array(_) | serde_json::Value::Object(_))) => {
                format!("<pre>{}</pre>", escape(&serde_json::to_string_pretty(value)?))
            }
            (_, value) => escape(&value.to_string()),
        };
        writeln!(html, "<tr><th>{}</th><td>{shown}</td></tr>", escape(key))?;
    }
    writeln!(html, "</table>")?;
    if let Some(serde_json::Value::Array(cells)) = meta.get("cells") {
        writeln!(
            html,
            "<details><summary>The {} cells of this folder, as planned</summary>\n<pre>{}</pre></details>",
            cells.len(),
            escape(&serde_json::to_string_pretty(cells)?)
        )?;
    }
    writeln!(html, "</section>")?;
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Text made safe for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}
