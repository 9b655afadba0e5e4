"""Twin of ``workloads/src/btree.rs``: a B-tree index of records, a fraction replaced every round.

Functions and names follow the Rust module; its ``Shape`` (minimum degree, parent pointers) is
passed here as the two arguments ``degree`` and ``parents``, so that the twin keeps no object
alive that the Rust workload does not have.
"""

from bisect import bisect_left

from common import MASK, Checksum, SplitMix64, parse_bool, preset

KEY_SPACE = 1 << 40
MAX_RECORDS = 1 << 32
MAX_DEGREE = 1 << 16
HIT_CHANCE = 0.9
NOT_FOUND = MASK

QUANTITY_RANGE = 100
PRICE_RANGE = 1_000_000
STATUS_RANGE = 4
TAG_COUNT_RANGE = 4
TAG_RANGE = 100
NAME_PREFIX = "rec-"


class Node:
    __slots__ = ("keys", "records", "children", "parent", "__weakref__")

    def __init__(self, keys, records, children):
        self.keys = keys
        self.records = records
        self.children = children
        self.parent = None


class Record:
    __slots__ = ("id", "quantity", "price", "name", "status", "tags", "__weakref__")

    def __init__(self, key, quantity, price, name, status, tags):
        self.id = key
        self.quantity = quantity
        self.price = price
        self.name = name
        self.status = status
        self.tags = tags


def configure(size, params):
    config = {
        "records": params.get("records", preset(size, 2000, 20_000, 200_000, 2_000_000)),
        "degree": params.get("degree", 16),
        "rebuild": params.get("rebuild", 0.25, float),
        "rounds": params.get("rounds", preset(size, 2, 4, 4, 4)),
        "lookups": params.get("lookups", preset(size, 200, 2000, 20_000, 100_000)),
        "parents": params.get("parents", False, parse_bool),
    }
    if not 1 <= config["records"] <= MAX_RECORDS:
        raise SystemExit(f"workload `btree`: parameter `records`: between 1 and {MAX_RECORDS}")
    if not 2 <= config["degree"] <= MAX_DEGREE:
        raise SystemExit(f"workload `btree`: parameter `degree`: between 2 and {MAX_DEGREE}")
    if not 0.0 <= config["rebuild"] <= 1.0:
        raise SystemExit("workload `btree`: parameter `rebuild`: a fraction lies in 0..=1")
    if config["rounds"] < 0 or config["lookups"] < 0:
        raise SystemExit("workload `btree`: parameters `rounds` and `lookups` cannot be negative")
    return config


def run(config, seed, checkpoints):
    rng = SplitMix64(seed)
    checksum = Checksum()
    degree, parents, records = config["degree"], config["parents"], config["records"]
    ids = []
    root = Node([], [], None)
    for _ in range(records):
        root = add_record(root, ids, rng, degree, parents)
    walk_tree(root, checksum, degree, parents)
    checkpoints.startup_done()
    batch = int(config["rebuild"] * records)
    for _ in range(config["rounds"]):
        for _ in range(batch):
            root = delete_random_record(root, ids, rng, checksum, degree, parents)
        for _ in range(batch):
            root = add_record(root, ids, rng, degree, parents)
        look_up(root, ids, config["lookups"], rng, checksum)
        checkpoints.request_done()
    walk_tree(root, checksum, degree, parents)
    return checksum


def add_record(root, ids, rng, degree, parents):
    key = rng.below(KEY_SPACE)
    record = new_record(key, rng)
    while True:
        root = make_room(root, degree, parents)
        if insert(root, key, record, degree, parents):
            break
        key = rng.below(KEY_SPACE)
        record.id = key
    ids.append(key)
    return root


def make_room(root, degree, parents):
    if len(root.keys) < 2 * degree - 1:
        return root
    new_root = Node([], [], [root])
    if parents:
        root.parent = new_root
    split_child(new_root, 0, root, degree, parents)
    return new_root


def split_child(parent, index, child, degree, parents):
    keys = child.keys[degree:]
    del child.keys[degree:]
    records = child.records[degree:]
    del child.records[degree:]
    if child.children is None:
        children = None
    else:
        children = child.children[degree:]
        del child.children[degree:]
    sibling = Node(keys, records, children)
    parent.keys.insert(index, child.keys.pop())
    parent.records.insert(index, child.records.pop())
    parent.children.insert(index + 1, sibling)
    if parents:
        sibling.parent = parent
        if children is not None:
            for grandchild in children:
                grandchild.parent = sibling


def insert(root, key, record, degree, parents):
    node = root
    while True:
        keys = node.keys
        index = bisect_left(keys, key)
        if index < len(keys) and keys[index] == key:
            return False
        children = node.children
        if children is None:
            keys.insert(index, key)
            node.records.insert(index, record)
            return True
        child = children[index]
        if len(child.keys) == 2 * degree - 1:
            split_child(node, index, child, degree, parents)
            median = keys[index]
            if key == median:
                return False
            if key > median:
                index += 1
            child = children[index]
        node = child


def delete_random_record(root, ids, rng, checksum, degree, parents):
    index = rng.index(len(ids))
    key = swap_remove(ids, index)
    record = delete(root, key, degree, parents)
    assert record.id == key, "deleted the wrong record"
    checksum.mix(record_digest(record))
    del record
    return collapse_root(root, parents)


def delete(top, key, degree, parents):
    node = top
    while True:
        keys = node.keys
        index = bisect_left(keys, key)
        found = index < len(keys) and keys[index] == key
        children = node.children
        if children is None:
            assert found, "a deleted key must be in the tree"
            del keys[index]
            return node.records.pop(index)
        if found:
            left = children[index]
            if len(left.keys) >= degree:
                predecessor = delete(left, last_key(left), degree, parents)
                return replace_entry(node, index, predecessor)
            right = children[index + 1]
            if len(right.keys) >= degree:
                successor = delete(right, first_key(right), degree, parents)
                return replace_entry(node, index, successor)
            merge(node, index, parents)
            node = left
            continue
        child = children[index]
        node = fill(node, index, degree, parents) if len(child.keys) < degree else child


def fill(node, index, degree, parents):
    children = node.children
    has_right = index + 1 < len(children)
    if index > 0 and len(children[index - 1].keys) >= degree:
        borrow_from_left(node, index, parents)
    elif has_right and len(children[index + 1].keys) >= degree:
        borrow_from_right(node, index, parents)
    elif has_right:
        merge(node, index, parents)
    else:
        merge(node, index - 1, parents)
        return children[index - 1]
    return children[index]


def borrow_from_left(node, index, parents):
    left, child = node.children[index - 1], node.children[index]
    child.keys.insert(0, node.keys[index - 1])
    node.keys[index - 1] = left.keys.pop()
    child.records.insert(0, node.records[index - 1])
    node.records[index - 1] = left.records.pop()
    if child.children is not None:
        moved = left.children.pop()
        child.children.insert(0, moved)
        if parents:
            moved.parent = child


def borrow_from_right(node, index, parents):
    child, right = node.children[index], node.children[index + 1]
    child.keys.append(node.keys[index])
    node.keys[index] = right.keys.pop(0)
    child.records.append(node.records[index])
    node.records[index] = right.records.pop(0)
    if child.children is not None:
        moved = right.children.pop(0)
        child.children.append(moved)
        if parents:
            moved.parent = child


def merge(node, index, parents):
    left = node.children[index]
    right = node.children.pop(index + 1)
    left.keys.append(node.keys.pop(index))
    left.keys.extend(right.keys)
    left.records.append(node.records.pop(index))
    left.records.extend(right.records)
    if right.children is not None:
        left.children.extend(right.children)
        if parents:
            for grandchild in right.children:
                grandchild.parent = left


def collapse_root(root, parents):
    if root.children is None or root.keys:
        return root
    new_root = root.children[0]
    if parents:
        new_root.parent = None
    return new_root


def walk_tree(root, checksum, degree, parents):
    height = 0
    node = root
    while node.children is not None:
        node = node.children[0]
        height += 1
    checksum.mix(walk(root, 0, height, -1, KEY_SPACE, checksum, degree, parents))


def walk(node, depth, height, low, high, checksum, degree, parents):
    keys, records, children = node.keys, node.records, node.children
    size = len(keys)
    assert len(records) == size, "a node's keys and records differ in length"
    assert size <= 2 * degree - 1, "a node holds more than 2t-1 keys"
    assert depth == 0 or size >= degree - 1, "a node other than the root holds fewer than t-1 keys"
    if children is not None:
        assert len(children) == size + 1, "an internal node has keys+1 children"
    else:
        assert depth == height, "a leaf is not at the depth of the others"
    count = 0
    for i in range(size + 1):
        upper = keys[i] if i < size else high
        assert low < upper, "keys out of order"
        if children is not None:
            child = children[i]
            if parents:
                assert child.parent is node, "a child's parent edge is wrong"
            count += walk(child, depth + 1, height, low, upper, checksum, degree, parents)
        if i < size:
            record = records[i]
            assert record.id == upper, "a record is filed under another key"
            checksum.mix(record_digest(record))
            count += 1
        low = upper
    return count


def new_record(key, rng):
    quantity = rng.below(QUANTITY_RANGE)
    price = rng.below(PRICE_RANGE)
    name_bits = rng.next_u64()
    shift = rng.below(64)
    name = f"{NAME_PREFIX}{name_bits >> shift:x}"
    status = rng.below(STATUS_RANGE)
    tags = []
    for _ in range(rng.below(TAG_COUNT_RANGE)):
        tags.append(rng.below(TAG_RANGE))
    return Record(key, quantity, price, name, status, tags)


def record_digest(record):
    tags = record.tags
    name_bits = int(record.name[len(NAME_PREFIX) :], 16)
    digest = record.id
    for word in (record.quantity, record.price, name_bits, record.status, len(tags), sum(tags)):
        digest = digest * 31 + word
    return digest & MASK


def look_up(root, ids, lookups, rng, checksum):
    for _ in range(lookups):
        if rng.chance(HIT_CHANCE):
            key = ids[rng.index(len(ids))]
        else:
            key = rng.below(KEY_SPACE)
        record = find(root, key)
        checksum.mix(NOT_FOUND if record is None else record_digest(record))


def find(root, key):
    node = root
    while True:
        keys = node.keys
        index = bisect_left(keys, key)
        if index < len(keys) and keys[index] == key:
            return node.records[index]
        if node.children is None:
            return None
        node = node.children[index]


def last_key(node):
    while node.children is not None:
        node = node.children[-1]
    return node.keys[-1]


def first_key(node):
    while node.children is not None:
        node = node.children[0]
    return node.keys[0]


def replace_entry(node, index, replacement):
    removed = node.records[index]
    node.keys[index] = replacement.id
    node.records[index] = replacement
    return removed


def swap_remove(items, index):
    last = items.pop()
    if index == len(items):
        return last
    removed = items[index]
    items[index] = last
    return removed
