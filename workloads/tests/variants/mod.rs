//! Parameter sets worth crossing with every strategy (and checking against the twins), per
//! workload. Shared by the conformance matrix and the twin test.

use std::collections::BTreeMap;

pub fn of(workload: &str) -> Vec<BTreeMap<String, String>> {
    let set = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    match workload {
        "trees" => vec![
            set(&[]),
            set(&[("parents", "true")]),
            set(&[("variant", "binary-trees")]),
            set(&[("variant", "binary-trees"), ("parents", "true")]),
        ],
        "cycles" => vec![set(&[]), set(&[("explicit-collect", "true"), ("survive", "0")]), set(&[("ring-size", "2")])],
        "cache" => vec![
            set(&[]),
            set(&[("capacity", "1"), ("skew", "0")]),
            set(&[("variant", "weak-value")]),
            set(&[("variant", "weak-value"), ("callbacks", "false"), ("sessions", "1")]),
        ],
        _ => vec![set(&[])],
    }
}
