//! The heap and its safe Mutator API: the only way workloads touch objects.
//!
//! A [`Handle`] is a strong reference owned by workload code (`Py_INCREF` on clone, `Py_DECREF`
//! on drop). It borrows its [`Heap`], so no handle can outlive the heap, and every operation
//! checks that the handle belongs to this heap and that the object has the kind the operation
//! needs. While a handle exists its object's refcount is at least 1, so nothing can free it:
//! workload code cannot read or free a dead object.
//!
//! Freeing is iterative, like CPython's trashcan: when a refcount reaches zero the object goes
//! on an explicit stack; each object popped drops its references (pushing those that reach
//! zero) and returns its block. A 10-million-element chain is freed without recursion.
//! The cascade is timed at its two ends only; cascades that free at least
//! `cascade_pause_threshold` objects are recorded as pauses.
//!
//! Weak references are objects (tracked containers, as in CPython) linked into their target's
//! weakref list. When a target dies its weakrefs are cleared; callbacks of weakrefs that are
//! still alive are queued and run once the cascade is over, each exactly once.
//!
//! Back edges (edges that close cycles) are stored strongly, or, under a strategy with
//! [`BackEdges::Weak`], as a weakref object flagged `BACK_EDGE` that [`Heap::get`] follows
//! transparently, so workloads compute the same thing under every strategy.
//!
//! Under a strategy that does not return blocks (`nogc`) a dead object goes to the graveyard
//! instead of the allocator: an intrusive list through the dead blocks themselves
//! ([`object::graveyard_link`]), freed when the heap is dropped.
//!
//! **Recording** ([`HeapConfig::record`]): the recorder keeps pauses, request latencies and
//! memory samples. Per allocation the heap increments one counter and compares it with the
//! next interval sample; clocks are read only at the ends of cascades and collections and at
//! checkpoints. With recording off none of that runs (the counter still counts).
//!
//! **Heap cap** ([`HeapConfig::max_live_bytes`]): before the heap grows (a new object, a list's
//! items growing, a dict's table growing) it checks that the bytes it holds stay within the cap;
//! if not, it stops the workload with `panic_any(HeapCapExceeded { .. })`, at a point where
//! nothing has changed yet, so the unwinding drops the workload's handles as usual and
//! [`Heap::finish`] can still report. It never stops inside a collection, a finalizer or
//! callback, teardown, or while already unwinding: there the allocation goes through, and the
//! next one made by the workload itself stops it.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt;
use std::ptr::{self, NonNull};
use std::rc::Rc;
use std::time::Instant;

use crate::alloc::{AllocStats, Allocator, AllocatorConfig};
use crate::dict::{self, Blocks};
use crate::object::{self, DictBody, Header, InstanceBody, Kind, ListBody, ObjPtr, StrBody, WeakrefBody, flags};
use crate::recorder::{DEFAULT_SAMPLE_EVERY, HeapFigures, MemorySample, Pause, Recorder, SampleTrigger};
use crate::strategy::{BackEdges, Checkpoint, CheckpointInfo, GcAction, Strategy};

mod collector;

use collector::GcState;
pub use collector::{Collection, GENERATIONS, GenerationStats};

/// CPython caches the ints -5..=256; so do we, so that small-int-heavy workloads allocate alike.
const SMALL_INT_MIN: i64 = -5;
const SMALL_INT_MAX: i64 = 256;

/// How a heap is built, apart from its strategy.
#[derive(Clone, Debug)]
pub struct HeapConfig {
    pub allocator: AllocatorConfig,
    /// Refcount cascades freeing at least this many objects are recorded as pauses.
    pub cascade_pause_threshold: u64,
    /// Record pauses, request latencies and memory samples (default `true`). Off: the report's
    /// logs are empty and `memory_management_ns` is 0; no clock is read in cascades or
    /// collections and no sample is taken. Collections still run and every counter still counts.
    /// The harness runs cells both ways to measure what recording costs.
    pub record: bool,
    /// A memory sample every this many object allocations (default 100,000); 0: no interval
    /// samples (checkpoint and final samples remain). See [`crate::recorder`] for the rule.
    pub sample_every: u64,
    /// Stop the workload when an allocation would take the bytes the heap holds past this many:
    /// live bytes, plus, under `nogc`, the bytes of dead objects it keeps. The heap panics with a
    /// [`HeapCapExceeded`] payload; see the module docs. `None`: no cap.
    pub max_live_bytes: Option<u64>,
}

impl Default for HeapConfig {
    fn default() -> Self {
        HeapConfig {
            allocator: AllocatorConfig::default(),
            cascade_pause_threshold: 1000,
            record: true,
            sample_every: DEFAULT_SAMPLE_EVERY,
            max_live_bytes: None,
        }
    }
}

/// The panic payload with which the heap stops a workload that passed
/// [`HeapConfig::max_live_bytes`] (`std::panic::panic_any`). Catch the workload with
/// `catch_unwind`, find this with `payload.downcast_ref::<HeapCapExceeded>()`, then call
/// [`Heap::finish`] as usual: the heap is consistent. (The default panic hook prints the payload
/// as `Box<dyn Any>`; a harness that wants a message installs its own hook.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapCapExceeded {
    /// Bytes the heap held when the allocation was refused (live, plus retained under `nogc`).
    pub live_bytes: u64,
    /// Bytes the refused allocation asked for.
    pub requested_bytes: u64,
    /// The cap.
    pub cap: u64,
}

impl fmt::Display for HeapCapExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "heap cap exceeded: {} bytes held + {} requested > cap of {} bytes",
            self.live_bytes, self.requested_bytes, self.cap
        )
    }
}

/// A weakref callback: called with the heap, the weakref (already cleared) and the callback's
/// argument object, once, after its referent has died.
pub type CallbackFn = dyn for<'h> Fn(&'h Heap, &Handle<'h>, Option<&Handle<'h>>);

/// A finalizer (`__del__`): called with the heap and the dying object, which it may resurrect by
/// storing a reference to it somewhere.
pub type FinalizerFn = dyn for<'h> Fn(&'h Heap, &Handle<'h>);

/// Names a finalizer registered with [`Heap::register_finalizer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinalizerId(u16);

/// Which kind of finalizer an object gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalizerKind {
    /// `tp_finalize` (PEP 442): runs once, also for cyclic garbage, which the collector then frees.
    Pep442,
    /// `tp_del` (before PEP 442): the collector will not free cyclic garbage that holds one; it
    /// goes to `garbage`, uncollectable. Refcounting still runs it (once) and frees the object.
    Legacy,
}

/// Names a callback registered with [`Heap::register_callback`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallbackId(u32);

/// A callback for a new weakref, with an optional argument the weakref keeps alive.
pub struct WeakCallback<'a, 'h> {
    pub id: CallbackId,
    pub arg: Option<&'a Handle<'h>>,
}

/// Counters readable at any moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeapStats {
    pub live_objects: u64,
    /// Bytes of live objects, their list items and dict tables included.
    pub live_bytes: u64,
    /// Dead objects whose blocks were kept rather than returned (`nogc`; 0 otherwise).
    pub retained_objects: u64,
    /// Their bytes, list items and dict tables included.
    pub retained_bytes: u64,
    /// Objects the program allocated (the alignment axis of memory samples: the small-int cache
    /// and the weakrefs the `weakref` strategy makes for back edges are not counted).
    pub allocations: u64,
    pub tracked_containers: u64,
    /// Collections so far, per generation.
    pub collections: [u64; GENERATIONS],
    pub requests_done: u64,
    pub startup_done: bool,
    /// Panics in finalizers and weakref callbacks, reported on stderr and ignored.
    pub ignored_panics: u64,
    pub alloc: AllocStats,
}

/// What outlived the run: every object still alive once the workload had returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeakReport {
    pub objects: u64,
    pub bytes: u64,
    /// Objects and bytes per kind.
    pub by_kind: BTreeMap<Kind, (u64, u64)>,
}

/// Everything a finished run reports about memory management.
#[derive(Clone, Debug)]
pub struct FinalReport {
    pub leaked: LeakReport,
    /// Empty when recording is off, as are the latencies and the samples.
    pub pauses: Vec<Pause>,
    /// Wall time of each request, from one checkpoint to the next, in nanoseconds.
    pub request_latencies_ns: Vec<u64>,
    /// Memory samples in the order taken; the last is the final one.
    pub memory_samples: Vec<MemorySample>,
    /// Time spent in refcount cascades and in collections (the exit collection included); 0
    /// when recording is off.
    pub memory_management_ns: u64,
    /// Set if the heap stopped the workload at its cap.
    pub cap_exceeded: Option<HeapCapExceeded>,
    /// Counters at the end of the run, before teardown (the allocator's included).
    pub stats: HeapStats,
}

/// Who asked for an object: the program, or the runtime on its behalf (not counted).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Program,
    /// A weakref standing for a back edge under [`BackEdges::Weak`].
    BackEdge,
}

/// A strong reference to a live object of one heap.
pub struct Handle<'h> {
    obj: NonNull<Header>,
    heap: &'h Heap,
}

impl Handle<'_> {
    fn ptr(&self) -> ObjPtr {
        self.obj.as_ptr()
    }
}

impl Clone for Handle<'_> {
    fn clone(&self) -> Self {
        self.heap.incref(self.ptr());
        Handle { obj: self.obj, heap: self.heap }
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        self.heap.decref(self.ptr());
    }
}

/// Identity, like Python's `is`.
impl PartialEq for Handle<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.obj == other.obj
    }
}
impl Eq for Handle<'_> {}

impl fmt::Debug for Handle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({})", self.heap.kind(self).name())
    }
}

/// A CPython-like heap with one allocator and one strategy.
pub struct Heap {
    allocator: RefCell<Box<dyn Allocator>>,
    strategy: RefCell<Box<dyn Strategy>>,
    back_edges: BackEdges,
    /// The strategy has a cycle collector (`program_collect` runs it).
    has_collector: bool,
    /// The cycle collector's generations, counts and statistics; every tracked container is
    /// in one of its lists.
    gc: GcState,
    tracked_count: Cell<u64>,
    live_objects: Cell<u64>,
    live_bytes: Cell<u64>,
    small_ints: OnceCell<Vec<ObjPtr>>,
    /// `()`: shared and untracked, as in CPython (made on first use, released at teardown).
    empty_tuple: OnceCell<ObjPtr>,
    /// A dict the heap holds, standing for module globals (finalizers store survivors there).
    globals: OnceCell<ObjPtr>,
    cascade_stack: RefCell<Vec<ObjPtr>>,
    /// Weakrefs (each holding +1) whose callbacks are due.
    pending_callbacks: RefCell<VecDeque<ObjPtr>>,
    callbacks: RefCell<Vec<Rc<CallbackFn>>>,
    finalizers: RefCell<Vec<Rc<FinalizerFn>>>,
    /// Objects whose refcount reached zero and whose finalizer is due (each holding +1).
    pending_finalizers: RefCell<VecDeque<ObjPtr>>,
    tearing_down: Cell<bool>,
    /// Panics in finalizers and callbacks, reported and ignored (CPython's unraisable exceptions).
    ignored_panics: Cell<u64>,
    recorder: RefCell<Recorder>,
    requests_done: Cell<u64>,
    startup_done: Cell<bool>,
    /// Recording is on ([`HeapConfig::record`]).
    record: bool,
    /// Refcount cascades are timed: recording is on and the strategy returns blocks.
    time_cascades: bool,
    /// The strategy keeps dead objects' blocks (`nogc`): they go to the graveyard.
    retain_dead: bool,
    /// Objects the program allocated (see [`HeapStats::allocations`]).
    allocations: Cell<u64>,
    /// The allocation count at which the next interval sample is due (`u64::MAX`: never).
    next_interval_sample: Cell<u64>,
    retained_objects: Cell<u64>,
    retained_bytes: Cell<u64>,
    /// The last dead object kept under `nogc`; each links to the one before.
    graveyard: Cell<ObjPtr>,
    /// Most bytes the heap may hold (`u64::MAX`: no cap; set once the small-int cache is built).
    cap: Cell<u64>,
    cap_exceeded: Cell<Option<HeapCapExceeded>>,
    /// Finalizers and callbacks running now (nested ones counted): no cap stop inside them.
    user_code_depth: Cell<u32>,
    /// A drain of the finalizer or callback queue is running (see `run_pending_finalizers`).
    draining_finalizers: Cell<bool>,
    draining_callbacks: Cell<bool>,
}

impl Heap {
    pub fn new(config: HeapConfig, strategy: Box<dyn Strategy>) -> Heap {
        let has_collector = strategy.collector().is_some();
        let retain_dead = !strategy.returns_blocks();
        let gc = match strategy.collector() {
            Some(collector) => GcState::new(collector.thresholds, collector.automatic),
            None => GcState::new([700, 10, 10], false),
        };
        let heap = Heap {
            allocator: RefCell::new(config.allocator.build_with(crate::alloc::ArenaPolicy::for_strategy(!retain_dead))),
            back_edges: strategy.back_edges(),
            has_collector,
            strategy: RefCell::new(strategy),
            gc,
            tracked_count: Cell::new(0),
            live_objects: Cell::new(0),
            live_bytes: Cell::new(0),
            small_ints: OnceCell::new(),
            empty_tuple: OnceCell::new(),
            globals: OnceCell::new(),
            cascade_stack: RefCell::new(Vec::new()),
            pending_callbacks: RefCell::new(VecDeque::new()),
            callbacks: RefCell::new(Vec::new()),
            finalizers: RefCell::new(Vec::new()),
            pending_finalizers: RefCell::new(VecDeque::new()),
            tearing_down: Cell::new(false),
            ignored_panics: Cell::new(0),
            recorder: RefCell::new(Recorder::new(config.cascade_pause_threshold, config.sample_every, config.record)),
            requests_done: Cell::new(0),
            startup_done: Cell::new(false),
            record: config.record,
            time_cascades: config.record && !retain_dead,
            retain_dead,
            allocations: Cell::new(0),
            next_interval_sample: Cell::new(u64::MAX),
            retained_objects: Cell::new(0),
            retained_bytes: Cell::new(0),
            graveyard: Cell::new(ptr::null_mut()),
            cap: Cell::new(u64::MAX),
            cap_exceeded: Cell::new(None),
            user_code_depth: Cell::new(0),
            draining_finalizers: Cell::new(false),
            draining_callbacks: Cell::new(false),
        };
        let small_ints = (SMALL_INT_MIN..=SMALL_INT_MAX).map(|v| heap.new_int_object(v)).collect();
        heap.small_ints.set(small_ints).expect("set once");
        heap.start_counting(&config);
        heap
    }

    /// The runtime's own objects exist: from here on allocations count, samples fall due and
    /// the cap applies.
    fn start_counting(&self, config: &HeapConfig) {
        self.allocations.set(0);
        if self.record {
            self.next_interval_sample.set(self.recorder.borrow().schedule().next_interval(0));
        }
        self.cap.set(config.max_live_bytes.unwrap_or(u64::MAX));
    }

    // ----- allocation -------------------------------------------------------------------

    /// An int; -5..=256 come from the small-int cache, as in CPython.
    pub fn int(&self, value: i64) -> Handle<'_> {
        if (SMALL_INT_MIN..=SMALL_INT_MAX).contains(&value) {
            let cached = self.small_ints.get().expect("built in new")[(value - SMALL_INT_MIN) as usize];
            self.incref(cached);
            return self.handle(cached);
        }
        self.handle(self.new_int_object(value))
    }

    /// A str atom holding a copy of `text`.
    pub fn str(&self, text: &str) -> Handle<'_> {
        let obj = self.allocate(Kind::Str, text.len());
        // SAFETY: `obj` is a fresh str block of `block_size(Str, len)` bytes: the body, then
        // `len` bytes and a NUL. Test: object_model::atoms_round_trip.
        unsafe {
            body_write(
                obj,
                StrBody {
                    hash: object::str_hash(text.as_bytes()),
                    byte_len: text.len() as u64,
                    state: text.is_ascii() as u64,
                },
            );
            let bytes = object::body::<StrBody>(obj).add(1).cast::<u8>();
            ptr::copy_nonoverlapping(text.as_ptr(), bytes, text.len());
            bytes.add(text.len()).write(0);
        }
        self.handle(obj)
    }

    /// A tuple of the given items (fixed for its lifetime, as in Python).
    pub fn tuple(&self, items: &[Option<&Handle<'_>>]) -> Handle<'_> {
        if items.is_empty() {
            // CPython's `()` is one shared, untracked object.
            let empty = *self.empty_tuple.get_or_init(|| self.allocate(Kind::Tuple, 0));
            self.incref(empty);
            return self.handle(empty);
        }
        // Checked before allocating and counted after: a panic (a foreign handle, the heap cap)
        // leaves no half-built tuple and no extra reference behind.
        let references: Vec<ObjPtr> = items.iter().map(|item| item.map_or(ptr::null_mut(), |h| self.own(h))).collect();
        let obj = self.allocate(Kind::Tuple, items.len());
        for &item in references.iter().filter(|item| !item.is_null()) {
            self.incref(item);
        }
        // SAFETY: fresh tuple: its slots are the `items.len()` pointers after the header.
        unsafe { object::slots(obj) }.copy_from_slice(&references);
        self.track(obj);
        self.handle(obj)
    }

    /// An empty list.
    pub fn list(&self) -> Handle<'_> {
        let obj = self.allocate(Kind::List, 0);
        // SAFETY: fresh list block; its body is a ListBody.
        unsafe { body_write(obj, ListBody { items: ptr::null_mut(), len: 0, capacity: 0 }) };
        self.track(obj);
        self.handle(obj)
    }

    /// An empty dict.
    pub fn dict(&self) -> Handle<'_> {
        let obj = self.allocate(Kind::Dict, 0);
        // SAFETY: fresh dict block; its body is a DictBody.
        unsafe { body_write(obj, DictBody { used: 0, nentries: 0, capacity: 0, table: ptr::null_mut() }) };
        // Like CPython's, a new dict is untracked until it holds something that may be tracked.
        self.handle(obj)
    }

    /// An instance with `nslots` empty slots (a class with `__slots__` and `__weakref__`).
    pub fn instance(&self, nslots: usize) -> Handle<'_> {
        let obj = self.allocate(Kind::Instance, nslots);
        // SAFETY: fresh instance block: an InstanceBody, then `nslots` slots.
        unsafe {
            body_write(obj, InstanceBody { weaklist: ptr::null_mut() });
            object::slots(obj).fill(ptr::null_mut());
        }
        self.track(obj);
        self.handle(obj)
    }

    /// A weak reference to `target` (an instance), with an optional callback.
    pub fn weakref(&self, target: &Handle<'_>, callback: Option<WeakCallback<'_, '_>>) -> Handle<'_> {
        if let Some(callback) = &callback {
            assert!((callback.id.0 as usize) < self.callbacks.borrow().len(), "unknown callback id");
        }
        let obj = self.new_weakref_object(self.expect(target, &[Kind::Instance], "weakref"), Origin::Program);
        if let Some(callback) = callback {
            // SAFETY: `obj` is the live weakref just made.
            unsafe {
                let body = object::body::<WeakrefBody>(obj);
                (*body).callback = callback.id.0 as u64 + 1;
                (*body).callback_arg = callback.arg.map_or(ptr::null_mut(), |h| self.new_reference(h));
            }
        }
        self.handle(obj)
    }

    /// Registers a weakref callback; the id can be used for any number of weakrefs.
    pub fn register_callback(
        &self,
        callback: impl for<'h> Fn(&'h Heap, &Handle<'h>, Option<&Handle<'h>>) + 'static,
    ) -> CallbackId {
        let mut callbacks = self.callbacks.borrow_mut();
        callbacks.push(Rc::new(callback));
        CallbackId(u32::try_from(callbacks.len() - 1).expect("fewer than 2^32 callbacks"))
    }

    /// The heap's globals: a dict that lives until the run ends, like a module's namespace. It is
    /// released before the exit collection and the leak walk, as interpreter shutdown clears
    /// modules.
    pub fn globals(&self) -> Handle<'_> {
        if let Some(&globals) = self.globals.get() {
            self.incref(globals);
            return self.handle(globals);
        }
        // Allocating can run a collection, and its finalizers may ask for the globals first.
        let dict = self.dict();
        if self.globals.set(dict.ptr()).is_ok() {
            self.incref(dict.ptr()); // the heap's own reference
            dict
        } else {
            self.globals()
        }
    }

    /// Registers a finalizer; the id can be given to any number of objects.
    pub fn register_finalizer(&self, finalizer: impl for<'h> Fn(&'h Heap, &Handle<'h>) + 'static) -> FinalizerId {
        let mut finalizers = self.finalizers.borrow_mut();
        finalizers.push(Rc::new(finalizer));
        FinalizerId(u16::try_from(finalizers.len()).expect("fewer than 65535 finalizers") - 1)
    }

    /// Gives an instance a finalizer, run when it dies (by refcount or by collection).
    pub fn set_finalizer(&self, h: &Handle<'_>, id: FinalizerId, kind: FinalizerKind) {
        let obj = self.expect(h, &[Kind::Instance], "set_finalizer");
        assert!((id.0 as usize) < self.finalizers.borrow().len(), "unknown finalizer id");
        // SAFETY: a handle keeps its object alive.
        unsafe {
            (*obj).finalizer = id.0 + 1;
            (*obj).flags |= match kind {
                FinalizerKind::Pep442 => flags::HAS_FINALIZER,
                FinalizerKind::Legacy => flags::HAS_FINALIZER | flags::LEGACY_FINALIZER,
            };
        }
    }

    /// Whether the object's finalizer has run (`gc.is_finalized`).
    pub fn is_finalized(&self, h: &Handle<'_>) -> bool {
        // SAFETY: a handle keeps its object alive.
        unsafe { (*self.own(h)).flags & flags::FINALIZED != 0 }
    }

    // ----- reading --------------------------------------------------------------------

    pub fn kind(&self, h: &Handle<'_>) -> Kind {
        // SAFETY: a handle keeps its object alive.
        unsafe { (*self.own(h)).kind }
    }

    /// Slots of a tuple or instance, items of a list, entries of a dict, bytes of a str.
    pub fn len(&self, h: &Handle<'_>) -> usize {
        let obj = self.own(h);
        // SAFETY: a handle keeps its object alive; each kind is read through its own layout.
        unsafe {
            match (*obj).kind {
                Kind::Tuple | Kind::Instance | Kind::Str => (*obj).len as usize,
                Kind::List => (*object::body::<ListBody>(obj)).len,
                Kind::Dict => (*object::body::<DictBody>(obj)).used,
                kind => panic!("len() of a {}", kind.name()),
            }
        }
    }

    pub fn int_value(&self, h: &Handle<'_>) -> i64 {
        let obj = self.expect(h, &[Kind::Int], "int_value");
        // SAFETY: a live int's body is its i64 value.
        unsafe { *object::body::<i64>(obj) }
    }

    pub fn str_value(&self, h: &Handle<'_>) -> String {
        let obj = self.expect(h, &[Kind::Str], "str_value");
        // SAFETY: a live str holds `len` valid UTF-8 bytes after its body (copied from a &str).
        unsafe {
            let bytes = object::body::<StrBody>(obj).add(1).cast::<u8>();
            let slice = std::slice::from_raw_parts(bytes, (*obj).len as usize);
            String::from_utf8_unchecked(slice.to_vec())
        }
    }

    /// The object in slot `index` of a tuple, instance or list; `None` if the slot is empty.
    /// A back edge is followed to its target; a dead back edge panics (a workload bug).
    pub fn get<'h>(&'h self, h: &Handle<'h>, index: usize) -> Option<Handle<'h>> {
        let obj = self.expect(h, &[Kind::Tuple, Kind::Instance, Kind::List], "get");
        // SAFETY: a handle keeps `obj` alive; slots of a live object are valid pointers or null.
        let value = unsafe { *slot_at(obj, index) };
        self.follow(value, obj, index)
    }

    /// Whether handle `h`'s slot `index` holds a reference (a back edge counts even if dead).
    pub fn is_set(&self, h: &Handle<'_>, index: usize) -> bool {
        let obj = self.expect(h, &[Kind::Tuple, Kind::Instance, Kind::List], "is_set");
        // SAFETY: as in `get`.
        unsafe { !(*slot_at(obj, index)).is_null() }
    }

    /// The target of a weakref, if it is still alive.
    pub fn upgrade<'h>(&'h self, weakref: &Handle<'h>) -> Option<Handle<'h>> {
        let obj = self.expect(weakref, &[Kind::Weakref], "upgrade");
        // SAFETY: a live weakref's target is null or a live object (cleared when it dies).
        let target = unsafe { (*object::body::<WeakrefBody>(obj)).target };
        (!target.is_null()).then(|| {
            self.incref(target);
            self.handle(target)
        })
    }

    // ----- writing --------------------------------------------------------------------

    /// Stores `value` (or clears the slot) in an instance or list slot.
    pub fn set(&self, h: &Handle<'_>, index: usize, value: Option<&Handle<'_>>) {
        let obj = self.expect(h, &[Kind::Instance, Kind::List], "set");
        let new = value.map_or(ptr::null_mut(), |v| self.new_reference(v));
        self.replace_slot(obj, index, new);
    }

    /// Stores an edge that closes a cycle (a parent pointer, a ring closer). Strong strategies
    /// store it like [`Heap::set`]; [`BackEdges::Weak`] stores a weakref to `target` instead.
    /// Invariant for workloads: a back edge never is the only thing keeping its target alive.
    pub fn set_back_edge(&self, h: &Handle<'_>, index: usize, target: &Handle<'_>) {
        let obj = self.expect(h, &[Kind::Instance, Kind::List], "set_back_edge");
        let new = match self.back_edges {
            BackEdges::Strong => self.new_reference(target),
            BackEdges::Weak => {
                let target = self.expect(target, &[Kind::Instance], "a back edge's target");
                let weak = self.new_weakref_object(target, Origin::BackEdge);
                // SAFETY: `weak` is the live weakref just made.
                unsafe { (*weak).flags |= flags::BACK_EDGE };
                weak
            }
        };
        self.replace_slot(obj, index, new);
    }

    pub fn list_append(&self, list: &Handle<'_>, value: &Handle<'_>) {
        let len = self.len(list);
        self.list_insert(list, len, value);
    }

    /// Inserts before `index` (`index == len` appends), like `list.insert`.
    pub fn list_insert(&self, list: &Handle<'_>, index: usize, value: &Handle<'_>) {
        let obj = self.expect(list, &[Kind::List], "list_insert");
        // SAFETY: a live list's body is a ListBody.
        let len = unsafe { (*object::body::<ListBody>(obj)).len };
        assert!(index <= len, "list_insert at {index} in a list of length {len}");
        // Grown first, counted after: if growing stops at the heap cap, nothing has changed.
        let new = self.own(value);
        self.resize_list(obj, len + 1);
        self.incref(new);
        // SAFETY: after the resize the list has `len + 1` slots; the last one is free.
        let slots = unsafe { object::slots(obj) };
        slots.copy_within(index..len, index + 1);
        slots[index] = new;
    }

    /// Removes and returns the item at `index`, like `list.pop(index)`.
    pub fn list_remove<'h>(&'h self, list: &Handle<'h>, index: usize) -> Option<Handle<'h>> {
        let obj = self.expect(list, &[Kind::List], "list_remove");
        // SAFETY: a live list's slots are its `len` items.
        let slots = unsafe { object::slots(obj) };
        let len = slots.len();
        assert!(index < len, "list_remove at {index} in a list of length {len}");
        let removed = slots[index];
        // Followed first: a dead back edge panics with the list unchanged.
        let result = self.follow(removed, obj, index);
        slots.copy_within(index + 1..len, index);
        self.resize_list(obj, len - 1);
        if !removed.is_null() {
            self.decref(removed);
        }
        result
    }

    pub fn dict_set(&self, d: &Handle<'_>, key: u64, value: &Handle<'_>) {
        let obj = self.expect(d, &[Kind::Dict], "dict_set");
        // Stored first, counted after: if the table's growth stops at the heap cap, the dict is
        // unchanged and no reference was taken. Nothing runs between the two.
        let new = self.own(value);
        // CPython's MAINTAIN_TRACKING: a dict untracked by a full collection is tracked again as
        // soon as it holds something that could be part of a cycle.
        // SAFETY: both objects are alive (handles).
        unsafe {
            if !object::is_tracked(obj) && object::may_be_tracked(new) {
                self.track(obj);
            }
        }
        let old = dict::insert(obj, key, new, self);
        self.incref(new);
        if !old.is_null() {
            self.decref(old);
        }
    }

    pub fn dict_get<'h>(&'h self, d: &Handle<'h>, key: u64) -> Option<Handle<'h>> {
        let obj = self.expect(d, &[Kind::Dict], "dict_get");
        let value = dict::lookup(obj, key);
        (!value.is_null()).then(|| {
            self.incref(value);
            self.handle(value)
        })
    }

    /// Removes `key`, returning its value if it was present.
    pub fn dict_remove<'h>(&'h self, d: &Handle<'h>, key: u64) -> Option<Handle<'h>> {
        let obj = self.expect(d, &[Kind::Dict], "dict_remove");
        let value = dict::remove(obj, key);
        // The dict's reference is handed to the returned handle.
        (!value.is_null()).then(|| self.handle(value))
    }

    /// Keys in insertion order, as Python iterates a dict.
    pub fn dict_keys(&self, d: &Handle<'_>) -> Vec<u64> {
        let obj = self.expect(d, &[Kind::Dict], "dict_keys");
        // SAFETY: a live dict's entries are valid; deleted ones have a null value.
        unsafe { object::dict_entries(obj).iter().filter(|e| !e.value.is_null()).map(|e| e.key).collect() }
    }

    // ----- checkpoints ----------------------------------------------------------------

    /// The workload has built its long-lived heap.
    pub fn startup_done(&self) {
        self.startup_done.set(true);
        if self.record {
            self.recorder.borrow_mut().record_startup_done();
            self.sample_at_checkpoint(SampleTrigger::Startup);
        }
        self.checkpoint(Checkpoint::StartupDone);
    }

    /// The workload has finished one unit of work.
    pub fn request_done(&self) {
        self.requests_done.set(self.requests_done.get() + 1);
        if self.record {
            self.recorder.borrow_mut().record_request_done();
            self.sample_at_checkpoint(SampleTrigger::Request);
        }
        self.checkpoint(Checkpoint::RequestDone);
    }

    /// The program itself calls `gc.collect()`, as pyperformance's `gc_collect` and
    /// `gc_traversal` do: a full collection where the strategy has a cycle collector (even with
    /// automatic collection off, as in CPython), nothing under pure refcounting.
    pub fn program_collect(&self) {
        if self.has_collector {
            self.collect(GENERATIONS - 1);
        }
    }

    /// Lets the strategy act at a checkpoint (freeze, collect by hand).
    fn checkpoint(&self, checkpoint: Checkpoint) {
        let info = CheckpointInfo { requests_done: self.requests_done.get(), live_bytes: self.live_bytes.get() };
        let action = self.strategy.borrow_mut().at_checkpoint(checkpoint, info);
        match action {
            Some(GcAction::Freeze) => self.freeze(),
            Some(GcAction::Collect(generation)) => {
                self.collect(generation);
            }
            None => {}
        }
    }

    pub fn stats(&self) -> HeapStats {
        HeapStats {
            live_objects: self.live_objects.get(),
            live_bytes: self.live_bytes.get(),
            retained_objects: self.retained_objects.get(),
            retained_bytes: self.retained_bytes.get(),
            allocations: self.allocations.get(),
            tracked_containers: self.tracked_count.get(),
            collections: self.gc_stats().map(|g| g.collections),
            requests_done: self.requests_done.get(),
            startup_done: self.startup_done.get(),
            ignored_panics: self.ignored_panics.get(),
            alloc: self.allocator.borrow().stats(),
        }
    }

    /// Ends the run: counts what leaked, then frees everything. Taking the heap by value
    /// proves that no handle is left.
    ///
    /// The final memory sample is taken first, when the workload has just returned (or was
    /// stopped at the heap cap), before the globals are released and the exit collection runs.
    pub fn finish(mut self) -> FinalReport {
        if self.record {
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
            cap_exceeded: self.cap_exceeded.get(),
            stats,
        }
    }

    // ----- memory samples -------------------------------------------------------------

    /// Takes a checkpoint sample if the schedule allows one now.
    fn sample_at_checkpoint(&self, trigger: SampleTrigger) {
        if self.recorder.borrow().schedule().checkpoint_due(trigger, self.allocations.get()) {
            self.sample_memory(trigger);
        }
    }

    /// The interval sample due at this allocation count; off the allocation fast path.
    #[cold]
    #[inline(never)]
    fn sample_interval(&self) {
        self.sample_memory(SampleTrigger::Interval);
    }

    /// Records the heap's and the process's memory now, and when the next interval sample is due.
    fn sample_memory(&self, trigger: SampleTrigger) {
        let figures = HeapFigures {
            allocations: self.allocations.get(),
            requests_done: self.requests_done.get(),
            live_objects: self.live_objects.get(),
            live_bytes: self.live_bytes.get(),
            retained_bytes: self.retained_bytes.get(),
            alloc: self.allocator.borrow().stats(),
        };
        let mut recorder = self.recorder.borrow_mut();
        recorder.record_sample(trigger, figures);
        self.next_interval_sample.set(recorder.schedule().next_interval(self.allocations.get()));
    }

    // ----- heap cap -------------------------------------------------------------------

    /// Lets the heap grow by `bytes`, or stops the workload at the cap. One comparison when
    /// under the cap.
    #[inline]
    fn admit(&self, bytes: usize) {
        if self.held_bytes() + bytes as u64 > self.cap.get() {
            self.stop_at_cap(bytes);
        }
    }

    /// Bytes the heap holds from the allocator: live, plus the dead objects `nogc` keeps.
    fn held_bytes(&self) -> u64 {
        self.live_bytes.get() + self.retained_bytes.get()
    }

    /// Whether the workload may be stopped here: it is the workload's own call, not a
    /// collection's, a finalizer's or callback's, not teardown, and no panic is unwinding.
    fn at_stopping_point(&self) -> bool {
        !self.gc.is_collecting()
            && self.user_code_depth.get() == 0
            && !self.tearing_down.get()
            && !std::thread::panicking()
    }

    /// Past the cap: panics with [`HeapCapExceeded`] where the workload may be stopped;
    /// elsewhere lets the allocation through (the workload's next one stops it).
    #[cold]
    #[inline(never)]
    fn stop_at_cap(&self, requested: usize) {
        if !self.at_stopping_point() {
            return;
        }
        let exceeded =
            HeapCapExceeded { live_bytes: self.held_bytes(), requested_bytes: requested as u64, cap: self.cap.get() };
        self.cap_exceeded.set(Some(exceeded));
        std::panic::panic_any(exceeded);
    }

    // ----- reference counting ---------------------------------------------------------

    fn handle(&self, obj: ObjPtr) -> Handle<'_> {
        // Invariant: every caller passes a live object whose
        // refcount already includes the reference this handle now owns.
        Handle { obj: NonNull::new(obj).expect("handles never hold null"), heap: self }
    }

    /// The object behind `h`, after checking that `h` belongs to this heap.
    fn own(&self, h: &Handle<'_>) -> ObjPtr {
        assert!(ptr::eq(h.heap, self), "a handle from another heap was passed to this one");
        h.ptr()
    }

    fn expect(&self, h: &Handle<'_>, kinds: &[Kind], operation: &str) -> ObjPtr {
        let obj = self.own(h);
        // SAFETY: a handle keeps its object alive.
        let kind = unsafe { (*obj).kind };
        assert!(kinds.contains(&kind), "{operation}: expected {}, got a {}", kind_list(kinds), kind.name());
        obj
    }

    /// A new counted reference to `h`'s object, for storing in a slot.
    fn new_reference(&self, h: &Handle<'_>) -> ObjPtr {
        let obj = self.own(h);
        self.incref(obj);
        obj
    }

    #[inline]
    fn incref(&self, obj: ObjPtr) {
        // SAFETY: callers hold a reference to `obj`, so it is alive.
        unsafe { (*obj).refcnt = (*obj).refcnt.checked_add(1).expect("refcount overflow") };
    }

    #[inline]
    fn decref(&self, obj: ObjPtr) {
        // SAFETY: callers give up a reference they own, so `obj` is alive and refcnt >= 1.
        // Test: object_model::refcounts_balance.
        let now_zero = unsafe {
            (*obj).refcnt -= 1;
            (*obj).refcnt == 0
        };
        if now_zero {
            self.release(obj);
        }
    }

    /// Frees `obj`, whose refcount just reached zero, and everything that only it kept alive.
    #[inline(never)]
    fn release(&self, obj: ObjPtr) {
        // SAFETY: `obj`'s refcount is zero, so nobody else refers to it.
        if unsafe { !(*obj).kind.is_container() } {
            self.free_object(obj); // an atom holds no references: no cascade, no clock
            return;
        }
        // Inside a collection, freeing is part of the collection's pause: no clock of its own.
        // Under `nogc` a cascade returns nothing, and with recording off nothing is timed.
        let start = (self.time_cascades && !self.gc.is_collecting()).then(Instant::now);
        let mut stack = std::mem::take(&mut *self.cascade_stack.borrow_mut());
        stack.push(obj);
        let mut freed = 0u64;
        while let Some(dead) = stack.pop() {
            if self.defer_to_finalizer(dead) {
                continue;
            }
            self.clear_weakrefs_to(dead);
            // SAFETY: `dead` has refcount zero and is not yet freed; its references are live.
            // Test: object_model::ten_million_chain_frees_iteratively.
            unsafe {
                object::for_each_reference(dead, |child| {
                    (*child).refcnt -= 1;
                    if (*child).refcnt == 0 {
                        stack.push(child);
                    }
                });
            }
            self.free_object(dead);
            freed += 1;
        }
        *self.cascade_stack.borrow_mut() = stack;
        if let Some(start) = start {
            self.recorder.borrow_mut().record_cascade(start, Instant::now(), freed);
        }
        self.run_pending_finalizers();
        self.run_pending_callbacks();
    }

    /// A dying object whose finalizer has not run yet is kept alive (refcount 1, owned by the
    /// queue) until its finalizer has run, as `subtype_dealloc` resurrects it for `tp_finalize`.
    fn defer_to_finalizer(&self, obj: ObjPtr) -> bool {
        // SAFETY: `obj` is alive (refcount zero, not yet freed).
        unsafe {
            if (*obj).flags & (flags::HAS_FINALIZER | flags::FINALIZED) != flags::HAS_FINALIZER {
                return false;
            }
            (*obj).flags |= flags::FINALIZED;
            (*obj).refcnt = 1;
        }
        self.pending_finalizers.borrow_mut().push_back(obj);
        true
    }

    /// Runs every queued finalizer. Freeing what a finalizer leaves behind can queue more; an
    /// inner call returns at once and this loop runs them, so the depth stays one however many
    /// finalizers are due (nested drains overflowed the stack with thousands of them).
    fn run_pending_finalizers(&self) {
        if self.draining_finalizers.replace(true) {
            return;
        }
        loop {
            // Popped in its own statement: the queue's borrow must end before user code runs.
            let Some(obj) = self.pending_finalizers.borrow_mut().pop_front() else { break };
            self.invoke_finalizer(self.handle(obj)); // owns the +1 taken when deferred
        }
        self.draining_finalizers.set(false);
    }

    /// Runs `obj`'s finalizer, then drops the handle (which frees it unless it was resurrected).
    fn invoke_finalizer(&self, obj: Handle<'_>) {
        if self.tearing_down.get() {
            return;
        }
        // SAFETY: the handle keeps the object alive; `finalizer` indexes the table (set_finalizer).
        let id = unsafe { (*obj.ptr()).finalizer } - 1;
        let finalizer = Rc::clone(&self.finalizers.borrow()[id as usize]);
        self.run_user_code("a finalizer", || finalizer(self, &obj));
    }

    /// Clears every weakref to `obj` and queues the callbacks of those that are still alive
    /// (CPython's `PyObject_ClearWeakRefs`: a weakref dying in the same cascade gets none).
    fn clear_weakrefs_to(&self, obj: ObjPtr) {
        for weak in self.take_weakrefs_to(obj) {
            // SAFETY: `take_weakrefs_to` returns live weakrefs. Test: object_model::weakref_callback_runs_once.
            unsafe {
                if (*object::body::<WeakrefBody>(weak)).callback != 0 && (*weak).refcnt > 0 && !self.tearing_down.get()
                {
                    self.incref(weak);
                    self.pending_callbacks.borrow_mut().push_back(weak);
                }
            }
        }
    }

    /// Detaches and clears every weakref to `obj` (an instance; other kinds have none).
    fn take_weakrefs_to(&self, obj: ObjPtr) -> Vec<ObjPtr> {
        let mut cleared = Vec::new();
        // SAFETY: `obj` is alive; its weaklist holds live weakrefs, each of which unlinks itself
        // when it is freed. Test: object_model::weakref_dies_with_target.
        unsafe {
            if (*obj).kind != Kind::Instance {
                return cleared;
            }
            let list = object::body::<InstanceBody>(obj);
            let mut weak = std::mem::replace(&mut (*list).weaklist, ptr::null_mut());
            while !weak.is_null() {
                let body = object::body::<WeakrefBody>(weak);
                let next = (*body).next;
                (*body).target = ptr::null_mut();
                (*body).prev = ptr::null_mut();
                (*body).next = ptr::null_mut();
                cleared.push(weak);
                weak = next;
            }
        }
        cleared
    }

    /// Runs every queued weakref callback, one level deep as [`Heap::run_pending_finalizers`]:
    /// dropping a weakref after its callback frees it, which drains the queue again; that inner
    /// drain returns at once (test: `object_model::many_callbacks_due_at_once_run_without_nesting`).
    fn run_pending_callbacks(&self) {
        if self.draining_callbacks.replace(true) {
            return;
        }
        loop {
            let Some(weak) = self.pending_callbacks.borrow_mut().pop_front() else { break };
            self.invoke_weakref_callback(self.handle(weak)); // owns the +1 taken when queued
        }
        self.draining_callbacks.set(false);
    }

    /// Runs a cleared weakref's callback with its argument, then drops the handle.
    fn invoke_weakref_callback(&self, weak: Handle<'_>) {
        // SAFETY: `weak` is alive (the handle holds it); its body is a WeakrefBody with a callback.
        let (id, arg) = unsafe {
            let body = object::body::<WeakrefBody>(weak.ptr());
            ((*body).callback - 1, (*body).callback_arg)
        };
        let callback = Rc::clone(&self.callbacks.borrow()[id as usize]);
        let arg = (!arg.is_null()).then(|| {
            self.incref(arg);
            self.handle(arg)
        });
        self.run_user_code("a weakref callback", || callback(self, &weak, arg.as_ref()));
    }

    /// Runs a finalizer or a weakref callback. A panic in it is reported and ignored, as CPython
    /// reports an exception raised in `__del__` or in a callback ("Exception ignored in ...") and
    /// carries on: it must not unwind through a refcount cascade or a collection, which would
    /// leave objects half freed and GC lists pointing at freed sentinels.
    fn run_user_code(&self, what: &str, user_code: impl FnOnce()) {
        self.user_code_depth.set(self.user_code_depth.get() + 1);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(user_code));
        self.user_code_depth.set(self.user_code_depth.get() - 1);
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            eprintln!("exception ignored in {what}: {message}");
            self.ignored_panics.set(self.ignored_panics.get() + 1);
        }
    }

    // ----- objects and blocks ---------------------------------------------------------

    /// A fresh object the program asked for, with refcount 1 (not yet tracked, payload
    /// unwritten). Counts the allocation and takes the interval sample when one is due.
    fn allocate(&self, kind: Kind, len: usize) -> ObjPtr {
        let allocations = self.allocations.get() + 1;
        self.allocations.set(allocations);
        if allocations == self.next_interval_sample.get() {
            self.sample_interval();
        }
        self.allocate_uncounted(kind, len)
    }

    /// A fresh object, not counted as a program allocation (the runtime's own: back-edge
    /// weakrefs). May run a collection first, and stops the workload if it would pass the cap.
    fn allocate_uncounted(&self, kind: Kind, len: usize) -> ObjPtr {
        let size = object::block_size(kind, len);
        let mut counted = false;
        if kind.is_container() {
            let collect;
            (counted, collect) = self.gc.note_allocation(kind, len);
            if collect {
                self.collect_generations();
            }
        }
        if self.held_bytes() + size as u64 > self.cap.get() {
            self.stop_before_allocating(counted, size);
        }
        let block = self.alloc_bytes(size);
        self.live_objects.set(self.live_objects.get() + 1);
        // SAFETY: the block has `block_size(kind, len)` bytes and is 16-aligned.
        unsafe { object::init_header(NonNull::new_unchecked(block), kind, len).as_ptr() }
    }

    /// The cap stops an object's allocation: first takes back the gen-0 count it was given, so
    /// that the collector's counts stay those of the objects that exist.
    #[cold]
    fn stop_before_allocating(&self, counted: bool, size: usize) {
        if counted && self.at_stopping_point() {
            self.gc.uncount_allocation();
        }
        self.stop_at_cap(size);
    }

    fn new_int_object(&self, value: i64) -> ObjPtr {
        let obj = self.allocate(Kind::Int, 0);
        // SAFETY: fresh int block; its body is one i64.
        unsafe { body_write(obj, value) };
        obj
    }

    fn new_weakref_object(&self, target: ObjPtr, origin: Origin) -> ObjPtr {
        let obj = match origin {
            Origin::Program => self.allocate(Kind::Weakref, 0),
            Origin::BackEdge => self.allocate_uncounted(Kind::Weakref, 0),
        };
        // SAFETY: `obj` is a fresh weakref block and `target` a live instance; the new weakref
        // goes to the front of the target's weaklist. Test: object_model::weakref_dies_with_target.
        unsafe {
            let list = object::body::<InstanceBody>(target);
            let head = (*list).weaklist;
            body_write(
                obj,
                WeakrefBody { target, callback: 0, callback_arg: ptr::null_mut(), prev: ptr::null_mut(), next: head },
            );
            if !head.is_null() {
                (*object::body::<WeakrefBody>(head)).prev = obj;
            }
            (*list).weaklist = obj;
        }
        self.track(obj);
        obj
    }

    /// Starts tracking container `obj` in the youngest generation.
    fn track(&self, obj: ObjPtr) {
        // SAFETY: `obj` is a live container in no list.
        unsafe { object::gc_list_append(self.gc.youngest(), obj) };
        self.tracked_count.set(self.tracked_count.get() + 1);
    }

    /// Stops tracking container `obj` (its contents cannot form a cycle).
    fn untrack(&self, obj: ObjPtr) {
        // SAFETY: `obj` is a live, tracked container.
        unsafe { object::gc_list_remove(obj) };
        self.tracked_count.set(self.tracked_count.get() - 1);
    }

    /// Ends a dead object: it leaves the weakref and GC lists and the live counts, then its
    /// blocks go back to the allocator, or, under `nogc`, to the graveyard. Its references must
    /// already have been dropped or handed over.
    fn free_object(&self, obj: ObjPtr) {
        self.retire(obj);
        if self.retain_dead {
            self.bury(obj);
        } else {
            self.return_blocks(obj);
        }
    }

    /// The bookkeeping of a death, whatever happens to the blocks: unlinks a weakref from its
    /// target, untracks a container, counts the deallocation.
    fn retire(&self, obj: ObjPtr) {
        // SAFETY: `obj` has refcount zero and is unreachable, but its block is still ours.
        // Tests: object_model::refcounts_balance, object_model::weakref_dies_with_target.
        unsafe {
            if (*obj).kind == Kind::Weakref {
                self.unlink_weakref(obj);
            }
            if (*obj).kind.is_container() {
                if object::is_tracked(obj) {
                    self.untrack(obj);
                }
                self.gc.note_deallocation((*obj).kind, (*obj).len as usize);
            }
        }
        self.live_objects.set(self.live_objects.get() - 1);
    }

    /// Keeps a retired object's blocks (`nogc`): its bytes move from live to retained and it
    /// joins the graveyard, which teardown frees.
    fn bury(&self, obj: ObjPtr) {
        // SAFETY: `obj` is retired (untracked, no references left to it) and its block is ours;
        // `graveyard_link` writes only a word freeing does not read.
        // Test: object_model::nogc_keeps_dead_blocks_until_teardown.
        let bytes = unsafe {
            object::graveyard_link(obj).write(self.graveyard.get());
            owned_bytes(obj) as u64
        };
        self.graveyard.set(obj);
        self.live_bytes.set(self.live_bytes.get() - bytes);
        self.retained_bytes.set(self.retained_bytes.get() + bytes);
        self.retained_objects.set(self.retained_objects.get() + 1);
    }

    /// Returns every block of the graveyard to the allocator (teardown).
    fn empty_graveyard(&self) {
        let mut obj = self.graveyard.replace(ptr::null_mut());
        // Counted as live again for the moment it takes `return_blocks` to free them.
        self.live_bytes.set(self.live_bytes.get() + self.retained_bytes.replace(0));
        self.retained_objects.set(0);
        while !obj.is_null() {
            // SAFETY: every graveyard object was buried once and not freed since; the link is
            // read before its block goes back. Test: object_model::nogc_keeps_dead_blocks_until_teardown
            // (valgrind: no leak, no invalid read).
            let next = unsafe { *object::graveyard_link(obj) };
            self.return_blocks(obj);
            obj = next;
        }
    }

    /// Returns `obj`'s blocks (the object, a list's items, a dict's table) to the allocator.
    fn return_blocks(&self, obj: ObjPtr) {
        // SAFETY: `obj` is retired and its blocks are returned once (directly, or from the
        // graveyard at teardown); we read its layout one last time.
        // Test: object_model::teardown_frees_everything (live bytes return to zero).
        unsafe {
            match (*obj).kind {
                Kind::List => {
                    let list = object::body::<ListBody>(obj);
                    if (*list).capacity > 0 {
                        self.free_bytes((*list).items.cast(), object::list_items_size((*list).capacity));
                    }
                }
                Kind::Dict => {
                    let dict = object::body::<DictBody>(obj);
                    if (*dict).capacity > 0 {
                        self.free_bytes((*dict).table, object::dict_table_size((*dict).capacity));
                    }
                }
                _ => {}
            }
            let size = object::own_block_size(obj);
            self.free_bytes(object::block_start(obj).as_ptr(), size);
        }
    }

    /// Takes a weakref out of its target's weakref list (if the target is still alive).
    fn unlink_weakref(&self, weak: ObjPtr) {
        // SAFETY: a weakref with a non-null target is in that live target's doubly linked list.
        unsafe {
            let body = object::body::<WeakrefBody>(weak);
            let target = (*body).target;
            if target.is_null() {
                return;
            }
            let (prev, next) = ((*body).prev, (*body).next);
            if prev.is_null() {
                (*object::body::<InstanceBody>(target)).weaklist = next;
            } else {
                (*object::body::<WeakrefBody>(prev)).next = next;
            }
            if !next.is_null() {
                (*object::body::<WeakrefBody>(next)).prev = prev;
            }
            (*body).target = ptr::null_mut();
        }
    }

    /// Grows or shrinks a list's items block for `new_len` items, with CPython's over-allocation
    /// (`list_resize`), and sets its length. New slots are null.
    fn resize_list(&self, obj: ObjPtr, new_len: usize) {
        // SAFETY: `obj` is a live list; its items block has `capacity` slots, `len` in use.
        unsafe {
            let list = object::body::<ListBody>(obj);
            let (len, capacity) = ((*list).len, (*list).capacity);
            if new_len <= capacity && new_len >= capacity / 2 {
                for i in len..new_len {
                    (*list).items.add(i).write(ptr::null_mut());
                }
                (*list).len = new_len;
                return;
            }
            let mut new_capacity = (new_len + (new_len >> 3) + 6) & !3;
            if new_len.saturating_sub(len) > new_capacity - new_len {
                new_capacity = (new_len + 3) & !3;
            }
            if new_len == 0 {
                new_capacity = 0;
            }
            if new_len > len {
                // Growing (an insert): nothing has changed yet, so the cap may stop it here.
                self.admit(object::list_items_size(new_capacity));
            }
            let items = if new_capacity == 0 {
                ptr::null_mut()
            } else {
                self.alloc_bytes(object::list_items_size(new_capacity)).cast::<ObjPtr>()
            };
            let kept = len.min(new_len);
            if kept > 0 {
                ptr::copy_nonoverlapping((*list).items, items, kept);
            }
            for i in kept..new_len {
                items.add(i).write(ptr::null_mut());
            }
            if capacity > 0 {
                self.free_bytes((*list).items.cast(), object::list_items_size(capacity));
            }
            *list = ListBody { items, len: new_len, capacity: new_capacity };
        }
    }

    fn replace_slot(&self, obj: ObjPtr, index: usize, new: ObjPtr) {
        // SAFETY: `obj` is alive (the caller holds a handle); `slot_at` checks the bounds.
        let old = unsafe {
            let slot = slot_at(obj, index);
            std::mem::replace(&mut *slot, new)
        };
        if !old.is_null() {
            self.decref(old);
        }
    }

    /// Turns a slot value into a handle, following a back edge stored as a weakref.
    fn follow<'h>(&'h self, value: ObjPtr, holder: ObjPtr, index: usize) -> Option<Handle<'h>> {
        if value.is_null() {
            return None;
        }
        // SAFETY: `value` is held by a live slot, so it is alive.
        let target = unsafe {
            if (*value).kind == Kind::Weakref && (*value).flags & flags::BACK_EDGE != 0 {
                let target = (*object::body::<WeakrefBody>(value)).target;
                assert!(
                    !target.is_null(),
                    "dead back edge in slot {index} of a {}: workload invariant broken — a back \
                     edge must never be the only reference keeping its target alive (under the \
                     `weakref` strategy back edges are weak, so the target has been freed)",
                    (*holder).kind.name()
                );
                target
            } else {
                value
            }
        };
        self.incref(target);
        Some(self.handle(target))
    }

    // ----- end of run -----------------------------------------------------------------

    /// Walks every object reachable from the tracked containers. Once the workload has
    /// returned there are no roots, so all of it is leaked (garbage refcounting never freed).
    fn leak_report(&self) -> LeakReport {
        // The small ints and `()` belong to the runtime, not to the workload.
        let runtime_owned: HashSet<ObjPtr> =
            self.small_ints.get().expect("built").iter().chain(self.empty_tuple.get()).copied().collect();
        // SAFETY: the GC lists hold live containers; their references are live objects.
        let mut stack = unsafe { self.tracked_objects() };
        let mut seen: HashSet<ObjPtr> = stack.iter().copied().collect();
        let mut report = LeakReport::default();
        while let Some(obj) = stack.pop() {
            // SAFETY: as above.
            unsafe {
                object::for_each_reference(obj, |child| {
                    if !runtime_owned.contains(&child) && seen.insert(child) {
                        stack.push(child);
                    }
                });
                let bytes = owned_bytes(obj) as u64;
                let entry = report.by_kind.entry((*obj).kind).or_default();
                entry.0 += 1;
                entry.1 += bytes;
                report.objects += 1;
                report.bytes += bytes;
            }
        }
        report
    }
}

impl Drop for Heap {
    /// Frees everything, leaked cycles included: every container drops its references (as
    /// `tp_clear` does), then the last references go. Weakref callbacks do not run.
    fn drop(&mut self) {
        self.tearing_down.set(true); // no finalizer or callback runs from here on
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
            for &obj in self.small_ints.get().expect("built").iter().chain(self.empty_tuple.get()) {
                self.decref(obj);
            }
            debug_assert_eq!(self.live_objects.get(), 0, "teardown left objects alive");
            self.empty_graveyard();
            debug_assert_eq!(self.live_bytes.get(), 0, "teardown left blocks allocated");
            self.gc.free_lists();
        }
    }
}

impl Heap {
    fn release_globals(&mut self) {
        if let Some(globals) = self.globals.take() {
            self.decref(globals);
        }
    }

    /// Every tracked container, in every generation and the permanent one.
    ///
    /// # Safety
    /// The GC lists must be well formed (they are, outside a collection's phases).
    unsafe fn tracked_objects(&self) -> Vec<ObjPtr> {
        // SAFETY: forwarded.
        self.gc.all_lists().into_iter().flat_map(|list| unsafe { object::gc_list_objects(list) }).collect()
    }

    /// Drops every reference `obj` holds (CPython's `tp_clear`).
    ///
    /// # Safety
    /// `obj` is a live container on which the caller holds a reference.
    unsafe fn clear_references(&self, obj: ObjPtr) {
        // Each reference is taken out (its slot nulled) before it is released, and the slots are
        // found afresh after every release: a release can run finalizers and callbacks, which may
        // change `obj` (a list may grow and move its items).
        let mut index = 0;
        // SAFETY: `obj` stays alive (the caller's reference); each accessor is used on its kind.
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
    unsafe fn take_reference(&self, obj: ObjPtr, index: usize) -> Option<ObjPtr> {
        // SAFETY: forwarded; each kind is read through its own layout.
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

impl Blocks for Heap {
    fn admit(&self, size: usize) {
        Heap::admit(self, size);
    }

    fn alloc_bytes(&self, size: usize) -> *mut u8 {
        self.live_bytes.set(self.live_bytes.get() + size as u64);
        self.allocator.borrow_mut().alloc(size).as_ptr()
    }

    fn free_bytes(&self, block: *mut u8, size: usize) {
        self.live_bytes.set(self.live_bytes.get() - size as u64);
        // SAFETY: every block freed here came from `alloc_bytes` with the same size (the object
        // model records sizes in headers, list capacities and dict capacities).
        // Test: object_model::teardown_frees_everything (live bytes return to zero).
        unsafe { self.allocator.borrow_mut().free(NonNull::new_unchecked(block), size) };
    }
}

/// Bytes an object owns: its block plus a list's items or a dict's table.
///
/// # Safety
/// `obj` names a live object.
unsafe fn owned_bytes(obj: ObjPtr) -> usize {
    // SAFETY: forwarded contract.
    unsafe {
        object::own_block_size(obj)
            + match (*obj).kind {
                Kind::List => object::list_items_size((*object::body::<ListBody>(obj)).capacity),
                Kind::Dict => match (*object::body::<DictBody>(obj)).capacity {
                    0 => 0,
                    capacity => object::dict_table_size(capacity),
                },
                _ => 0,
            }
    }
}

/// Writes a kind's body right after the header.
///
/// # Safety
/// `obj` is a fresh object whose kind's body is a `T`.
unsafe fn body_write<T>(obj: ObjPtr, body: T) {
    // SAFETY: forwarded contract; the block has room for the body (`block_size`).
    unsafe { object::body::<T>(obj).write(body) }
}

/// The slot `index` of a tuple, instance or list, bounds-checked.
///
/// # Safety
/// `obj` names a live tuple, instance or list.
unsafe fn slot_at(obj: ObjPtr, index: usize) -> *mut ObjPtr {
    // SAFETY: forwarded contract.
    let slots = unsafe { object::slots(obj) };
    let len = slots.len();
    // SAFETY: forwarded contract.
    let kind = unsafe { (*obj).kind.name() };
    assert!(index < len, "slot {index} out of range for a {kind} of length {len}");
    &mut slots[index]
}

fn kind_list(kinds: &[Kind]) -> String {
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    format!("a {}", names.join(" or a "))
}
