//! `cache`: an LRU-style object cache in front of an expensive lookup, in two variants.
//!
//! It stands for the caches long-running Python services keep: `functools.lru_cache`, Django's
//! local-memory cache, memoised query results (**`strong`**), and identity maps and interning
//! tables built on `weakref.WeakValueDictionary`, as SQLAlchemy's session identity map is
//! (**`weak-value`**). Requests look up `operations` keys in batches of `batch`, one batch per
//! request. Key popularity is Zipf-like: key `k` (of `0..keys`) has weight `(k + 1)^-skew`
//! (`skew = 0` is uniform); a draw takes the first key whose cumulative weight (summed in key
//! order, each weight from the platform's `pow`, as Python's `**` takes it) exceeds
//! `unit() × total`, the last key if rounding reaches the total. On a miss the program builds
//! the value: an instance holding the key, a list of `fields` ints (consecutive, from a random
//! base), a str name (`item-<key>`) and the number of the operation that built it.
//!
//! **`strong`** keeps at most `capacity` entries and evicts the least recently used, as
//! `functools.lru_cache` does: a dict maps key → entry, and the entries form a doubly-linked
//! ring through a sentinel `root`, oldest first. `next` edges are strong, except the one that
//! closes the ring (newest → root); `prev` edges are back edges. Every edge into `root` is a back
//! edge too (the program holds `root`), and every linked entry is held by the dict, so no back
//! edge is ever the only thing keeping its target alive. A hit moves the entry to the newest end
//! (under the `weakref` strategy each relink makes new weakref objects). An evicted entry is
//! unlinked first, so nothing points at it and refcounting frees it: the variant makes no
//! garbage cycles, although the live ring is one big cycle. At the end the ring is walked (its
//! contents go into the checksum) and unlinked entry by entry, as `cache_clear()` does.
//!
//! **`weak-value`** maps key → weak reference to the value, and the values are owned elsewhere:
//! every request opens a session (an instance holding a list of the values it used) in a ring
//! of `sessions` sessions, replacing the oldest one. A value dies when the last session that
//! used it is replaced, so a key hits if the current request or one of the `sessions − 1`
//! before it used it. With `callbacks = true` each weakref carries a callback that deletes its
//! dict entry when the value dies (CPython's `WeakValueDictionary` with its `KeyedRef`s; the
//! callback finds the dict in the heap's globals, the twin in a module global); with
//! `callbacks = false` dead weakrefs stay in the dict until their key is looked up again, which
//! counts as a miss and replaces them. Sessions, their lists and the values are acyclic, so
//! every value dies by refcounting at the same program point under every strategy, and hit
//! rates cannot depend on the collector. At the end the sessions close one by one, oldest first.
//!
//! The checksum mixes, per request, a digest of the values returned (operation number, sum of
//! the ints, length of the name), then the hit and miss counts and the cache's final contents
//! (checked on the way: keys, names, ring edges, and the entries left as the sessions close).
//! Checkpoints: `startup_done` once the empty cache exists, `request_done` after every batch.
//!
//! For the cycle collector this is a program whose tracked population grows while the cache warms
//! up and then churns in place: a miss allocates as many containers as an eviction (or a session's
//! turnover, on average) frees, so generation 0's count stops drifting and collections become rare
//! (without callbacks dead weakrefs pile up in the dict, and the count drifts until every key has
//! been seen); their survivors are old objects that later die by refcounting, and no collection
//! finds garbage. Once the count stops drifting, collections come only from its floor: a container
//! freed while the count is 0 does not lower it, so the count is a random walk reflected at 0, and
//! how fast it climbs depends on which allocations count. CPython's free lists (80 lists, 80 dicts,
//! tuples) hand objects out and take them back without touching the count; the model counted
//! every container until it modelled those free lists (`heap/collector.rs`, `FreeLists`), and then
//! ran 7–12% more collections than CPython here (`weak-value` without callbacks at `default`:
//! 150/13/1 against 140/12/1). With the free lists modelled both sides agree exactly (`harness
//! validate --workload cache --wparam variant=weak-value --wparam callbacks=false`).

use strategies::params::Defaults::{BySize, Fixed};
use strategies::params::{Choice, Flag, Float, Int, Param, ParamError, Reader};
use strategies::{CallbackId, Handle, Heap, Local, WeakCallback};

use crate::rng::SplitMix64;
use crate::{Checksum, Workload, WorkloadInfo};

pub(crate) const INFO: WorkloadInfo = WorkloadInfo {
    name: "cache",
    summary: "an LRU object cache (strong, with eviction) or a weak-value cache whose owners live elsewhere",
    params: &[&VARIANT, &OPERATIONS, &KEYS, &SKEW, &BATCH, &FIELDS, &CAPACITY, &SESSIONS, &CALLBACKS],
    build,
};

/// The two caches, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Design {
    Strong,
    WeakValue,
}

const VARIANT: Param<Choice<Design>> = Param::new(
    "variant",
    Choice(&[("strong", Design::Strong), ("weak-value", Design::WeakValue)]),
    Fixed(Design::Strong),
    "strong (LRU with explicit eviction) or weak-value (dict of weakrefs, values owned by sessions)",
);
const OPERATIONS: Param<Int<u64>> =
    Param::new("operations", Int::at_least(0), BySize([5000, 100_000, 1_000_000, 20_000_000]), "lookups in the run");
/// Larger key spaces would make the popularity table (one float per key) unreasonably large.
const KEYS: Param<Int<u64>> =
    Param::new("keys", Int::new(1, 1 << 24), BySize([1000, 10_000, 100_000, 1_000_000]), "size of the key space");
const SKEW: Param<Float> = Param::new(
    "skew",
    Float::at_least(0.0),
    Fixed(0.9),
    "Zipf exponent of key popularity: key k drawn with weight (k+1)^-skew; 0 is uniform",
);
const BATCH: Param<Int<u64>> = Param::new("batch", Int::at_least(1), Fixed(100), "lookups per request");
const FIELDS: Param<Int<u64>> = Param::new("fields", Int::at_least(0), Fixed(4), "ints in each value's list");
const CAPACITY: Param<Int<u64>> =
    Param::new("capacity", Int::at_least(1), BySize([100, 1000, 10_000, 100_000]), "strong: entries kept")
        .only_when("variant", "strong");
const SESSIONS: Param<Int<u64>> = Param::new(
    "sessions",
    Int::at_least(1),
    BySize([10, 100, 100, 1000]),
    "weak-value: sessions (one per request) that own the values",
)
.only_when("variant", "weak-value");
const CALLBACKS: Param<Flag> = Param::new(
    "callbacks",
    Flag,
    Fixed(true),
    "weak-value: weakref callbacks delete dead entries (WeakValueDictionary); false: lazily",
)
.only_when("variant", "weak-value");

/// A value's ints start at a base drawn from `0..DATA_RANGE`: almost all beyond the small-int
/// cache, so each one is an int object, as in Python.
const DATA_RANGE: u64 = 1_000_000;
/// What the final digest mixes in place of a dead value (weak-value without callbacks).
const DEAD: u64 = u64::MAX;

// Slots of a value.
const VALUE_KEY: usize = 0;
const DATA: usize = 1;
const NAME: usize = 2;
const STAMP: usize = 3;
const VALUE_SLOTS: usize = 4;

// Slots of an LRU entry (and of the ring's sentinel), as `functools.lru_cache`'s links.
const PREV: usize = 0;
const NEXT: usize = 1;
const ENTRY_KEY: usize = 2;
const VALUE: usize = 3;
const ENTRY_SLOTS: usize = 4;

// Slots of a session.
const NUMBER: usize = 0;
const HELD: usize = 1;
const SESSION_SLOTS: usize = 2;

/// The key under which the weak-value cache's dict sits in the heap's globals.
const ENTRIES_GLOBAL: u64 = 0;

#[derive(Clone, Copy, Debug)]
enum Variant {
    Strong { capacity: u64 },
    WeakValue { sessions: u64, callbacks: bool },
}

#[derive(Debug)]
struct Cache {
    seed: u64,
    variant: Variant,
    operations: u64,
    keys: u64,
    skew: f64,
    batch: u64,
    fields: u64,
}

fn build(p: &mut Reader, seed: u64) -> Result<Box<dyn Workload>, ParamError> {
    let variant = match p.get(&VARIANT)? {
        Design::Strong => Variant::Strong { capacity: p.get(&CAPACITY)? },
        Design::WeakValue => Variant::WeakValue { sessions: p.get(&SESSIONS)?, callbacks: p.get(&CALLBACKS)? },
    };
    let workload = Cache {
        seed,
        variant,
        operations: p.get(&OPERATIONS)?,
        keys: p.get(&KEYS)?,
        skew: p.get(&SKEW)?,
        batch: p.get(&BATCH)?,
        fields: p.get(&FIELDS)?,
    };
    Ok(Box::new(workload))
}

impl Workload for Cache {
    fn run(&self, heap: &Heap) -> Checksum {
        let mut rng = SplitMix64::new(self.seed);
        let mut checksum = Checksum::new();
        let keys = KeyDraw::new(self.keys, self.skew);
        match self.variant {
            Variant::Strong { capacity } => self.serve(heap, Lru::new(heap, capacity), &keys, &mut rng, &mut checksum),
            Variant::WeakValue { sessions, callbacks } => {
                let cache = WeakValueCache::new(heap, sessions, callbacks);
                self.serve(heap, cache, &keys, &mut rng, &mut checksum);
            }
        }
        checksum
    }
}

impl Cache {
    /// Runs every request against `cache`, then mixes the hit and miss counts and what the cache
    /// still holds.
    fn serve<'h>(
        &self,
        heap: &'h Heap,
        mut cache: impl ObjectCache<'h>,
        keys: &KeyDraw,
        rng: &mut SplitMix64,
        checksum: &mut Checksum,
    ) {
        heap.startup_done();
        let mut misses = 0;
        let mut first = 0;
        let mut number = 0;
        while first < self.operations {
            let end = first.saturating_add(self.batch).min(self.operations);
            cache.begin_request(heap, number);
            let request = self.serve_request(heap, &mut cache, keys, rng, first, end);
            checksum.mix(request.digest);
            misses += request.misses;
            heap.request_done();
            first = end;
            number += 1;
        }
        checksum.mix(self.operations - misses);
        checksum.mix(misses);
        cache.finish(heap, checksum);
    }

    /// Operations `first..end`: look each key up, build and cache the value on a miss, use it.
    fn serve_request<'h>(
        &self,
        heap: &'h Heap,
        cache: &mut impl ObjectCache<'h>,
        keys: &KeyDraw,
        rng: &mut SplitMix64,
        first: u64,
        end: u64,
    ) -> Request {
        let mut request = Request { digest: 0, misses: 0 };
        for stamp in first..end {
            let key = keys.draw(rng);
            let value = match cache.get(heap, key) {
                Some(value) => value,
                None => {
                    request.misses += 1;
                    let value = build_value(heap, rng, key, stamp, self.fields);
                    cache.put(heap, key, &value);
                    value
                }
            };
            cache.hold(heap, &value);
            request.digest = request.digest.wrapping_add(value_digest(heap, &value));
        }
        request
    }
}

/// What one request computed.
struct Request {
    digest: u64,
    misses: u64,
}

/// Zipf-like key popularity: cumulative weights `(k + 1)^-skew`, searched with `unit() × total`.
struct KeyDraw {
    cumulative: Vec<f64>,
}

impl KeyDraw {
    fn new(keys: u64, skew: f64) -> KeyDraw {
        let mut total = 0.0;
        let cumulative = (1..=keys)
            .map(|rank| {
                total += (rank as f64).powf(-skew);
                total
            })
            .collect();
        KeyDraw { cumulative }
    }

    /// The first key whose cumulative weight exceeds `unit() × total` (Python's `bisect_right`);
    /// the last key if rounding makes the product reach the total.
    fn draw(&self, rng: &mut SplitMix64) -> u64 {
        let total = *self.cumulative.last().expect("at least one key");
        let target = rng.unit() * total;
        let key = self.cumulative.partition_point(|&c| c <= target);
        key.min(self.cumulative.len() - 1) as u64
    }
}

/// What the request loop needs from either variant.
trait ObjectCache<'h> {
    /// A request begins (the weak-value cache opens its session here).
    fn begin_request(&mut self, heap: &'h Heap, number: u64);
    /// The cached value for `key`, or `None`: a miss.
    fn get(&mut self, heap: &'h Heap, key: u64) -> Option<Handle<'h>>;
    /// Caches `value`, just built for `key` after a miss.
    fn put(&mut self, heap: &'h Heap, key: u64, value: &Handle<'h>);
    /// The request uses `value` (the weak-value cache's session keeps it).
    fn hold(&mut self, heap: &'h Heap, value: &Handle<'h>);
    /// Mixes the final contents into the checksum and lets everything go.
    fn finish(self, heap: &'h Heap, checksum: &mut Checksum);
}

/// The `strong` variant: `functools.lru_cache`'s dict plus doubly-linked ring of entries.
struct Lru<'h> {
    entries: Local<'h>,
    root: Local<'h>,
    capacity: u64,
}

impl<'h> Lru<'h> {
    fn new(heap: &'h Heap, capacity: u64) -> Lru<'h> {
        let entries = heap.dict();
        let root = heap.instance(ENTRY_SLOTS);
        heap.set_back_edge(&root, PREV, &root);
        heap.set_back_edge(&root, NEXT, &root);
        Lru { entries: heap.local(entries), root: heap.local(root), capacity }
    }

    /// Makes `after` follow `before` in the ring. Edges into `root` and `prev` edges are back
    /// edges; other `next` edges are strong.
    fn link(&self, heap: &Heap, before: &Handle<'_>, after: &Handle<'_>) {
        if *after == *self.root {
            heap.set_back_edge(before, NEXT, after);
        } else {
            heap.set(before, NEXT, Some(after));
        }
        heap.set_back_edge(after, PREV, before);
    }

    fn unlink(&self, heap: &Heap, entry: &Handle<'_>) {
        let prev = heap.get(entry, PREV).expect("a linked entry has a predecessor");
        let next = heap.get(entry, NEXT).expect("a linked entry has a successor");
        self.link(heap, &prev, &next);
    }

    fn append_newest(&self, heap: &Heap, entry: &Handle<'_>) {
        let newest = heap.get(&self.root, PREV).expect("the root has a predecessor");
        self.link(heap, &newest, entry);
        self.link(heap, entry, &self.root);
    }

    fn evict_oldest(&self, heap: &'h Heap) {
        let oldest = heap.get(&self.root, NEXT).expect("the root has a successor");
        self.unlink(heap, &oldest);
        let key = int_slot(heap, &oldest, ENTRY_KEY);
        heap.dict_remove(&self.entries, key).expect("a linked entry is in the dict");
    }
}

impl<'h> ObjectCache<'h> for Lru<'h> {
    fn begin_request(&mut self, _heap: &'h Heap, _number: u64) {}

    fn get(&mut self, heap: &'h Heap, key: u64) -> Option<Handle<'h>> {
        let entry = heap.dict_get(&self.entries, key)?;
        self.unlink(heap, &entry);
        self.append_newest(heap, &entry);
        heap.get(&entry, VALUE)
    }

    fn put(&mut self, heap: &'h Heap, key: u64, value: &Handle<'h>) {
        let entry = heap.instance(ENTRY_SLOTS);
        heap.set(&entry, ENTRY_KEY, heap.get(value, VALUE_KEY).as_ref());
        heap.set(&entry, VALUE, Some(value));
        heap.dict_set(&self.entries, key, &entry);
        self.append_newest(heap, &entry);
        if heap.len(&self.entries) as u64 > self.capacity {
            self.evict_oldest(heap);
        }
    }

    fn hold(&mut self, _heap: &'h Heap, _value: &Handle<'h>) {}

    /// Walks the ring oldest first, checking its edges and mixing each entry, and unlinks every
    /// entry on the way (`cache_clear()`), so that nothing is left in a cycle.
    fn finish(self, heap: &'h Heap, checksum: &mut Checksum) {
        let mut entry = heap.get(&self.root, NEXT).expect("the root has a successor");
        let mut count = 0;
        while entry != *self.root {
            let next = heap.get(&entry, NEXT).expect("a linked entry has a successor");
            assert!(heap.get(&next, PREV).as_ref() == Some(&entry), "an LRU back edge does not lead back");
            let key = int_slot(heap, &entry, ENTRY_KEY);
            let value = heap.get(&entry, VALUE).expect("an entry has a value");
            assert!(heap.dict_get(&self.entries, key).as_ref() == Some(&entry), "a linked entry left the dict");
            checksum.mix(key);
            checksum.mix(checked_digest(heap, &value, key));
            heap.set(&entry, PREV, None);
            heap.set(&entry, NEXT, None);
            entry = next;
            count += 1;
        }
        assert_eq!(count, heap.len(&self.entries), "the ring and the dict disagree");
        checksum.mix(count as u64);
        heap.set(&self.root, PREV, None);
        heap.set(&self.root, NEXT, None);
    }
}

/// The `weak-value` variant: a dict of weakrefs; values owned by a ring of sessions.
struct WeakValueCache<'h> {
    entries: Local<'h>,
    ring: Local<'h>,
    /// The current session's list of the values it used.
    held: Option<Handle<'h>>,
    sessions: u64,
    /// Requests begun so far; with `open` sessions in the ring, the oldest is in slot
    /// `requests % open`.
    requests: u64,
    callback: Option<CallbackId>,
}

impl<'h> WeakValueCache<'h> {
    fn new(heap: &'h Heap, sessions: u64, callbacks: bool) -> WeakValueCache<'h> {
        let entries = heap.dict();
        let callback = callbacks.then(|| {
            heap.dict_set(&heap.globals(), ENTRIES_GLOBAL, &entries);
            heap.register_callback(remove_dead_entry)
        });
        let (entries, ring) = (heap.local(entries), heap.local(heap.list()));
        WeakValueCache { entries, ring, held: None, sessions, requests: 0, callback }
    }

    /// Closes the sessions one by one, oldest first, as a server shutting down would, and mixes
    /// how many entries are left after each: with callbacks, the entries of the values that
    /// died go at once; without, they stay, dead.
    fn close_sessions(&self, heap: &Heap, checksum: &mut Checksum) {
        let open = heap.len(&self.ring);
        for i in 0..open {
            heap.set(&self.ring, (self.requests as usize + i) % open, None);
            checksum.mix(heap.len(&self.entries) as u64);
        }
    }

    /// Mixes every entry in key order: a live one's digest, or a marker for a dead one.
    fn mix_entries(&self, heap: &Heap, checksum: &mut Checksum) {
        let mut keys = heap.dict_keys(&self.entries);
        keys.sort_unstable();
        for key in keys {
            let weakref = heap.dict_get(&self.entries, key).expect("a listed key is in the dict");
            checksum.mix(key);
            checksum.mix(heap.upgrade(&weakref).map_or(DEAD, |value| checked_digest(heap, &value, key)));
        }
    }
}

/// The weakref callback: deletes the dead value's entry, unless the key already maps to another
/// weakref (as `WeakValueDictionary`'s `_remove_dead_weakref` checks).
fn remove_dead_entry<'h>(heap: &'h Heap, weakref: &Handle<'h>, key: Option<&Handle<'h>>) {
    let entries = heap.dict_get(&heap.globals(), ENTRIES_GLOBAL).expect("the cache put its dict in the globals");
    let key = heap.int_value(key.expect("each weakref carries its key")) as u64;
    if heap.dict_get(&entries, key).as_ref() == Some(weakref) {
        heap.dict_remove(&entries, key);
    }
}

impl<'h> ObjectCache<'h> for WeakValueCache<'h> {
    /// Opens a session; once the ring is full it replaces the oldest one, whose values die
    /// unless a later session used them too.
    fn begin_request(&mut self, heap: &'h Heap, number: u64) {
        let held = heap.list();
        let session = heap.instance(SESSION_SLOTS);
        heap.set(&session, NUMBER, Some(&heap.int(number as i64)));
        heap.set(&session, HELD, Some(&held));
        if number < self.sessions {
            heap.list_append(&self.ring, &session);
        } else {
            heap.set(&self.ring, (number % self.sessions) as usize, Some(&session));
        }
        self.held = Some(held);
        self.requests += 1;
    }

    fn get(&mut self, heap: &'h Heap, key: u64) -> Option<Handle<'h>> {
        heap.dict_get(&self.entries, key).and_then(|weakref| heap.upgrade(&weakref))
    }

    fn put(&mut self, heap: &'h Heap, key: u64, value: &Handle<'h>) {
        let weakref = match self.callback {
            Some(id) => {
                let key = heap.get(value, VALUE_KEY).expect("a value has a key");
                heap.weakref(value, Some(WeakCallback { id, arg: Some(&key) }))
            }
            None => heap.weakref(value, None),
        };
        heap.dict_set(&self.entries, key, &weakref);
    }

    fn hold(&mut self, heap: &'h Heap, value: &Handle<'h>) {
        heap.list_append(self.held.as_ref().expect("a request has begun"), value);
    }

    /// Mixes every entry, then closes the sessions; with callbacks no entry is left.
    fn finish(mut self, heap: &'h Heap, checksum: &mut Checksum) {
        self.mix_entries(heap, checksum);
        self.held = None;
        self.close_sessions(heap, checksum);
        if self.callback.is_some() {
            assert_eq!(heap.len(&self.entries), 0, "a weakref callback did not run");
            heap.dict_remove(&heap.globals(), ENTRIES_GLOBAL);
        }
    }
}

/// Builds the value for `key` on a miss: its key, `fields` consecutive ints from a random base,
/// a name and `stamp`, the operation that built it.
fn build_value<'h>(heap: &'h Heap, rng: &mut SplitMix64, key: u64, stamp: u64, fields: u64) -> Handle<'h> {
    let data = heap.list();
    let base = rng.below(DATA_RANGE);
    for i in 0..fields {
        heap.list_append(&data, &heap.int((base + i) as i64));
    }
    let value = heap.instance(VALUE_SLOTS);
    heap.set(&value, VALUE_KEY, Some(&heap.int(key as i64)));
    heap.set(&value, DATA, Some(&data));
    heap.set(&value, NAME, Some(&heap.str(&format!("item-{key}"))));
    heap.set(&value, STAMP, Some(&heap.int(stamp as i64)));
    value
}

/// What using a value computes: its stamp, the sum of its ints and the length of its name.
fn value_digest(heap: &Heap, value: &Handle<'_>) -> u64 {
    let data = heap.get(value, DATA).expect("a value has data");
    let sum = (0..heap.len(&data))
        .map(|i| heap.int_value(&heap.get(&data, i).expect("data slots are filled")) as u64)
        .fold(0u64, u64::wrapping_add);
    let name = heap.get(value, NAME).expect("a value has a name");
    int_slot(heap, value, STAMP).wrapping_add(sum).wrapping_add(heap.len(&name) as u64)
}

/// A value's digest, after checking that it is the value of `key`.
fn checked_digest(heap: &Heap, value: &Handle<'_>, key: u64) -> u64 {
    assert_eq!(int_slot(heap, value, VALUE_KEY), key, "a value is cached under another key");
    let name = heap.get(value, NAME).expect("a value has a name");
    assert_eq!(heap.str_value(&name), format!("item-{key}"), "a value's name was corrupted");
    value_digest(heap, value)
}

fn int_slot(heap: &Heap, h: &Handle<'_>, slot: usize) -> u64 {
    heap.int_value(&heap.get(h, slot).expect("an int slot is filled")) as u64
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::Configured;
    use crate::testing::{heap, refusal, smoke};

    fn build_with(pairs: &[(&str, &str)]) -> Result<Configured, ParamError> {
        INFO.build(&smoke(1, pairs))
    }

    /// Looks `key` up as the request loop does; returns whether it hit.
    fn lookup<'h>(heap: &'h Heap, cache: &mut impl ObjectCache<'h>, rng: &mut SplitMix64, key: u64) -> bool {
        let value = cache.get(heap, key);
        let hit = value.is_some();
        let value = value.unwrap_or_else(|| {
            let value = build_value(heap, rng, key, 0, 2);
            cache.put(heap, key, &value);
            value
        });
        cache.hold(heap, &value);
        hit
    }

    #[test]
    fn the_lru_hits_exactly_when_a_reference_lru_does() {
        for strategy in ["refcount", "generational", "weakref"] {
            let heap = heap(strategy);
            let mut rng = SplitMix64::new(5);
            let mut cache = Lru::new(&heap, 3);
            let mut reference: Vec<u64> = Vec::new(); // least recently used first
            for _ in 0..2000 {
                let key = rng.below(6);
                let expected = match reference.iter().position(|&k| k == key) {
                    Some(i) => {
                        reference.remove(i);
                        true
                    }
                    None => false,
                };
                reference.push(key);
                if reference.len() > 3 {
                    reference.remove(0);
                }
                assert_eq!(lookup(&heap, &mut cache, &mut rng, key), expected, "{strategy}: key {key}");
            }
            let mut checksum = Checksum::new();
            cache.finish(&heap, &mut checksum);
            assert_eq!(heap.finish().leaked.objects, 0, "{strategy}: an evicted or cleared entry leaked");
        }
    }

    #[test]
    fn a_weak_value_lives_while_a_session_holds_it() {
        for callbacks in [true, false] {
            let heap = heap("generational");
            let mut rng = SplitMix64::new(5);
            let mut cache = WeakValueCache::new(&heap, 2, callbacks);
            cache.begin_request(&heap, 0);
            assert!(!lookup(&heap, &mut cache, &mut rng, 7), "the first lookup misses");
            cache.begin_request(&heap, 1);
            assert!(lookup(&heap, &mut cache, &mut rng, 7), "session 0 still owns the value");
            assert!(!lookup(&heap, &mut cache, &mut rng, 8));
            cache.begin_request(&heap, 2);
            assert!(lookup(&heap, &mut cache, &mut rng, 7), "session 1 used it too");
            cache.begin_request(&heap, 3);
            cache.begin_request(&heap, 4);
            assert_eq!(heap.len(&cache.entries), if callbacks { 0 } else { 2 }, "callbacks={callbacks}");
            assert!(!lookup(&heap, &mut cache, &mut rng, 8), "no session owns key 8's value any more");
            let mut checksum = Checksum::new();
            cache.finish(&heap, &mut checksum);
            assert_eq!(heap.finish().leaked.objects, 0);
        }
    }

    #[test]
    fn neither_variant_makes_garbage_cycles() {
        for variant in ["strong", "weak-value"] {
            let program = build_with(&[("variant", variant)]).unwrap();
            let reference = heap("refcount");
            let checksum = program.run(&reference);
            assert_eq!(reference.finish().leaked.objects, 0, "{variant} leaked under pure refcounting");
            let collected = heap("generational");
            assert_eq!(program.run(&collected), checksum);
            assert!(collected.gc_stats().iter().all(|g| g.collected == 0), "{variant}: the collector found garbage");
        }
    }

    #[test]
    fn keys_follow_the_zipf_weights() {
        let mut rng = SplitMix64::new(3);
        let draw = KeyDraw::new(10, 1.0);
        let mut counts = BTreeMap::new();
        for _ in 0..100_000 {
            *counts.entry(draw.draw(&mut rng)).or_insert(0u64) += 1;
        }
        assert_eq!(counts.len(), 10, "every key is drawn");
        let harmonic: f64 = (1..=10).map(|k| 1.0 / k as f64).sum();
        for (&key, &count) in &counts {
            let expected = 100_000.0 / ((key + 1) as f64 * harmonic);
            assert!((count as f64 - expected).abs() < 0.05 * expected, "key {key}: {count}, expected {expected}");
        }
        let uniform = KeyDraw::new(1, 0.0);
        assert_eq!(uniform.draw(&mut rng), 0);
    }

    #[test]
    fn impossible_parameters_are_refused() {
        let error = |pairs: &[(&str, &str)]| refusal(&INFO, pairs);
        assert!(error(&[("variant", "soft")]).ends_with("expected strong or weak-value"));
        assert!(error(&[("sessions", "3")]).ends_with("only with variant=weak-value (here variant=strong)"));
        let capacity = error(&[("variant", "weak-value"), ("capacity", "3")]);
        assert!(capacity.ends_with("only with variant=strong (here variant=weak-value)"), "{capacity}");
        assert!(error(&[("capacity", "0")]).ends_with("`capacity` = `0`: out of range (at least 1)"));
        assert!(error(&[("variant", "weak-value"), ("sessions", "0")]).ends_with("out of range (at least 1)"));
        assert!(error(&[("keys", "0")]).ends_with("out of range (at least 1)"));
        assert!(error(&[("keys", "16777217")]).ends_with("out of range (max 16777216)"));
        assert!(error(&[("skew", "-1")]).ends_with("out of range (at least 0)"));
        assert!(error(&[("skew", "inf")]).contains("expected a finite number (>= 0)"));
        assert!(error(&[("batch", "0")]).ends_with("out of range (at least 1)"));
    }
}
