//! Markdown: a `###` heading and a pipe table per table, notes as paragraphs.

use super::{Document, Exporter};

pub struct Markdown;

impl Exporter for Markdown {
    fn extension(&self) -> &'static str {
        "md"
    }

    fn render(&self, document: &Document) -> String {
        let mut out = format!("## {}\n", document.title);
        for table in &document.tables {
            out += &format!("\n### {}\n\n", table.title);
            let row =
                |cells: &[String]| format!("| {} |\n", cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | "));
            out += &row(&table.header);
            let alignments: Vec<&str> = (0..table.header.len()).map(|i| if i == 0 { ":--" } else { "--:" }).collect();
            out += &format!("|{}|\n", alignments.join("|"));
            for cells in &table.rows {
                out += &row(cells);
            }
            for note in &table.notes {
                out += &format!("\n{note}\n");
            }
        }
        out
    }
}

/// A cell with its pipes escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_are_escaped_and_numbers_right_aligned() {
        let text = Markdown.render(&crate::export::tests::sample());
        assert!(text.contains("| a\\|b | 1.5 | - |"), "{text}");
        assert!(text.contains("|:--|--:|--:|"), "{text}");
    }
}
