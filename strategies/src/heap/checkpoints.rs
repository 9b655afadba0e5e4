//! Checkpoints the workload announces (`startup_done`, `request_done`), where the strategy may
//! act and the recorder samples memory, and the program's own `gc.collect()`.

use super::{GENERATIONS, Heap};
use crate::recorder::{HeapFigures, SampleTrigger};
use crate::strategy::{Checkpoint, CheckpointInfo, CollectorKind, GcAction};

impl Heap {
    /// The workload has built its long-lived heap.
    pub fn startup_done(&self) {
        self.counters.startup_done.set(true);
        if self.mode.record {
            self.recorder.borrow_mut().record_startup_done();
            self.sample_at_checkpoint(SampleTrigger::Startup);
        }
        self.checkpoint(Checkpoint::StartupDone);
        if self.strategy.borrow().immortal() {
            self.immortalize();
        }
    }

    /// The workload has finished one unit of work.
    pub fn request_done(&self) {
        self.counters.requests_done.set(self.counters.requests_done.get() + 1);
        if self.mode.record {
            self.recorder.borrow_mut().record_request_done();
            self.sample_at_checkpoint(SampleTrigger::Request);
        }
        self.checkpoint(Checkpoint::RequestDone);
        self.cow_sample_at_request();
    }

    /// The program itself calls `gc.collect()`, as pyperformance's `gc_collect` and
    /// `gc_traversal` do: a full collection where the strategy has a cycle collector (even with
    /// automatic collection off, as in CPython), nothing under pure refcounting.
    pub fn program_collect(&self) {
        if self.mode.collector != CollectorKind::None {
            self.collect(GENERATIONS - 1);
        }
    }

    /// Lets the strategy act at a checkpoint (freeze, turn automatic collection on, collect by hand).
    pub(super) fn checkpoint(&self, checkpoint: Checkpoint) {
        let info = CheckpointInfo {
            requests_done: self.counters.requests_done.get(),
            live_bytes: self.counters.live_bytes.get(),
        };
        let action = self.strategy.borrow_mut().at_checkpoint(checkpoint, info);
        match action {
            Some(GcAction::Freeze) => self.freeze(),
            Some(GcAction::FreezeAndEnable) => {
                self.freeze();
                self.gc_enable();
            }
            Some(GcAction::Collect(generation)) => {
                self.collect(generation);
            }
            None => {}
        }
    }

    /// Takes a checkpoint sample if the schedule allows one now.
    pub(super) fn sample_at_checkpoint(&self, trigger: SampleTrigger) {
        if self.recorder.borrow().schedule().checkpoint_due(trigger, self.counters.allocations.get()) {
            self.sample_memory(trigger);
        }
    }

    /// The interval sample due at this allocation count; off the allocation fast path.
    #[cold]
    #[inline(never)]
    pub(super) fn sample_interval(&self) {
        self.sample_memory(SampleTrigger::Interval);
    }

    /// Records the heap's and the process's memory now, and when the next interval sample is due.
    pub(super) fn sample_memory(&self, trigger: SampleTrigger) {
        let figures = HeapFigures {
            allocations: self.counters.allocations.get(),
            requests_done: self.counters.requests_done.get(),
            live_objects: self.counters.live_objects.get(),
            live_bytes: self.counters.live_bytes.get(),
            retained_bytes: self.graveyard.bytes.get(),
            alloc: self.alloc_stats(),
        };
        let mut recorder = self.recorder.borrow_mut();
        recorder.record_sample(trigger, figures);
        self.next_interval_sample.set(recorder.schedule().next_interval(self.counters.allocations.get()));
    }
}
