//! The runtime under test: a CPython-like object model on a pymalloc-style allocator, the safe
//! Mutator API that workloads program against, and the garbage-collection strategies.
//!
//! ```text
//!   workloads ──► Heap / Handle (heap/)         safe API: allocate, read/write slots, weakrefs,
//!                    │                           checkpoints; strong handles own one refcount;
//!                    │                           one module per idea (see heap/mod.rs)
//!                    ├─► object.rs, dict.rs      block layout, kinds, traversal, the dict table
//!                    ├─► heap/gc_list.rs         the intrusive lists of tracked containers
//!                    ├─► heap/collector/         the cycle collectors as plug-ins: CPython 3.11's
//!                    │                           generational one, Bacon-Rajan trial deletion
//!                    ├─► dyn Strategy            when/how garbage is found (strategy/)
//!                    ├─► Recorder                pauses, memory-management time, memory samples
//!                    └─► dyn Allocator (alloc/)  pymalloc-style arenas/pools, or malloc per object
//! ```
//!
//! `unsafe` lives in `alloc/` (arenas, system allocators, valgrind client requests), in
//! `object.rs` and `dict.rs` (the only code that computes addresses inside an object), in the
//! `heap/` modules that follow object pointers (all but `api`, `cap`, `checkpoints`,
//! `free_lists` and `mod`), and in `recorder.rs` (one `pread` of `/proc/self/statm`). No raw
//! pointer leaves this crate. Every `unsafe` block has a `// SAFETY:` comment naming its
//! invariant and the test that checks it.

pub mod alloc;
mod dict;
mod heap;
mod object;
pub mod params;
pub mod recorder;
pub mod strategy;

pub use alloc::{AllocStats, Allocator, AllocatorConfig, AllocatorKind, SystemBackend};
pub use heap::{
    COW_SAMPLES, CallbackFn, CallbackId, Collection, CowPhase, CowSample, FinalReport, FinalizerFn, FinalizerId,
    FinalizerKind, GENERATIONS, GenerationStats, Handle, Heap, HeapCapExceeded, HeapConfig, HeapStats,
    IncrementalStatus, LeakReport, Local, MAX_WORKERS, Phase, Share, WeakCallback, WorkerGeneration, WorkerReport,
    WorkersFailed,
};
pub use object::Kind;
pub use params::ParamError;
pub use recorder::{DEFAULT_SAMPLE_EVERY, MemorySample, Pause, PauseKind, SampleTrigger};
pub use strategy::{BackEdges, STRATEGIES, Strategy, StrategyInfo};

/// Whether this crate was built with debug assertions (the collector then validates its lists
/// at every step, which doubles pause times): result files record it.
pub const DEBUG_ASSERTIONS: bool = cfg!(debug_assertions);
