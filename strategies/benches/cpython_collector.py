"""CPython's side of `benches/collector.rs`: the same heap shapes, timed with `gc.collect()`.

Run beside the criterion bench, in the same session, so the ratio is measured on one machine:
    python3 strategies/benches/cpython_collector.py
Prints the median of several timed full collections, per tracked container (traversal) and per
collected object (collect).

Same heap on both sides:
- The interpreter's own objects (about 11.8k tracked containers in a bare CPython 3.11: modules,
  functions, type dicts) are moved to the permanent generation with `gc.freeze()` before anything
  is built, so a full collection walks only the measured shape, as on a new `Heap`. Without it,
  collecting 100 rings cost 1070 ns per object instead of 130.
- The shapes are the objects the Rust bench builds: its two-slot instances carry a weakref-list
  slot (every instance kind is weak-referenceable there), so `Node` declares `__weakref__`; its
  inner lists are grown by two appends (capacity 4), so they are here too, not made by a display
  (capacity 2).
"""
import gc
import statistics
import time

REPEATS = 7


def timed_collect():
    start = time.perf_counter_ns()
    collected = gc.collect()
    return time.perf_counter_ns() - start, collected


def live_lists(n):
    """`[[i & 255, None] for i in range(n)]`, each inner list grown by appends as in the bench."""
    outer = []
    for i in range(n):
        inner = []
        inner.append(i & 255)
        inner.append(None)
        outer.append(inner)
    return outer


def traversal(n=1_000_000):
    live = live_lists(n)
    gc.collect()
    tracked = len(gc.get_objects())  # the permanent generation is not listed
    times = [timed_collect()[0] for _ in range(REPEATS)]
    del live
    return tracked, statistics.median(times)


class Node:
    __slots__ = ("next", "prev", "__weakref__")

    def __init__(self):
        self.next = None
        self.prev = None


def drop_rings(cycles, links=20):
    for _ in range(cycles):
        head = node = Node()
        for _ in range(links):
            nxt = Node()
            node.next, nxt.prev = nxt, node
            node = nxt
        node.next, head.prev = head, node


def collect(cycles):
    gc.collect()
    times = []
    for _ in range(REPEATS):
        drop_rings(cycles)
        elapsed, collected = timed_collect()
        assert collected == cycles * 21, collected
        times.append(elapsed)
    return cycles * 21, statistics.median(times)


def main():
    gc.disable()
    gc.collect()
    gc.freeze()
    print(f"frozen: {gc.get_freeze_count()} interpreter objects left out of every collection")
    tracked, ns = traversal()
    print(f"traversal: {tracked} tracked containers, full collection {ns / 1e6:.2f} ms, {ns / tracked:.1f} ns per container")
    for cycles in (100, 10_000):
        objects, ns = collect(cycles)
        print(f"collect_{cycles}_rings_of_21: {objects} collected, {ns / 1e6:.3f} ms, {ns / objects:.1f} ns per collected object")


if __name__ == "__main__":
    main()
