//! Helpers shared by the integration tests: which allocator to run on, and how many
//! property-test cases. `.ci/run` sets both for its valgrind stage.
#![allow(dead_code)] // each test file uses the helpers it needs

use strategies::{AllocatorConfig, AllocatorKind, SystemBackend};

/// The allocator named by `OBJECT_MODEL_ALLOCATOR=kind/backend` (valgrind runs `per-object/libc`).
fn from_env() -> Option<AllocatorConfig> {
    let spec = std::env::var("OBJECT_MODEL_ALLOCATOR").ok()?;
    let (kind, backend) = spec.split_once('/').expect("OBJECT_MODEL_ALLOCATOR=kind/backend");
    Some(AllocatorConfig {
        kind: AllocatorKind::from_name(kind).expect("allocator kind"),
        backend: SystemBackend::from_name(backend).expect("backend"),
    })
}

/// The allocator configurations to test on: all of them, or the one from the environment.
pub fn allocators() -> Vec<AllocatorConfig> {
    from_env().map_or_else(AllocatorConfig::all, |config| vec![config])
}

/// One allocator: the default, or the one from the environment.
pub fn allocator() -> AllocatorConfig {
    from_env().unwrap_or_default()
}

/// Property-test cases: `default`, or `PROPTEST_CASES` (valgrind runs fewer).
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
