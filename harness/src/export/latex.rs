//! LaTeX: one `table` float per table, a `booktabs` tabular (`\usepackage{booktabs}`), the
//! title as its caption, notes below the tabular.

use super::{Document, Exporter};

pub struct Latex;

impl Exporter for Latex {
    fn extension(&self) -> &'static str {
        "tex"
    }

    fn render(&self, document: &Document) -> String {
        let mut out = format!("% {} (written by harness; needs \\usepackage{{booktabs}})\n", escape(&document.title));
        for table in &document.tables {
            let columns: String = (0..table.header.len()).map(|i| if i == 0 { 'l' } else { 'r' }).collect();
            out += "\\begin{table}\n\\centering\n\\small\n";
            out += &format!("\\caption{{{}}}\n", escape(&table.title));
            out += &format!("\\begin{{tabular}}{{{columns}}}\n\\toprule\n");
            let row = |cells: &[String]| {
                format!("{} \\\\\n", cells.iter().map(|c| escape(c)).collect::<Vec<_>>().join(" & "))
            };
            out += &row(&table.header);
            out += "\\midrule\n";
            for cells in &table.rows {
                out += &row(cells);
            }
            out += "\\bottomrule\n\\end{tabular}\n";
            for note in &table.notes {
                out += &format!("\n\\par\\footnotesize {}\n", escape(note));
            }
            out += "\\end{table}\n\n";
        }
        out
    }
}

/// Text with LaTeX's special characters escaped, and the non-ASCII ones the tables use written
/// as commands, so the file compiles under pdfLaTeX.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '–' => out.push_str("--"),
            'µ' => out.push_str("$\\mu$"),
            '×' => out.push_str("$\\times$"),
            '≥' => out.push_str("$\\geq$"),
            '−' => out.push('-'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        let text = Latex.render(&crate::export::tests::sample());
        assert!(text.contains("\\caption{Summary: trees\\_smoke}"), "{text}");
        assert!(text.contains("generational 100\\% & 812 (798--830) & 650 \\\\"), "{text}");
        assert!(text.contains("p99 $\\mu$s"), "{text}");
        assert!(text.contains("\\begin{tabular}{lrr}"), "{text}");
    }
}
