//! Exports of the summary, the overhead table and comparisons as files a paper can include
//! (`--export markdown|latex|json|csv`). As hyperfine's exporters: one trait, [`Exporter`], one
//! file per format. Every exporter renders the same [`Document`]: titled tables of text cells,
//! already rounded and with units in their headers, as the terminal shows them.

mod csv;
mod json;
mod latex;
mod markdown;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

/// A table: a title (the caption), a header row with units, rows of cells, notes below.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

/// What an export holds: a title and its tables.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Document {
    pub title: String,
    pub tables: Vec<Table>,
}

/// Renders a [`Document`] in one format.
pub trait Exporter {
    /// The file extension, without the dot.
    fn extension(&self) -> &'static str;
    /// The whole file.
    fn render(&self, document: &Document) -> String;
}

/// `value` to three significant digits (`0.370`, `41.2`, `812`, `12345`).
pub fn significant(value: f64) -> String {
    let digits = if value == 0.0 { 0.0 } else { 2.0 - value.abs().log10().floor() };
    format!("{value:.*}", digits.clamp(0.0, 6.0) as usize)
}

/// The formats of `--export`.
pub const FORMATS: [&str; 4] = ["markdown", "latex", "json", "csv"];

/// The exporter of a format named in [`FORMATS`].
pub fn exporter(format: &str) -> Option<Box<dyn Exporter>> {
    Some(match format {
        "markdown" => Box::new(markdown::Markdown),
        "latex" => Box::new(latex::Latex),
        "json" => Box::new(json::Json),
        "csv" => Box::new(csv::Csv),
        _ => return None,
    })
}

/// Writes `document` as `<stem>.<extension>` in `dir`, once per format; returns the files.
pub fn write_all(document: &Document, formats: &[String], dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
    formats
        .iter()
        .map(|format| {
            let exporter = exporter(format).with_context(|| format!("unknown export format `{format}`"))?;
            let path = dir.join(format!("{stem}.{}", exporter.extension()));
            std::fs::write(&path, exporter.render(document)).with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub fn sample() -> Document {
        Document {
            title: "trees & co".into(),
            tables: vec![Table {
                title: "Summary: trees_smoke".into(),
                header: vec!["configuration".into(), "wall ms".into(), "p99 µs".into()],
                rows: vec![
                    vec!["generational 100%".into(), "812 (798–830)".into(), "650".into()],
                    vec!["a|b".into(), "1.5".into(), "-".into()],
                ],
                notes: vec!["Medians over 3 repeats.".into()],
            }],
        }
    }

    #[test]
    fn every_format_renders_every_cell() {
        for format in FORMATS {
            let text = exporter(format).unwrap().render(&sample());
            for cell in ["812", "650", "generational 100", "Medians over 3 repeats"] {
                assert!(text.contains(cell), "{format} lacks {cell}:\n{text}");
            }
        }
        assert!(exporter("pdf").is_none());
    }

    #[test]
    fn significant_digits() {
        assert_eq!(significant(0.3704), "0.370");
        assert_eq!(significant(41.23), "41.2");
        assert_eq!(significant(12345.6), "12346");
        assert_eq!(significant(0.0), "0");
    }

    #[test]
    fn write_all_writes_one_file_per_format() {
        let dir = tempfile::TempDir::new().unwrap();
        let formats: Vec<String> = FORMATS.iter().map(|f| f.to_string()).collect();
        let files = write_all(&sample(), &formats, dir.path(), "summary").unwrap();
        let names: Vec<String> = files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["summary.md", "summary.tex", "summary.json", "summary.csv"]);
    }
}
