//! `btree`: an in-memory B-tree index of records, a fraction of which is deleted and replaced
//! every round, so that old and new objects end up interleaved in the allocator's pools.
//!
//! It stands for the long-lived, slowly churning heap of a server or an in-memory database: an
//! index built at start-up, then records retired and new ones added while it keeps serving
//! lookups (the `bm_btree` shape). The tree is built from `records` records in random key order
//! by CLRS insertion with proactive splits (minimum degree t = `degree`: every node but the root
//! holds t−1..=2t−1 keys). Then each of `rounds` rounds deletes `rebuild` × `records` records
//! chosen at random (CLRS deletion with proactive borrowing and merging), inserts as many new
//! ones, and serves `lookups` lookups. Deleting first and inserting afterwards frees blocks all
//! over the pools and fills the holes with new records, so every size class ends up holding
//! objects of every age: arenas cannot drain, and the collector's old generation keeps
//! receiving objects to examine.
//!
//! Objects (the twin builds the same ones, in the same order):
//! - a **node** is a 4-slot instance: `keys` (a list of ints), `records` (a list, parallel to
//!   `keys`), `children` (a list of nodes; a leaf has no list, the slot is empty) and `parent`.
//!   Splits move the upper halves of the lists into new lists (`keys[t:]` in Python); merges
//!   free the right node and its lists; a root left without keys gives way to its only child.
//! - a **record** is a 6-slot instance: `id` (the key, shared with the node's `keys` list),
//!   `quantity` (a small int, cached), `price` (an int), `name` (a str `rec-<hex>` of 5 to 20
//!   characters), `status` (a small int) and `tags` (a list of 0 to 3 small ints): two tracked
//!   objects a record, about 2.14 with the nodes at t = 16.
//! - `ids`: one list of every live key, from which deletions and lookups draw at random (a
//!   deleted key is replaced by the last one).
//!
//! Keys are drawn from 0..2^40; an insertion that meets its key already in the tree is refused
//! (after any splits it made on the way down, which leave a valid tree) and the record gets a
//! new key. **`parents = true`** gives every node a back edge to its parent, updated whenever a
//! node changes parent (split, merge, borrow, root change), so the tree is one big cycle: pure
//! refcounting leaks it when the program drops it, a cycle collector finds it, the `weakref`
//! strategy frees it by refcounting alone. Nodes have the parent slot either way (8 bytes a
//! node). With or without parents no garbage is cyclic before the program drops the tree (a node
//! leaves the tree only by a merge or a root collapse, when no edge points back at it), so during
//! the run a cycle collector only examines: a large old heap that full collections walk for
//! nothing, and that the churn keeps promoting new objects into.
//!
//! The checksum covers an in-order walk after the build and at the end (every record's fields in
//! key order, and the count), every deleted record and every lookup's result; the walk also
//! checks the B-tree invariants (key order, node fill, leaves at one depth, parent edges). A
//! lookup draws an existing key with probability 0.9, otherwise a random key (almost always a
//! miss). Checkpoints: `startup_done` after the build and its walk, `request_done` after every
//! round (a round is one request: `rounds` latencies in all).
//!
//! Against CPython 3.11.7 (the twin at `default` size, seed 1, GC on), both with and without
//! parents: 1094 / 99 / 8 collections of generations 0 / 1 / 2 on both sides, 0 objects
//! collected on both (the tree, cyclic with parents, is still alive when the counts are read),
//! and the same checksum. The two sides allocate and free the same tracked objects in the same
//! order, so the counts agree exactly. At `default` the twin takes 12 to 16 s of CPU, the Rust
//! workload (release build) 3 to 5 s, most of it cache misses on the int keys that binary
//! searches compare, as CPython's `bisect` does.

use strategies::params::Defaults::{BySize, Fixed};
use strategies::params::{Float, Int, Param, ParamError, Reader};
use strategies::{Handle, Heap};

use crate::rng::SplitMix64;
use crate::{Checksum, PARENTS, Workload, WorkloadInfo};

pub(crate) const INFO: WorkloadInfo = WorkloadInfo {
    name: "btree",
    summary: "a B-tree index of records, a fraction deleted and replaced every round (fragments the pools)",
    params: &[&RECORDS, &DEGREE, &REBUILD, &ROUNDS, &LOOKUPS, &PARENTS],
    build,
};

/// At most 2^32 records, so that drawing a free key stays cheap.
const RECORDS: Param<Int<u64>> =
    Param::new("records", Int::new(1, 1 << 32), BySize([2000, 20_000, 200_000, 2_000_000]), "records in the tree");
/// Beyond 2^16 a node is a flat array, not a B-tree node.
const DEGREE: Param<Int<u64>> =
    Param::new("degree", Int::new(2, 1 << 16), Fixed(16), "minimum degree t: nodes hold t-1..2t-1 keys");
const REBUILD: Param<Float> = Param::new(
    "rebuild",
    Float::PROBABILITY,
    Fixed(0.25),
    "fraction of the records deleted, then replaced by new ones, every round",
);
const ROUNDS: Param<Int<u64>> =
    Param::new("rounds", Int::at_least(0), BySize([2, 4, 4, 4]), "rebuild rounds, each one request");
const LOOKUPS: Param<Int<u64>> =
    Param::new("lookups", Int::at_least(0), BySize([200, 2000, 20_000, 100_000]), "lookups after every round");

/// Keys are drawn from `0..KEY_SPACE`: far more keys than records, so a collision is rare.
const KEY_SPACE: u64 = 1 << 40;
/// A lookup asks for an existing key with this probability, else for a random one.
const HIT_CHANCE: f64 = 0.9;
/// What a lookup that finds nothing mixes into the checksum.
const NOT_FOUND: u64 = u64::MAX;

const KEYS: usize = 0;
const RECORD_LIST: usize = 1;
const CHILDREN: usize = 2;
const PARENT: usize = 3;
const NODE_SLOTS: usize = 4;

const ID: usize = 0;
const QUANTITY: usize = 1;
const PRICE: usize = 2;
const NAME: usize = 3;
const STATUS: usize = 4;
const TAGS: usize = 5;
const RECORD_SLOTS: usize = 6;

/// Quantities, statuses and tags stay in the small-int cache; prices mostly do not.
const QUANTITY_RANGE: u64 = 100;
const PRICE_RANGE: u64 = 1_000_000;
const STATUS_RANGE: u64 = 4;
const TAG_COUNT_RANGE: u64 = 4;
const TAG_RANGE: u64 = 100;
const NAME_PREFIX: &str = "rec-";

#[derive(Debug)]
struct BTree {
    seed: u64,
    records: u64,
    degree: u64,
    rebuild: f64,
    rounds: u64,
    lookups: u64,
    parents: bool,
}

fn build(p: &mut Reader, seed: u64) -> Result<Box<dyn Workload>, ParamError> {
    let workload = BTree {
        seed,
        records: p.get(&RECORDS)?,
        degree: p.get(&DEGREE)?,
        rebuild: p.get(&REBUILD)?,
        rounds: p.get(&ROUNDS)?,
        lookups: p.get(&LOOKUPS)?,
        parents: p.get(&PARENTS)?,
    };
    Ok(Box::new(workload))
}

impl Workload for BTree {
    fn run(&self, heap: &Heap) -> Checksum {
        let mut rng = SplitMix64::new(self.seed);
        let mut checksum = Checksum::new();
        let shape = Shape { degree: self.degree as usize, parents: self.parents };
        let ids = heap.list();
        let mut root = shape.new_node(heap, heap.list(), heap.list(), None);
        for _ in 0..self.records {
            root = shape.add_record(heap, root, &ids, &mut rng);
        }
        shape.walk_tree(heap, &root, &mut checksum);
        heap.startup_done();
        let batch = (self.rebuild * self.records as f64) as u64;
        for _ in 0..self.rounds {
            for _ in 0..batch {
                root = shape.delete_random_record(heap, root, &ids, &mut rng, &mut checksum);
            }
            for _ in 0..batch {
                root = shape.add_record(heap, root, &ids, &mut rng);
            }
            look_up(heap, &root, &ids, self.lookups, &mut rng, &mut checksum);
            heap.request_done();
        }
        shape.walk_tree(heap, &root, &mut checksum);
        checksum
    }
}

/// The tree's rules: its minimum degree and whether nodes point to their parents. The root is
/// held by the caller, and operations that may replace it take it and return the new one.
#[derive(Clone, Copy, Debug)]
struct Shape {
    degree: usize,
    parents: bool,
}

impl Shape {
    fn max_keys(self) -> usize {
        2 * self.degree - 1
    }

    fn new_node<'h>(
        self,
        heap: &'h Heap,
        keys: Handle<'h>,
        records: Handle<'h>,
        children: Option<Handle<'h>>,
    ) -> Handle<'h> {
        let node = heap.instance(NODE_SLOTS);
        heap.set(&node, KEYS, Some(&keys));
        heap.set(&node, RECORD_LIST, Some(&records));
        heap.set(&node, CHILDREN, children.as_ref());
        node
    }

    fn set_parent(self, heap: &Heap, child: &Handle<'_>, parent: &Handle<'_>) {
        if self.parents {
            heap.set_back_edge(child, PARENT, parent);
        }
    }

    /// Makes a new record with a fresh key and inserts it, drawing another key while the one
    /// drawn is taken; returns the root.
    fn add_record<'h>(self, heap: &'h Heap, root: Handle<'h>, ids: &Handle<'h>, rng: &mut SplitMix64) -> Handle<'h> {
        let mut key = heap.int(rng.below(KEY_SPACE) as i64);
        let record = new_record(heap, &key, rng);
        let mut root = root;
        loop {
            root = self.make_room(heap, root);
            if self.insert(heap, &root, &key, &record) {
                break;
            }
            key = heap.int(rng.below(KEY_SPACE) as i64);
            heap.set(&record, ID, Some(&key));
        }
        heap.list_append(ids, &key);
        root
    }

    /// CLRS: a full root is split under a new root, the only way the tree grows taller.
    fn make_room<'h>(self, heap: &'h Heap, root: Handle<'h>) -> Handle<'h> {
        if heap.len(&field(heap, &root, KEYS)) < self.max_keys() {
            return root;
        }
        let (keys, records, children) = (heap.list(), heap.list(), heap.list());
        heap.list_append(&children, &root);
        let new_root = self.new_node(heap, keys, records, Some(children));
        self.set_parent(heap, &root, &new_root);
        self.split_child(heap, &new_root, 0, &root);
        new_root
    }

    /// CLRS `B-TREE-SPLIT-CHILD`: the full `child` (at `index` in `parent`) keeps its lower
    /// t−1 entries, its median moves up into `parent` and a new sibling takes the upper t−1.
    fn split_child(self, heap: &Heap, parent: &Handle<'_>, index: usize, child: &Handle<'_>) {
        let t = self.degree;
        let (child_keys, child_records) = (field(heap, child, KEYS), field(heap, child, RECORD_LIST));
        let keys = split_off(heap, &child_keys, t);
        let records = split_off(heap, &child_records, t);
        let children = heap.get(child, CHILDREN).map(|grandchildren| split_off(heap, &grandchildren, t));
        let sibling = self.new_node(heap, keys, records, children);
        let median_key = pop(heap, &child_keys);
        let median_record = pop(heap, &child_records);
        heap.list_insert(&field(heap, parent, KEYS), index, &median_key);
        heap.list_insert(&field(heap, parent, RECORD_LIST), index, &median_record);
        heap.list_insert(&field(heap, parent, CHILDREN), index + 1, &sibling);
        if self.parents {
            heap.set_back_edge(&sibling, PARENT, parent);
            if let Some(grandchildren) = heap.get(&sibling, CHILDREN) {
                for i in 0..heap.len(&grandchildren) {
                    heap.set_back_edge(&item(heap, &grandchildren, i), PARENT, &sibling);
                }
            }
        }
    }

    /// CLRS `B-TREE-INSERT-NONFULL` below a root that is not full; false if `key` is taken.
    fn insert(self, heap: &Heap, root: &Handle<'_>, key: &Handle<'_>, record: &Handle<'_>) -> bool {
        let key_value = heap.int_value(key);
        let mut node = root.clone();
        loop {
            let keys = field(heap, &node, KEYS);
            let (mut index, found) = search(heap, &keys, key_value);
            if found {
                return false;
            }
            let Some(children) = heap.get(&node, CHILDREN) else {
                heap.list_insert(&keys, index, key);
                heap.list_insert(&field(heap, &node, RECORD_LIST), index, record);
                return true;
            };
            let mut child = item(heap, &children, index);
            if heap.len(&field(heap, &child, KEYS)) == self.max_keys() {
                self.split_child(heap, &node, index, &child);
                let median = int_at(heap, &keys, index);
                if key_value == median {
                    return false;
                }
                if key_value > median {
                    index += 1;
                }
                child = item(heap, &children, index);
            }
            node = child;
        }
    }

    /// Deletes a random live key (swapping the last key of `ids` into its place), mixes the
    /// deleted record into the checksum; returns the root.
    fn delete_random_record<'h>(
        self,
        heap: &'h Heap,
        root: Handle<'h>,
        ids: &Handle<'h>,
        rng: &mut SplitMix64,
        checksum: &mut Checksum,
    ) -> Handle<'h> {
        let index = rng.index(heap.len(ids));
        let key = heap.int_value(&swap_remove(heap, ids, index));
        let record = self.delete(heap, &root, key);
        assert_eq!(heap.int_value(&field(heap, &record, ID)), key, "deleted the wrong record");
        checksum.mix(record_digest(heap, &record));
        drop(record);
        self.collapse_root(heap, root)
    }

    /// CLRS `B-TREE-DELETE` of a key that is in the subtree of `top` (the root, or a node with
    /// at least t keys): every node it descends into is first given t keys, by borrowing from a
    /// sibling or merging with one. Returns the record removed.
    fn delete<'h>(self, heap: &'h Heap, top: &Handle<'h>, key: i64) -> Handle<'h> {
        let t = self.degree;
        let mut node = top.clone();
        loop {
            let keys = field(heap, &node, KEYS);
            let (index, found) = search(heap, &keys, key);
            let Some(children) = heap.get(&node, CHILDREN) else {
                assert!(found, "a deleted key must be in the tree");
                drop(heap.list_remove(&keys, index));
                return heap.list_remove(&field(heap, &node, RECORD_LIST), index).expect("records are set");
            };
            if found {
                let left = item(heap, &children, index);
                if heap.len(&field(heap, &left, KEYS)) >= t {
                    let predecessor = self.delete(heap, &left, edge_key(heap, &left, Edge::Last));
                    return replace_entry(heap, &node, index, &predecessor);
                }
                let right = item(heap, &children, index + 1);
                if heap.len(&field(heap, &right, KEYS)) >= t {
                    let successor = self.delete(heap, &right, edge_key(heap, &right, Edge::First));
                    return replace_entry(heap, &node, index, &successor);
                }
                self.merge(heap, &node, index);
                node = left;
                continue;
            }
            let child = item(heap, &children, index);
            node = if heap.len(&field(heap, &child, KEYS)) < t { self.fill(heap, &node, index) } else { child };
        }
    }

    /// Gives the child at `index`, which has t−1 keys, a t-th: from its left sibling, from its
    /// right sibling, or by merging with one of them. Returns the node to descend into.
    fn fill<'h>(self, heap: &'h Heap, node: &Handle<'h>, index: usize) -> Handle<'h> {
        let t = self.degree;
        let children = field(heap, node, CHILDREN);
        let has_right = index + 1 < heap.len(&children);
        if index > 0 && heap.len(&field(heap, &item(heap, &children, index - 1), KEYS)) >= t {
            self.borrow_from_left(heap, node, index);
        } else if has_right && heap.len(&field(heap, &item(heap, &children, index + 1), KEYS)) >= t {
            self.borrow_from_right(heap, node, index);
        } else if has_right {
            self.merge(heap, node, index);
        } else {
            self.merge(heap, node, index - 1);
            return item(heap, &children, index - 1);
        }
        item(heap, &children, index)
    }

    /// The child at `index` takes the separator before it; its left sibling's last entry (and
    /// last child) moves up (and over).
    fn borrow_from_left(self, heap: &Heap, node: &Handle<'_>, index: usize) {
        let children = field(heap, node, CHILDREN);
        let (left, child) = (item(heap, &children, index - 1), item(heap, &children, index));
        for slot in [KEYS, RECORD_LIST] {
            let (separators, from, to) = (field(heap, node, slot), field(heap, &left, slot), field(heap, &child, slot));
            heap.list_insert(&to, 0, &item(heap, &separators, index - 1));
            heap.set(&separators, index - 1, Some(&pop(heap, &from)));
        }
        if let Some(to) = heap.get(&child, CHILDREN) {
            let moved = pop(heap, &field(heap, &left, CHILDREN));
            heap.list_insert(&to, 0, &moved);
            self.set_parent(heap, &moved, &child);
        }
    }

    /// The child at `index` takes the separator after it; its right sibling's first entry (and
    /// first child) moves up (and over).
    fn borrow_from_right(self, heap: &Heap, node: &Handle<'_>, index: usize) {
        let children = field(heap, node, CHILDREN);
        let (child, right) = (item(heap, &children, index), item(heap, &children, index + 1));
        for slot in [KEYS, RECORD_LIST] {
            let (separators, from, to) =
                (field(heap, node, slot), field(heap, &right, slot), field(heap, &child, slot));
            heap.list_append(&to, &item(heap, &separators, index));
            let first = heap.list_remove(&from, 0).expect("a sibling with t keys");
            heap.set(&separators, index, Some(&first));
        }
        if let Some(to) = heap.get(&child, CHILDREN) {
            let moved = heap.list_remove(&field(heap, &right, CHILDREN), 0).expect("an internal node has children");
            heap.list_append(&to, &moved);
            self.set_parent(heap, &moved, &child);
        }
    }

    /// The child at `index` absorbs the separator after it and its right sibling, which is
    /// removed from `node` and freed.
    fn merge(self, heap: &Heap, node: &Handle<'_>, index: usize) {
        let children = field(heap, node, CHILDREN);
        let left = item(heap, &children, index);
        let right = heap.list_remove(&children, index + 1).expect("a right sibling");
        for slot in [KEYS, RECORD_LIST] {
            let to = field(heap, &left, slot);
            heap.list_append(&to, &heap.list_remove(&field(heap, node, slot), index).expect("a separator"));
            extend(heap, &to, &field(heap, &right, slot));
        }
        if let Some(grandchildren) = heap.get(&right, CHILDREN) {
            extend(heap, &field(heap, &left, CHILDREN), &grandchildren);
            for i in 0..heap.len(&grandchildren) {
                self.set_parent(heap, &item(heap, &grandchildren, i), &left);
            }
        }
    }

    /// A root left without keys by a merge gives way to its only child: the tree gets shorter.
    fn collapse_root<'h>(self, heap: &'h Heap, root: Handle<'h>) -> Handle<'h> {
        let Some(children) = heap.get(&root, CHILDREN) else { return root };
        if heap.len(&field(heap, &root, KEYS)) > 0 {
            return root;
        }
        let new_root = item(heap, &children, 0);
        if self.parents {
            heap.set(&new_root, PARENT, None);
        }
        new_root
    }

    /// Walks the tree in key order, checking the invariants and mixing every record into
    /// `checksum`, then the number of records.
    fn walk_tree(self, heap: &Heap, root: &Handle<'_>, checksum: &mut Checksum) {
        let mut height = 0;
        let mut node = root.clone();
        while let Some(children) = heap.get(&node, CHILDREN) {
            node = item(heap, &children, 0);
            height += 1;
        }
        let count = self.walk(heap, root, Bounds { depth: 0, height, low: -1, high: KEY_SPACE as i64 }, checksum);
        checksum.mix(count);
    }

    /// Walks the subtree of `node`; returns its number of records.
    fn walk(self, heap: &Heap, node: &Handle<'_>, bounds: Bounds, checksum: &mut Checksum) -> u64 {
        let (keys, records) = (field(heap, node, KEYS), field(heap, node, RECORD_LIST));
        let len = heap.len(&keys);
        assert_eq!(heap.len(&records), len, "a node's keys and records differ in length");
        assert!(len <= self.max_keys(), "a node holds more than 2t-1 keys");
        assert!(bounds.depth == 0 || len >= self.degree - 1, "a node other than the root holds fewer than t-1 keys");
        let children = heap.get(node, CHILDREN);
        match &children {
            Some(children) => assert_eq!(heap.len(children), len + 1, "an internal node has keys+1 children"),
            None => assert_eq!(bounds.depth, bounds.height, "a leaf is not at the depth of the others"),
        }
        let mut count = 0;
        let mut low = bounds.low;
        for i in 0..=len {
            let high = if i < len { int_at(heap, &keys, i) } else { bounds.high };
            assert!(low < high, "keys out of order");
            if let Some(children) = &children {
                let child = item(heap, children, i);
                if self.parents {
                    assert!(heap.get(&child, PARENT).as_ref() == Some(node), "a child's parent edge is wrong");
                }
                count += self.walk(heap, &child, Bounds { depth: bounds.depth + 1, low, high, ..bounds }, checksum);
            }
            if i < len {
                let record = item(heap, &records, i);
                assert_eq!(heap.int_value(&field(heap, &record, ID)), high, "a record is filed under another key");
                checksum.mix(record_digest(heap, &record));
                count += 1;
            }
            low = high;
        }
        count
    }
}

/// Where a walk is: a node's depth, the leaves' depth, and the open key interval it must hold.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    depth: u32,
    height: u32,
    low: i64,
    high: i64,
}

/// A record with random fields; `tags` is made before the record, as Python evaluates the
/// constructor's arguments first.
fn new_record<'h>(heap: &'h Heap, key: &Handle<'h>, rng: &mut SplitMix64) -> Handle<'h> {
    let quantity = heap.int(rng.below(QUANTITY_RANGE) as i64);
    let price = heap.int(rng.below(PRICE_RANGE) as i64);
    let name_bits = rng.next_u64();
    let shift = rng.below(64);
    let name = heap.str(&format!("{NAME_PREFIX}{:x}", name_bits >> shift));
    let status = heap.int(rng.below(STATUS_RANGE) as i64);
    let tags = heap.list();
    for _ in 0..rng.below(TAG_COUNT_RANGE) {
        heap.list_append(&tags, &heap.int(rng.below(TAG_RANGE) as i64));
    }
    let record = heap.instance(RECORD_SLOTS);
    for (slot, value) in
        [(ID, key), (QUANTITY, &quantity), (PRICE, &price), (NAME, &name), (STATUS, &status), (TAGS, &tags)]
    {
        heap.set(&record, slot, Some(value));
    }
    record
}

/// Every field of a record folded into one word (×31 + field, modulo 2^64).
fn record_digest(heap: &Heap, record: &Handle<'_>) -> u64 {
    let int = |slot| heap.int_value(&field(heap, record, slot)) as u64;
    let name = heap.str_value(&field(heap, record, NAME));
    let hex = name.strip_prefix(NAME_PREFIX).expect("a record's name has its prefix");
    let name_bits = u64::from_str_radix(hex, 16).expect("a record's name ends in hex digits");
    let tags = field(heap, record, TAGS);
    let tags_sum: u64 = (0..heap.len(&tags)).map(|i| int_at(heap, &tags, i) as u64).sum();
    [int(ID), int(QUANTITY), int(PRICE), name_bits, int(STATUS), heap.len(&tags) as u64, tags_sum]
        .into_iter()
        .fold(0, |digest, word| digest.wrapping_mul(31).wrapping_add(word))
}

/// Serves `lookups` lookups, mixing each result into `checksum`.
fn look_up(
    heap: &Heap,
    root: &Handle<'_>,
    ids: &Handle<'_>,
    lookups: u64,
    rng: &mut SplitMix64,
    checksum: &mut Checksum,
) {
    for _ in 0..lookups {
        let key = if rng.chance(HIT_CHANCE) {
            int_at(heap, ids, rng.index(heap.len(ids)))
        } else {
            rng.below(KEY_SPACE) as i64
        };
        checksum.mix(find(heap, root, key).map_or(NOT_FOUND, |record| record_digest(heap, &record)));
    }
}

/// The record filed under `key`, if any.
fn find<'h>(heap: &'h Heap, root: &Handle<'h>, key: i64) -> Option<Handle<'h>> {
    let mut node = root.clone();
    loop {
        let (index, found) = search(heap, &field(heap, &node, KEYS), key);
        if found {
            return Some(item(heap, &field(heap, &node, RECORD_LIST), index));
        }
        node = item(heap, &heap.get(&node, CHILDREN)?, index);
    }
}

/// Python's `bisect_left` on a node's sorted keys, and whether the key is there.
fn search(heap: &Heap, keys: &Handle<'_>, key: i64) -> (usize, bool) {
    let len = heap.len(keys);
    let (mut low, mut high) = (0, len);
    while low < high {
        let middle = (low + high) / 2;
        if int_at(heap, keys, middle) < key {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    (low, low < len && int_at(heap, keys, low) == key)
}

#[derive(Clone, Copy, Debug)]
enum Edge {
    First,
    Last,
}

/// The smallest or largest key in the subtree of `node`.
fn edge_key(heap: &Heap, node: &Handle<'_>, edge: Edge) -> i64 {
    let mut node = node.clone();
    loop {
        let pick = |list: &Handle<'_>| match edge {
            Edge::First => 0,
            Edge::Last => heap.len(list) - 1,
        };
        match heap.get(&node, CHILDREN) {
            Some(children) => node = item(heap, &children, pick(&children)),
            None => {
                let keys = field(heap, &node, KEYS);
                return int_at(heap, &keys, pick(&keys));
            }
        }
    }
}

/// Files `replacement` in place of entry `index` of `node`; returns the record it held.
fn replace_entry<'h>(heap: &'h Heap, node: &Handle<'h>, index: usize, replacement: &Handle<'h>) -> Handle<'h> {
    let records = field(heap, node, RECORD_LIST);
    let removed = item(heap, &records, index);
    heap.set(&field(heap, node, KEYS), index, Some(&field(heap, replacement, ID)));
    heap.set(&records, index, Some(replacement));
    removed
}

/// A slot that is always set (a node's lists, a record's fields).
fn field<'h>(heap: &'h Heap, object: &Handle<'h>, slot: usize) -> Handle<'h> {
    heap.get(object, slot).expect("the slot is set")
}

fn item<'h>(heap: &'h Heap, list: &Handle<'h>, index: usize) -> Handle<'h> {
    heap.get(list, index).expect("lists hold no empty slots")
}

fn int_at(heap: &Heap, list: &Handle<'_>, index: usize) -> i64 {
    heap.int_value(&item(heap, list, index))
}

/// `list.pop()`.
fn pop<'h>(heap: &'h Heap, list: &Handle<'h>) -> Handle<'h> {
    heap.list_remove(list, heap.len(list) - 1).expect("lists hold no empty slots")
}

/// `list.extend(other)`.
fn extend(heap: &Heap, list: &Handle<'_>, other: &Handle<'_>) {
    for i in 0..heap.len(other) {
        heap.list_append(list, &item(heap, other, i));
    }
}

/// `tail = list[at:]; del list[at:]`: a new list.
fn split_off<'h>(heap: &'h Heap, list: &Handle<'h>, at: usize) -> Handle<'h> {
    let tail = heap.list();
    for i in at..heap.len(list) {
        heap.list_append(&tail, &item(heap, list, i));
    }
    while heap.len(list) > at {
        drop(pop(heap, list));
    }
    tail
}

/// Removes item `index` by moving the last item into its place; returns the item removed.
fn swap_remove<'h>(heap: &'h Heap, list: &Handle<'h>, index: usize) -> Handle<'h> {
    let last = pop(heap, list);
    if index == heap.len(list) {
        return last;
    }
    let removed = item(heap, list, index);
    heap.set(list, index, Some(&last));
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{heap, refusal};

    /// A degree-2 tree (a 2-3-4 tree, the deepest shape) of `records` records.
    fn small_tree<'h>(heap: &'h Heap, shape: Shape, records: u64, rng: &mut SplitMix64) -> (Handle<'h>, Handle<'h>) {
        let ids = heap.list();
        let mut root = shape.new_node(heap, heap.list(), heap.list(), None);
        for _ in 0..records {
            root = shape.add_record(heap, root, &ids, rng);
        }
        (root, ids)
    }

    #[test]
    fn a_taken_key_is_refused_and_the_tree_stays_whole() {
        let heap = heap("weakref");
        let shape = Shape { degree: 2, parents: true };
        let mut rng = SplitMix64::new(5);
        let (root, ids) = small_tree(&heap, shape, 200, &mut rng);
        let taken = item(&heap, &ids, 77);
        let intruder = new_record(&heap, &taken, &mut rng);
        let root = shape.make_room(&heap, root);
        assert!(!shape.insert(&heap, &root, &taken, &intruder));
        shape.walk_tree(&heap, &root, &mut Checksum::new());
        for i in 0..heap.len(&ids) {
            let record = find(&heap, &root, int_at(&heap, &ids, i)).expect("every id is in the tree");
            assert!(record != intruder);
        }
    }

    #[test]
    fn deleting_every_record_leaves_an_empty_leaf_and_no_cycle() {
        for name in ["refcount", "weakref", "generational"] {
            let heap = heap(name);
            let shape = Shape { degree: 2, parents: true };
            let mut rng = SplitMix64::new(11);
            let (mut root, ids) = small_tree(&heap, shape, 300, &mut rng);
            let mut checksum = Checksum::new();
            while heap.len(&ids) > 0 {
                root = shape.delete_random_record(&heap, root, &ids, &mut rng, &mut checksum);
                if heap.len(&ids).is_multiple_of(50) {
                    shape.walk_tree(&heap, &root, &mut checksum);
                }
            }
            assert!(heap.get(&root, CHILDREN).is_none() && heap.len(&field(&heap, &root, KEYS)) == 0, "{name}");
            drop((root, ids));
            assert_eq!(heap.finish().leaked.objects, 0, "{name}: a parent edge outlived its node's move");
        }
    }

    #[test]
    fn impossible_parameters_are_refused() {
        let error = |name: &str, value: &str| refusal(&INFO, &[(name, value)]);
        assert!(error("records", "0").ends_with("out of range (at least 1)"));
        assert!(error("records", "4294967297").ends_with("out of range (max 4294967296)"));
        assert!(error("degree", "1").ends_with("out of range (at least 2)"));
        assert!(error("degree", "65537").ends_with("out of range (max 65536)"));
        assert!(error("rebuild", "1.5").ends_with("out of range (max 1)"));
        assert!(error("rebuild", "NaN").contains("expected a finite number (0..=1)"));
        assert!(error("rounds", "-1").ends_with("`rounds` = `-1`: out of range (at least 0)"));
    }
}
