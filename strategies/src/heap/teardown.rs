//! The end of a run: [`Heap::finish`] (the final sample, the exit collection, the leak walk)
//! and dropping the heap, which frees everything, leaked cycles and immortal objects included,
//! with no user code.

use std::collections::{HashMap, HashSet};
use std::ptr;

use super::blocks::owned_bytes;
use super::gc_list;
use super::{FinalReport, GENERATIONS, Heap, LeakReport};
use crate::dict;
use crate::object::{self, Kind, ObjPtr, WeakrefBody};
use crate::recorder::SampleTrigger;

impl Heap {
    /// Ends the run: counts what leaked, then frees everything. Taking the heap by value
    /// proves that no handle is left.
    ///
    /// The final memory sample is taken first, when the workload has just returned (or was
    /// stopped at the heap cap), before the globals are released and the exit collection runs.
    pub fn finish(mut self) -> FinalReport {
        if self.mode.record {
            self.sample_memory(SampleTrigger::Final);
        }
        self.release_globals();
        if self.strategy.borrow().collect_at_exit() {
            self.collect(GENERATIONS - 1);
        }
        let leaked = self.leak_report();
        let stats = self.stats();
        let log = self.recorder.get_mut().take_log();
        FinalReport {
            leaked,
            pauses: log.pauses,
            request_latencies_ns: log.request_latencies_ns,
            memory_samples: log.memory_samples,
            memory_management_ns: log.memory_management_ns,
            cap_exceeded: self.cap.exceeded.get(),
            stats,
        }
    }

    /// Walks every object reachable from the tracked containers. Once the workload has
    /// returned there are no roots, so all of it is leaked (garbage refcounting never freed),
    /// except immortal objects, which are never freed by design and are counted apart, all of
    /// them, referred to or not (a mortal object they still refer to is leaked: nothing will
    /// free it).
    pub(super) fn leak_report(&self) -> LeakReport {
        // The small ints and `()` belong to the runtime, not to the workload.
        let runtime_owned: HashSet<ObjPtr> = self
            .runtime
            .small_ints
            .get()
            .expect("built")
            .iter()
            .chain(self.runtime.empty_tuple.get())
            .copied()
            .collect();
        // SAFETY: the GC lists hold live containers; their references are live objects.
        // Test: object_model::refcount_leaks_exactly_the_cycles.
        let mut stack = unsafe { self.tracked_objects() };
        let mut seen: HashSet<ObjPtr> = stack.iter().copied().collect();
        let mut report = LeakReport::default();
        while let Some(obj) = stack.pop() {
            // SAFETY: as above. Test: object_model::refcount_leaks_exactly_the_cycles.
            unsafe {
                object::for_each_reference(obj, |child| {
                    if !runtime_owned.contains(&child) && seen.insert(child) {
                        stack.push(child);
                    }
                });
                if object::is_immortal(obj) {
                    continue;
                }
                let bytes = owned_bytes(obj) as u64;
                let entry = report.by_kind.entry((*obj).kind).or_default();
                entry.0 += 1;
                entry.1 += bytes;
                report.objects += 1;
                report.bytes += bytes;
            }
        }
        for &obj in self.runtime.immortal.borrow().iter().filter(|obj| !runtime_owned.contains(obj)) {
            report.immortal_objects += 1;
            // SAFETY: immortal objects are alive until the teardown.
            // Test: collector_oracle::immortal_objects_under_every_collector.
            report.immortal_bytes += unsafe { owned_bytes(obj) } as u64;
        }
        report
    }
}

impl Drop for Heap {
    /// Frees everything, leaked cycles included: every container drops its references (as
    /// `tp_clear` does), then the last references go. Weakref callbacks do not run.
    fn drop(&mut self) {
        self.tearing_down.set(true); // no finalizer or callback runs from here on
        // SAFETY: no handle is left and no collection runs: the live objects are what the GC
        // lists, the runtime and `garbage` hold. Test: collector_oracle::immortal_objects_under_every_collector.
        let orphans = unsafe { self.mortalize() };
        self.release_globals();
        // SAFETY: the GC lists hold live containers; we hold +1 on each while clearing.
        // Test: object_model::teardown_frees_everything.
        unsafe {
            let containers = self.tracked_objects();
            for &obj in &containers {
                self.incref(obj);
            }
            for &obj in &containers {
                self.clear_references(obj);
            }
            for &obj in &containers {
                self.decref(obj);
            }
            for obj in self.gc.garbage().take() {
                self.decref(obj);
            }
            for obj in orphans {
                self.decref(obj);
            }
            for &obj in self.runtime.small_ints.get().expect("built").iter().chain(self.runtime.empty_tuple.get()) {
                self.decref(obj);
            }
            debug_assert_eq!(self.counters.live_objects.get(), 0, "teardown left objects alive");
            self.empty_graveyard();
            debug_assert_eq!(self.counters.live_bytes.get(), 0, "teardown left blocks allocated");
            self.gc.free_lists();
        }
    }
}

impl Heap {
    /// The objects the runtime holds a reference to (small ints, `()`, the globals dict).
    pub(super) fn runtime_objects(&self) -> Vec<ObjPtr> {
        let small_ints = self.runtime.small_ints.get().into_iter().flatten();
        small_ints.chain(self.runtime.empty_tuple.get()).chain(self.runtime.globals.get()).copied().collect()
    }

    /// Gives every immortal object its true count back, the references the live objects and the
    /// runtime hold to it, so that the teardown frees it like any other (valgrind-clean).
    /// Returns those nothing refers to any more, each with a count of 1 for the caller to drop.
    ///
    /// # Safety
    /// No handle is left and no collection runs: every live object is reachable from the GC
    /// lists, the runtime's objects, `garbage` and the immortal objects.
    unsafe fn mortalize(&self) -> Vec<ObjPtr> {
        let immortal = self.runtime.immortal.take();
        if immortal.is_empty() {
            return immortal;
        }
        let held: Vec<ObjPtr> =
            self.runtime_objects().into_iter().chain(self.gc.garbage().borrow().iter().copied()).collect();
        let mut counts: HashMap<ObjPtr, u32> = HashMap::new();
        for &obj in &held {
            *counts.entry(obj).or_default() += 1;
        }
        // SAFETY: forwarded; the references of live objects are live.
        // Test: collector_oracle::immortal_objects_under_every_collector.
        unsafe {
            let mut stack = self.tracked_objects();
            stack.extend(held.iter().chain(&immortal));
            let mut seen: HashSet<ObjPtr> = HashSet::new();
            while let Some(obj) = stack.pop() {
                if seen.insert(obj) {
                    object::for_each_reference(obj, |child| {
                        *counts.entry(child).or_default() += 1;
                        stack.push(child);
                    });
                }
            }
            let mut orphans = Vec::new();
            for obj in immortal {
                (*obj).refcnt = counts.get(&obj).copied().unwrap_or(0);
                if (*obj).refcnt == 0 {
                    (*obj).refcnt = 1;
                    orphans.push(obj);
                }
            }
            orphans
        }
    }

    /// Gives up the runtime's reference to the globals dict; an immortal one is kept (the
    /// teardown frees it once it is mortal again).
    pub(super) fn release_globals(&mut self) {
        // SAFETY: the runtime's reference keeps the globals alive.
        // Test: collector_oracle::immortal_objects_under_every_collector.
        if self.runtime.globals.get().is_some_and(|&globals| unsafe { !object::is_immortal(globals) }) {
            let globals = self.runtime.globals.take().expect("checked");
            self.decref(globals);
        }
    }

    /// Every tracked container, in every generation and the permanent one.
    ///
    /// # Safety
    /// The GC lists must be well formed (they are, outside a collection's phases).
    pub(super) unsafe fn tracked_objects(&self) -> Vec<ObjPtr> {
        // SAFETY: forwarded. Test: object_model::teardown_frees_everything.
        self.gc.all_lists().into_iter().flat_map(|list| unsafe { gc_list::objects(list) }).collect()
    }

    /// Drops every reference `obj` holds (CPython's `tp_clear`).
    ///
    /// # Safety
    /// `obj` is a live container on which the caller holds a reference.
    pub(super) unsafe fn clear_references(&self, obj: ObjPtr) {
        // Each reference is taken out (its slot nulled) before it is released, and the slots are
        // found afresh after every release: a release can run finalizers and callbacks, which may
        // change `obj` (a list may grow and move its items).
        let mut index = 0;
        // SAFETY: `obj` stays alive (the caller's reference); each accessor is used on its kind.
        // Test: collector::a_dict_cleared_by_the_collector_but_kept_alive_stays_consistent.
        while let Some(child) = unsafe { self.take_reference(obj, index) } {
            index += 1;
            if !child.is_null() {
                self.decref(child);
            }
        }
    }

    /// Takes the `index`-th reference out of `obj`, leaving its slot empty; `None` past the end.
    ///
    /// # Safety
    /// `obj` is a live container.
    pub(super) unsafe fn take_reference(&self, obj: ObjPtr, index: usize) -> Option<ObjPtr> {
        // SAFETY: forwarded; each kind is read through its own layout. Test: object_model::teardown_frees_everything.
        unsafe {
            match (*obj).kind {
                Kind::Tuple | Kind::Instance | Kind::List => {
                    object::slots(obj).get_mut(index).map(|slot| std::mem::replace(slot, ptr::null_mut()))
                }
                Kind::Dict => dict::take_entry(obj, index),
                Kind::Weakref if index == 0 => {
                    self.unlink_weakref(obj);
                    Some(std::mem::replace(&mut (*object::body::<WeakrefBody>(obj)).callback_arg, ptr::null_mut()))
                }
                Kind::Weakref | Kind::Int | Kind::Str => None,
            }
        }
    }
}
