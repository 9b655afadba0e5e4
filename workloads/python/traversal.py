"""Twin of ``workloads/src/traversal.rs``: nested lists built once and collected again and again."""

from common import Checksum, SplitMix64, preset


def configure(size, params):
    config = {
        "levels": params.get("levels", 1000),
        "collections": params.get("collections", preset(size, 10, 100, 1000, 10_000)),
    }
    if config["levels"] < 1:
        raise SystemExit("workload `traversal`: parameter `levels`: the structure needs at least one list")
    if config["collections"] < 0:
        raise SystemExit("workload `traversal`: parameter `collections`: cannot be negative")
    return config


def create_recursive_containers(levels):
    """``bm_gc_traversal``'s builder: list 0 is empty, list n holds n references to list n-1."""
    current = []
    for n in range(1, levels):
        new_list = [None] * n
        for index in range(n):
            new_list[index] = current
        current = new_list
    return current


def list_at(top, levels, level):
    lst = top
    for _ in range(level, levels - 1):
        lst = lst[0]
    return lst


def probe(top, levels, rng, checksum):
    level = rng.index(levels)
    lst = list_at(top, levels, level)
    checksum.mix(level)
    checksum.mix(len(lst))
    if lst:
        checksum.mix(len(lst[rng.index(len(lst))]))


def walk(top, levels, checksum):
    lst = top
    for _ in range(levels):
        checksum.mix(len(lst))
        if not lst:
            break
        below = lst[0]
        checksum.mix(sum(1 for item in lst if item is below))
        lst = below


def run(config, seed, checkpoints):
    rng = SplitMix64(seed)
    checksum = Checksum()
    levels = config["levels"]
    top = create_recursive_containers(levels)
    checkpoints.startup_done()
    for _ in range(config["collections"]):
        checkpoints.collect()
        probe(top, levels, rng, checksum)
        checkpoints.request_done()
    walk(top, levels, checksum)
    return checksum
