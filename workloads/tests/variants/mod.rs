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
        "traversal" => vec![set(&[]), set(&[("levels", "1"), ("collections", "3")]), set(&[("levels", "60")])],
        "churn" => vec![
            set(&[]),
            // Zipf's exponent-1 branch (exp and log instead of pow).
            set(&[("size-exponent", "1")]),
            // Uniform sizes, mostly lists, and Poisson at the largest mean Knuth's method serves.
            set(&[("size-exponent", "0"), ("max-size", "3"), ("list-fraction", "0.6"), ("degree-mean", "11.9")]),
            // No back edges at all: acyclic, so pure refcounting frees everything.
            set(&[("degree-mean", "0"), ("mix", "60:0:0:40")]),
            // Deep walks, heavy linking and unlinking.
            set(&[("descend", "0.95"), ("mix", "30:30:30:10")]),
        ],
        "btree" => vec![
            set(&[]),
            set(&[("parents", "true")]),
            set(&[("degree", "2"), ("parents", "true"), ("rebuild", "1"), ("records", "1000")]),
            set(&[("degree", "3"), ("records", "1"), ("rebuild", "1"), ("rounds", "3")]),
        ],
        "requests" => vec![
            set(&[]),
            set(&[("cycle-fraction", "1")]),
            set(&[("cycle-fraction", "0"), ("cache-store", "0")]),
            set(&[("objects-per-request", "8"), ("sample", "1"), ("cache", "1"), ("cache-store", "1")]),
            set(&[("touch", "true")]),
            set(&[("sample", "0"), ("touch", "true")]),
            // A heap that keeps growing: about one module every other request.
            set(&[("grow", "25")]),
        ],
        "cache" => vec![
            set(&[]),
            set(&[("capacity", "1"), ("skew", "0")]),
            set(&[("variant", "weak-value")]),
            set(&[("variant", "weak-value"), ("callbacks", "false"), ("sessions", "1")]),
        ],
        _ => vec![set(&[])],
    }
}
