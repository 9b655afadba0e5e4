//! CSV in tidy long form: one row per cell (`table,row,column,value`), so tables of different
//! columns share one file and a plotting script never depends on a column order. Notes are
//! rows with the column `note`.

use super::{Document, Exporter};

pub struct Csv;

impl Exporter for Csv {
    fn extension(&self) -> &'static str {
        "csv"
    }

    fn render(&self, document: &Document) -> String {
        let mut writer = ::csv::Writer::from_writer(Vec::new());
        let mut write = |fields: [&str; 4]| writer.write_record(fields).expect("writing to memory");
        write(["table", "row", "column", "value"]);
        for table in &document.tables {
            for (r, cells) in table.rows.iter().enumerate() {
                for (column, value) in table.header.iter().zip(cells) {
                    write([&table.title, &(r + 1).to_string(), column, value]);
                }
            }
            for note in &table.notes {
                write([&table.title, "", "note", note]);
            }
        }
        String::from_utf8(writer.into_inner().expect("flushing to memory")).expect("UTF-8 in, UTF-8 out")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_cell() {
        let text = Csv.render(&crate::export::tests::sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "table,row,column,value");
        assert_eq!(lines[1], "Summary: trees_smoke,1,configuration,generational 100%");
        assert_eq!(lines.len(), 1 + 6 + 1);
    }
}
