//! JSON: the [`Document`] as it is, pretty-printed.

use super::{Document, Exporter};

pub struct Json;

impl Exporter for Json {
    fn extension(&self) -> &'static str {
        "json"
    }

    fn render(&self, document: &Document) -> String {
        serde_json::to_string_pretty(document).expect("a document serialises") + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_round_trips() {
        let value: serde_json::Value = serde_json::from_str(&Json.render(&crate::export::tests::sample())).unwrap();
        assert_eq!(value["tables"][0]["rows"][1][0], "a|b");
    }
}
