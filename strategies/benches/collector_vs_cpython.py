"""Our full collections against CPython's, in one interleaved run.

Each round runs the criterion bench `collector.rs` (its three generational shapes) and
`cpython_collector.py` under the interpreter given, one after the other, so a drift in the
machine's speed moves both sides of a round alike; the side that goes first alternates, so
neither always runs on a machine the other has just warmed. Prints each round's ns per object and
ratio, then min and median over the rounds, per shape.

Run from the repository root (the bench is built first, by cargo):
    python3 strategies/benches/collector_vs_cpython.py [--rounds 5] [--python python3]
"""
import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The generational shapes of `collector.rs`, with the objects each figure is divided by.
SHAPES = {
    "traversal_1000001_live_containers": ("traversal", 1_000_001),
    "collect_100_rings_of_21": ("collect_100_rings_of_21", 2_100),
    "collect_10000_rings_of_21": ("collect_10000_rings_of_21", 210_000),
}
UNITS = {"ns": 1.0, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}
CRITERION_LINE = re.compile(
    r"full_collection/(\S+)\s+time:\s+\[[\d.]+ \S+ ([\d.]+) (\S+) [\d.]+ \S+\]"
)
CPYTHON_LINE = re.compile(r"^(\S+?): .*?([\d.]+) ns per (?:container|collected object)$", re.M)


def ours(measurement_time):
    """Median ns per object of each shape, from one criterion run."""
    pattern = "full_collection/(" + "|".join(SHAPES) + ")$"
    run = subprocess.run(
        ["cargo", "bench", "-q", "-p", "strategies", "--bench", "collector", "--",
         "--warm-up-time", "1", "--measurement-time", str(measurement_time), "--noplot", pattern],
        check=True, capture_output=True, text=True,
    )
    figures = {}
    for name, value, unit in CRITERION_LINE.findall(run.stdout):
        if name in SHAPES:
            figures[name] = float(value) * UNITS[unit] / SHAPES[name][1]
    missing = set(SHAPES) - set(figures)
    if missing:
        sys.exit(f"the criterion output has no figure for {sorted(missing)}:\n{run.stdout}")
    return figures


def cpython(python):
    """ns per object of each shape, from one run of `cpython_collector.py`."""
    run = subprocess.run(
        [python, str(HERE / "cpython_collector.py")], check=True, capture_output=True, text=True
    )
    by_label = {label: float(ns) for label, ns in CPYTHON_LINE.findall(run.stdout)}
    figures = {}
    for name, (label, _) in SHAPES.items():
        if label not in by_label:
            sys.exit(f"{python} printed no figure for {label}:\n{run.stdout}")
        figures[name] = by_label[label]
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the two sides")
    parser.add_argument("--python", default="python3", help="the CPython to compare with")
    parser.add_argument("--measurement-time", type=float, default=2, help="criterion seconds per shape")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 100:
        parser.error("--rounds must be between 1 and 100")
    if not 0 < args.measurement_time <= 60:
        parser.error("--measurement-time must be above 0 and at most 60 seconds")

    rounds = []
    for i in range(args.rounds):
        if i % 2 == 0:
            ours_ns, cpython_ns = ours(args.measurement_time), cpython(args.python)
        else:
            cpython_ns, ours_ns = cpython(args.python), ours(args.measurement_time)
        rounds.append((ours_ns, cpython_ns))
        for name in SHAPES:
            print(f"round {i + 1} {name}: ours {ours_ns[name]:.1f} ns, CPython {cpython_ns[name]:.1f} ns,"
                  f" ratio {ours_ns[name] / cpython_ns[name]:.3f}", flush=True)
    print(f"\nover {args.rounds} rounds (min / median):")
    for name in SHAPES:
        o = [r[0][name] for r in rounds]
        c = [r[1][name] for r in rounds]
        ratio = [a / b for a, b in zip(o, c)]
        print(f"{name}: ours {min(o):.1f} / {statistics.median(o):.1f} ns,"
              f" CPython {min(c):.1f} / {statistics.median(c):.1f} ns,"
              f" ratio of each round {min(ratio):.3f} / {statistics.median(ratio):.3f}")


if __name__ == "__main__":
    main()
