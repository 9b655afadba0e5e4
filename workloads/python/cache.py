"""Twin of ``workloads/src/cache.rs``: an LRU object cache (strong) or a weak-value cache.

Besides the objects the Rust workload makes, the twin holds three that Rust keeps outside its
heap, for the whole run: the cache object, the key table and its list of cumulative weights.
"""

import weakref
from bisect import bisect_right

from common import Checksum, SplitMix64, parse_bool, preset

MAX_KEYS = 1 << 24
DATA_RANGE = 1_000_000
DEAD = (1 << 64) - 1

# The weak-value cache's dict while its weakref callbacks may run (``heap.globals()`` in Rust).
_entries = None


class Value:
    __slots__ = ("key", "data", "name", "stamp", "__weakref__")

    def __init__(self, key, data, name, stamp):
        self.key = key
        self.data = data
        self.name = name
        self.stamp = stamp


class Entry:
    """An LRU entry, or the ring's sentinel: ``functools.lru_cache``'s link."""

    __slots__ = ("prev", "next", "key", "value", "__weakref__")

    def __init__(self, key, value):
        self.prev = None
        self.next = None
        self.key = key
        self.value = value


class Session:
    __slots__ = ("number", "held", "__weakref__")

    def __init__(self, number, held):
        self.number = number
        self.held = held


def configure(size, params):
    variant = params.get("variant", "strong", str)
    config = {
        "variant": variant,
        "operations": params.get("operations", preset(size, 5_000, 100_000, 1_000_000, 20_000_000)),
        "keys": params.get("keys", preset(size, 1_000, 10_000, 100_000, 1_000_000)),
        "skew": params.get("skew", 0.9, float),
        "batch": params.get("batch", 100),
        "fields": params.get("fields", 4),
    }
    if variant == "strong":
        refuse_params(params, ("sessions", "callbacks"), "weak-value")
        config["capacity"] = params.get("capacity", preset(size, 100, 1_000, 10_000, 100_000))
    elif variant == "weak-value":
        refuse_params(params, ("capacity",), "strong")
        config["sessions"] = params.get("sessions", preset(size, 10, 100, 100, 1_000))
        config["callbacks"] = params.get("callbacks", True, parse_bool)
    else:
        refuse("variant", variant, "expected strong or weak-value")
    if not 1 <= config["keys"] <= MAX_KEYS:
        refuse("keys", config["keys"], f"the key space holds 1 to {MAX_KEYS} keys")
    if not (config["skew"] >= 0 and config["skew"] != float("inf")):
        refuse("skew", config["skew"], "a Zipf exponent is a finite number >= 0")
    for name in ("operations", "fields"):
        if config[name] < 0:
            refuse(name, config[name], "a count is at least 0")
    if config["batch"] < 1:
        refuse("batch", config["batch"], "a request makes at least 1 lookup")
    if config.get("capacity", 1) < 1:
        refuse("capacity", config["capacity"], "the cache holds at least 1 entry")
    if config.get("sessions", 1) < 1:
        refuse("sessions", config["sessions"], "values need at least 1 session to own them")
    return config


def refuse(name, value, reason):
    raise SystemExit(f"workload `cache`: parameter `{name}` = `{value}`: {reason}")


def refuse_params(params, names, variant):
    for name in names:
        if name in params.values:
            refuse(name, params.values[name], f"only the {variant} variant has it")


class KeyDraw:
    """Zipf-like key popularity: cumulative weights ``(k + 1) ** -skew``, searched with
    ``unit() * total``."""

    __slots__ = ("cumulative",)

    def __init__(self, keys, skew):
        self.cumulative = []
        total = 0.0
        for rank in range(1, keys + 1):
            total += rank**-skew
            self.cumulative.append(total)

    def draw(self, rng):
        cumulative = self.cumulative
        key = bisect_right(cumulative, rng.unit() * cumulative[-1])
        return min(key, len(cumulative) - 1)


def run(config, seed, checkpoints):
    rng = SplitMix64(seed)
    checksum = Checksum()
    keys = KeyDraw(config["keys"], config["skew"])
    if config["variant"] == "strong":
        cache = Lru(config["capacity"])
    else:
        cache = WeakValueCache(config["sessions"], config["callbacks"])
    serve(config, cache, keys, rng, checksum, checkpoints)
    return checksum


def serve(config, cache, keys, rng, checksum, checkpoints):
    """Runs every request against ``cache``, then mixes the hit and miss counts and what the
    cache still holds."""
    checkpoints.startup_done()
    operations, batch = config["operations"], config["batch"]
    misses = 0
    first = 0
    number = 0
    while first < operations:
        end = min(first + batch, operations)
        cache.begin_request(number)
        digest, request_misses = serve_request(cache, keys, rng, first, end, config["fields"])
        checksum.mix(digest)
        misses += request_misses
        checkpoints.request_done()
        first = end
        number += 1
    checksum.mix(operations - misses)
    checksum.mix(misses)
    cache.finish(checksum)


def serve_request(cache, keys, rng, first, end, fields):
    """Operations ``first..end``: look each key up, build and cache the value on a miss, use it."""
    digest = 0
    misses = 0
    for stamp in range(first, end):
        key = keys.draw(rng)
        value = cache.get(key)
        if value is None:
            misses += 1
            value = build_value(rng, key, stamp, fields)
            cache.put(key, value)
        cache.hold(value)
        digest += value_digest(value)
    return digest, misses


class Lru:
    """The ``strong`` variant: ``functools.lru_cache``'s dict plus doubly-linked ring of entries."""

    __slots__ = ("entries", "root", "capacity")

    def __init__(self, capacity):
        self.entries = {}
        self.root = Entry(None, None)
        self.root.prev = self.root
        self.root.next = self.root
        self.capacity = capacity

    @staticmethod
    def link(before, after):
        before.next = after
        after.prev = before

    def unlink(self, entry):
        self.link(entry.prev, entry.next)

    def append_newest(self, entry):
        self.link(self.root.prev, entry)
        self.link(entry, self.root)

    def evict_oldest(self):
        oldest = self.root.next
        self.unlink(oldest)
        del self.entries[oldest.key]

    def begin_request(self, number):
        pass

    def get(self, key):
        entry = self.entries.get(key)
        if entry is None:
            return None
        self.unlink(entry)
        self.append_newest(entry)
        return entry.value

    def put(self, key, value):
        entry = Entry(value.key, value)
        self.entries[key] = entry
        self.append_newest(entry)
        if len(self.entries) > self.capacity:
            self.evict_oldest()

    def hold(self, value):
        pass

    def finish(self, checksum):
        """Walks the ring oldest first, checking its edges and mixing each entry, and unlinks
        every entry on the way (``cache_clear()``)."""
        root = self.root
        entry = root.next
        count = 0
        while entry is not root:
            following = entry.next
            assert following.prev is entry, "an LRU back edge does not lead back"
            key = entry.key
            assert self.entries.get(key) is entry, "a linked entry left the dict"
            checksum.mix(key)
            checksum.mix(checked_digest(entry.value, key))
            entry.prev = None
            entry.next = None
            entry = following
            count += 1
        assert count == len(self.entries), "the ring and the dict disagree"
        checksum.mix(count)
        root.prev = None
        root.next = None


class WeakValueCache:
    """The ``weak-value`` variant: a dict of weakrefs; values owned by a ring of sessions."""

    __slots__ = ("entries", "ring", "held", "sessions", "requests", "callbacks")

    def __init__(self, sessions, callbacks):
        global _entries
        self.entries = {}
        if callbacks:
            _entries = self.entries
        self.ring = []
        self.held = None
        self.sessions = sessions
        self.requests = 0
        self.callbacks = callbacks

    def begin_request(self, number):
        """Opens a session; once the ring is full it replaces the oldest one."""
        held = []
        session = Session(number, held)
        if number < self.sessions:
            self.ring.append(session)
        else:
            self.ring[number % self.sessions] = session
        self.held = held
        self.requests += 1

    def get(self, key):
        ref = self.entries.get(key)
        if ref is None:
            return None
        return ref()

    def put(self, key, value):
        if self.callbacks:
            self.entries[key] = weakref.KeyedRef(value, remove_dead_entry, value.key)
        else:
            self.entries[key] = weakref.ref(value)

    def hold(self, value):
        self.held.append(value)

    def mix_entries(self, checksum):
        """Mixes every entry in key order: a live one's digest, or a marker for a dead one."""
        for key in sorted(self.entries):
            value = self.entries[key]()
            checksum.mix(key)
            checksum.mix(DEAD if value is None else checked_digest(value, key))

    def close_sessions(self, checksum):
        """Closes the sessions one by one, oldest first, and mixes how many entries are left
        after each."""
        ring = self.ring
        open_sessions = len(ring)
        for i in range(open_sessions):
            ring[(self.requests + i) % open_sessions] = None
            checksum.mix(len(self.entries))

    def finish(self, checksum):
        """Mixes every entry, then closes the sessions; with callbacks no entry is left."""
        global _entries
        self.mix_entries(checksum)
        self.held = None
        self.close_sessions(checksum)
        if self.callbacks:
            assert len(self.entries) == 0, "a weakref callback did not run"
            _entries = None


def remove_dead_entry(ref):
    """The weakref callback: deletes the dead value's entry, unless the key already maps to
    another weakref (as ``WeakValueDictionary``'s ``_remove_dead_weakref`` checks)."""
    if _entries.get(ref.key) is ref:
        del _entries[ref.key]


def build_value(rng, key, stamp, fields):
    data = []
    base = rng.below(DATA_RANGE)
    for i in range(fields):
        data.append(base + i)
    return Value(key, data, f"item-{key}", stamp)


def value_digest(value):
    return value.stamp + sum(value.data) + len(value.name)


def checked_digest(value, key):
    assert value.key == key, "a value is cached under another key"
    assert value.name == f"item-{key}", "a value's name was corrupted"
    return value_digest(value)
