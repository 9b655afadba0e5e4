"""Twin of ``workloads/src/cycles.rs``: batches of small doubly-linked rings dropped as a unit."""

from common import Checksum, SplitMix64, parse_bool, preset

VALUE_RANGE = 1000


class Node:
    __slots__ = ("next", "prev", "value", "__weakref__")

    def __init__(self, value):
        self.next = None
        self.prev = None
        self.value = value


def configure(size, params):
    config = {
        "batches": params.get("batches", preset(size, 20, 500, 5000, 50_000)),
        "rings": params.get("rings", 100),
        "ring-size": params.get("ring-size", 21),
        "survive": params.get("survive", 0.02, float),
        "pool": params.get("pool", 1000),
        "explicit-collect": params.get("explicit-collect", False, parse_bool),
    }
    if config["ring-size"] < 2:
        raise SystemExit("workload `cycles`: parameter `ring-size`: a ring needs at least 2 nodes")
    return config


def make_ring(rng, ring_size):
    head = Node(rng.below(VALUE_RANGE))
    total = head.value
    current = head
    for _ in range(1, ring_size):
        node = Node(rng.below(VALUE_RANGE))
        total += node.value
        current.next = node
        node.prev = current
        current = node
    current.next = head
    head.prev = current
    return head, total


def ring_sum(head, ring_size):
    total = 0
    node = head
    for _ in range(ring_size):
        total += node.value
        following = node.next
        assert following.prev is node, "a ring's back edge does not lead back"
        node = following
    assert node is head, "a ring did not close after ring-size nodes"
    return total


def run(config, seed, checkpoints):
    rng = SplitMix64(seed)
    checksum = Checksum()
    ring_size, survive, capacity = config["ring-size"], config["survive"], config["pool"]
    pool = []
    checkpoints.startup_done()
    for _ in range(config["batches"]):
        batch = []
        batch_sum = 0
        for _ in range(config["rings"]):
            head, total = make_ring(rng, ring_size)
            batch_sum += total
            batch.append(head)
            if rng.chance(survive):
                if len(pool) < capacity:
                    pool.append(head)
                else:
                    pool[rng.index(len(pool))] = head
        checksum.mix(batch_sum)
        batch = head = None
        if config["explicit-collect"]:
            checkpoints.collect()
        checkpoints.request_done()
    for head in pool:
        checksum.mix(ring_sum(head, ring_size))
    return checksum
