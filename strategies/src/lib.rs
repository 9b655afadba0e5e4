//! The runtime under test: a CPython-like object model on a pymalloc-style allocator, the safe
//! Mutator API that workloads program against, and the garbage-collection strategies.
//!
//! ```text
//!   workloads ──► Heap / Handle (heap.rs)       safe API: allocate, read/write slots, weakrefs,
//!                    │                           checkpoints; strong handles own one refcount
//!                    ├─► object.rs               block layout, kinds, traversal (the unsafe core)
//!                    ├─► heap/collector.rs       CPython 3.11's generational cycle collector
//!                    ├─► dyn Strategy            when/how garbage is found (strategy/)
//!                    ├─► Recorder                pauses, memory-management time, memory samples
//!                    └─► dyn Allocator (alloc/)  pymalloc-style arenas/pools, or malloc per object
//! ```
//!
//! `unsafe` lives in `alloc/` and in `object.rs`/`heap.rs`; no raw pointer leaves this crate.

pub mod alloc;
mod dict;
mod heap;
mod object;
pub mod params;
pub mod recorder;
pub mod strategy;

pub use alloc::{AllocStats, Allocator, AllocatorConfig, AllocatorKind, SystemBackend};
pub use heap::{
    CallbackFn, CallbackId, Collection, FinalReport, FinalizerFn, FinalizerId, FinalizerKind, GENERATIONS,
    GenerationStats, Handle, Heap, HeapCapExceeded, HeapConfig, HeapStats, LeakReport, WeakCallback,
};
pub use object::Kind;
pub use recorder::{DEFAULT_SAMPLE_EVERY, MemorySample, Pause, PauseKind, SampleTrigger};
pub use strategy::{BackEdges, ParamError, ParamSpec, Params, STRATEGIES, Strategy, StrategyInfo};
