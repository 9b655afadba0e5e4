#!/usr/bin/env python3
"""Runs one workload twin under this interpreter and prints a JSON line with its checksum.

    python3 run.py --workload cycles --size smoke --seed 7 [--param name=value ...]
                   [--gc-log FILE [--count-examined]] [--no-gc]

The JSON line also gives ``wall_ns``, the time of the workload's run alone (no interpreter
start-up, no shutdown). A refused argument or parameter exits with status 2.
With ``--gc-log`` it also writes what CPython's collector did (``harness validate`` reads it):
``gc.get_stats()`` per generation (before and after the run), every collection seen through ``gc.callbacks`` (generation,
collected, uncollectable, duration), the latency of every request and the peak RSS (VmHWM).
``--count-examined`` makes each collection also count the objects it examines (the tracked
objects of the generations it collects, read with ``gc.get_objects``); that costs time inside
the callback, so pause figures come from a run without it.
``--no-gc`` runs the twin as CPython's refcounting baseline, the `refcount` strategy's twin:
automatic collection off (``gc.disable()``), and the program's own ``gc.collect()`` calls
skipped, as ``Heap::program_collect`` does nothing under `refcount`. (CPython still collects
once at shutdown, after the run.)
"""

import argparse
from array import array
import gc
import importlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import SIZES, Checkpoints, Params  # noqa: E402

MIN_VERSION = (3, 8)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", required=True)
    parser.add_argument("--size", default="default", choices=SIZES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--gc-log", metavar="FILE")
    parser.add_argument("--count-examined", action="store_true")
    parser.add_argument("--no-gc", action="store_true", help="no collections, automatic or asked for")
    return parser.parse_args()


def vm_hwm_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


class GcLog:
    """Collects what ``gc.callbacks`` reports, and request latencies.

    It must not change what it measures: every GC-tracked allocation that survives moves the
    gen-0 count, and one surviving dict per collection is enough to lock the collections in
    step with a workload's batches (it did, on ``cycles``). So the log keeps its figures in
    ``array`` objects, which the collector does not track, and allocates nothing that lives.
    """

    def __init__(self, count_examined):
        self.count_examined = count_examined
        self.generation = array("b")
        self.collected = array("q")
        self.uncollectable = array("q")
        self.duration_ns = array("q")
        self.examined = array("q")
        self.requests_ns = array("q")
        self._start = 0
        self._request_start = time.perf_counter_ns()

    def on_gc(self, phase, info):
        if phase == "start":
            if self.count_examined:
                self.examined.append(sum(len(gc.get_objects(g)) for g in range(info["generation"] + 1)))
            self._start = time.perf_counter_ns()
        else:
            self.duration_ns.append(time.perf_counter_ns() - self._start)
            self.generation.append(info["generation"])
            self.collected.append(info["collected"])
            self.uncollectable.append(info["uncollectable"])

    def startup_done(self):
        self._request_start = time.perf_counter_ns()

    def request_done(self):
        now = time.perf_counter_ns()
        self.requests_ns.append(now - self._request_start)
        self._request_start = now

    def collections(self):
        """One dict per collection, built after the run."""
        return [
            {
                "generation": self.generation[i],
                "collected": self.collected[i],
                "uncollectable": self.uncollectable[i],
                "duration_ns": self.duration_ns[i],
                "examined": self.examined[i] if self.count_examined else None,
            }
            for i in range(len(self.generation))
        ]


def start_like_a_fresh_heap():
    """Puts CPython's collector in the state our heap starts in: the interpreter's own objects
    moved out of the generations (``gc.freeze()``), every count at zero and no long-lived
    objects (the full collection of an empty heap sets ``long_lived_total`` to 0). Without it the
    interpreter's startup objects would shift when collections happen (the gen-0 count starts
    part-way to its threshold) and raise the bar of the 25% rule for full collections."""
    gc.freeze()
    gc.collect()


def main():
    if sys.version_info < MIN_VERSION:
        raise SystemExit(f"the twins need Python {'.'.join(map(str, MIN_VERSION))} or newer")
    args = parse_args()
    try:
        twin = importlib.import_module(args.workload.replace("-", "_"))
    except ModuleNotFoundError:
        raise SystemExit(f"no Python twin for workload `{args.workload}`")
    pairs = []
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--param expects NAME=VALUE, got {item!r}")
        pairs.append((name, value))
    params = Params(args.workload, pairs)
    config = twin.configure(args.size, params)
    params.check_all_read()

    checkpoints = Checkpoints(collect_on_request=not args.no_gc)
    log = on_gc = None
    if args.gc_log:
        log = GcLog(args.count_examined)
        checkpoints.on_startup_done = log.startup_done
        checkpoints.on_request_done = log.request_done
        on_gc = log.on_gc  # the bound method is made (and frozen) before the run's heap starts
    start_like_a_fresh_heap()
    if args.no_gc:
        gc.disable()
    if on_gc is not None:
        gc.callbacks.append(on_gc)  # after the fresh-heap collection, which is not the run's
    stats_before = gc.get_stats()
    started = time.perf_counter_ns()
    checksum = twin.run(config, args.seed, checkpoints)
    wall_ns = time.perf_counter_ns() - started
    if log is not None:
        gc.callbacks.remove(on_gc)
        with open(args.gc_log, "w") as out:
            json.dump(
                {
                    "python": sys.version.split()[0],
                    "thresholds": gc.get_threshold(),
                    "stats_before": stats_before,
                    "stats": gc.get_stats(),
                    "collections": log.collections(),
                    "request_latencies_ns": list(log.requests_ns),
                    "explicit_collects": checkpoints.collect_requested,
                    "wall_ns": wall_ns,
                    "peak_rss_bytes": vm_hwm_bytes(),
                },
                out,
            )
    print(json.dumps({"workload": args.workload, "checksum": checksum.hex(), "params": config, "wall_ns": wall_ns}))


if __name__ == "__main__":
    try:
        main()
    except SystemExit as refusal:
        if isinstance(refusal.code, str):  # a refused argument or parameter: exit 2, as the harness
            print(refusal.code, file=sys.stderr)
            sys.exit(2)
        raise
