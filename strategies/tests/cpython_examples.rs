//! Runs `tests/cpython/examples.py` under `python3` (CPython 3.11) and checks that CPython
//! still gives the figures `tests/collector.rs` expects of our collector, so the expected values
//! there are CPython's own and not our guesses. Set `PYTHON` to choose the interpreter.

use std::collections::BTreeMap;
use std::process::Command;

/// CPython 3.11.7's output on the development machine; `tests/collector.rs` asserts the same.
const EXPECTED: &[(&str, &str)] = &[
    ("two_node_cycle", "2"),
    ("self_list", "1"),
    ("self_dict", "1"),
    ("weakref_live_collect", "2"),
    ("weakref_live_calls", "1"),
    ("weakref_cleared", "True"),
    ("weakref_garbage_collect", "4"),
    ("weakref_garbage_calls", "0"),
    ("weakref_self_freeing_collect", "3"),
    ("resurrect_first_collect", "0"),
    ("resurrect_calls", "1"),
    ("resurrect_finalized", "True"),
    ("resurrect_second_collect", "2"),
    ("resurrect_calls_after", "1"),
    ("finalizers_collect", "2"),
    ("finalizers_calls", "2"),
    ("frozen_collect", "0"),
    ("unfrozen_collect", "2"),
];

#[test]
fn cpython_gives_the_figures_our_collector_is_held_to() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cpython/examples.py");
    let output = Command::new(&python)
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{python}` (CPython 3.11 is needed; set PYTHON): {e}"));
    assert!(output.status.success(), "{python} {script} failed: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let got: BTreeMap<&str, &str> = stdout.lines().filter_map(|line| line.split_once(' ')).collect();
    let expected: BTreeMap<&str, &str> = EXPECTED.iter().copied().collect();
    assert_eq!(got, expected);
}
