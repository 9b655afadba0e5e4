"""Strategy ratios beside CPython's own, in one interleaved run.

What a strategy costs against `refcount` on one workload, next to what CPython's collector costs
its own interpreter on the same program. Each round runs, as separate processes, in an order
rotated from round to round,

- the harness once per strategy (`--repeat 1 --recording off`, release build), `refcount` and
  the strategies given;
- the workload's Python twin under the interpreter given, with its collector on and off
  (`run.py --no-gc`: automatic collection off and the program's `gc.collect()` calls skipped, as
  `refcount` does).

A drift in the machine's speed then moves every side of a round alike. Each process times the
workload's run alone (the harness's `wall_time_ms`, the twin's `wall_ns`): interpreter start-up,
the harness's leak walk and teardown, and CPython's collection at shutdown are outside it. Per
round it takes each strategy / `refcount`, CPython on / off, and each strategy's ratio divided by
CPython's; then prints, per ratio, the ratio of the two sides' minimums and the median of the
rounds' ratios. Every run's checksum must equal the others' (the twin computes the same program),
or the script stops. `--csv FILE` also writes one tidy row per process run, each round's rows as
the round ends. For balance, give a multiple of the number of processes per round as `--rounds`.

Run from the repository root (the harness is built first, by cargo; Python 3.9 or newer):
    python3 harness/benches/strategy_ratios.py [--workload trees] [--size default] [--rounds 10]
        [--strategies generational,nogc] [--wparam KEY=VALUE ...] [--python python3] [--csv FILE]
"""
import argparse
import csv
import json
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "target" / "release" / "harness"
TWIN = ROOT / "workloads" / "python" / "run.py"
BASELINE = "refcount"
SIZES = ("smoke", "small", "default", "large")
CPYTHON_ON, CPYTHON_OFF = "CPython gc on", "CPython gc off"


class Refused(Exception):
    """A process refused its input (exit 2): the script exits 2 too."""


class Failed(Exception):
    """A process failed, or the sides computed different programs: the script exits 1."""


def run(command):
    """Runs `command` to the end and returns its stdout; a refusal or failure raises. On any
    exception (Ctrl-C, SIGTERM) `subprocess.run` kills the child before passing it on."""
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        error = Refused if result.returncode == 2 else Failed
        raise error(f"{shlex.join(map(str, command))} failed ({result.returncode}):\n{result.stderr.strip()}")
    return result.stdout


def run_ours(args, strategy, folder):
    """One cell of `strategy` in a new run folder; returns (seconds of the workload's run, checksum)."""
    out = folder / f"{strategy}-{sum(1 for _ in folder.iterdir())}"
    command = [HARNESS, "--workload", args.workload, "--size", args.size, "--seed", str(args.seed),
               "--strategy", strategy, "--repeat", "1", "--recording", "off", "--no-report", "--out", out]
    for item in args.wparam:
        command += ["--wparam", item]
    run(command)
    with open(out / "runs.csv", newline="") as runs:
        (row,) = list(csv.DictReader(runs))
    return float(row["wall_time_ms"]) / 1e3, row["checksum"]


def run_twin(args, collector_on):
    """One run of the Python twin; returns (seconds of the workload's run, checksum)."""
    command = [args.python, TWIN, "--workload", args.workload, "--size", args.size, "--seed", str(args.seed)]
    for item in args.wparam:
        command += ["--param", item]
    if not collector_on:
        command.append("--no-gc")
    lines = run(command).strip().splitlines()
    if not lines:
        raise Failed(f"{shlex.join(map(str, command))} printed nothing")
    reply = json.loads(lines[-1])
    return reply["wall_ns"] / 1e9, reply["checksum"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="trees", help="a workload with a Python twin")
    parser.add_argument("--size", default="default", choices=SIZES)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--wparam", action="append", default=[], metavar="KEY=VALUE",
                        help="workload parameter, given to both sides (repeatable)")
    parser.add_argument("--strategies", default="generational,nogc",
                        help=f"comma-separated; each is divided by `{BASELINE}`")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--python", default="python3", help="the CPython to compare with")
    parser.add_argument("--csv", type=Path, help="also write every process's run time here (must not exist)")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 100:
        parser.error("--rounds must be between 1 and 100")
    args.strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    if not args.strategies or BASELINE in args.strategies:
        parser.error(f"--strategies must name at least one strategy other than `{BASELINE}`")
    if len(set(args.strategies)) != len(args.strategies):
        parser.error("--strategies names a strategy twice")
    for item in args.wparam:
        if "=" not in item:
            parser.error(f"--wparam expects KEY=VALUE, got {item!r}")
    for tool in (args.python, "cargo"):
        if shutil.which(tool) is None:
            parser.error(f"`{tool}` is not a command here")
    if args.csv is not None and not args.csv.resolve().parent.is_dir():
        parser.error(f"--csv {args.csv}: no folder {args.csv.resolve().parent}")
    return args


def open_csv(path):
    """The `--csv` file, created (never overwritten), or None."""
    if path is None:
        return None
    try:
        return open(path, "x", newline="")
    except FileExistsError:
        raise Refused(f"--csv {path}: the file exists already") from None


def harness_commit(folder):
    """The commit the harness was built from, as its run folders record it (`-dirty` with
    changes)."""
    meta = next(p for p in folder.iterdir() if p.is_dir()) / "meta.json"
    return json.loads(meta.read_text())["git_commit"]


def measure(args, out):
    """Runs the rounds; returns each process's times, in round order, and the checksum."""
    sides = [(s, lambda folder, s=s: run_ours(args, s, folder)) for s in [BASELINE, *args.strategies]]
    sides += [(CPYTHON_ON, lambda _: run_twin(args, True)), (CPYTHON_OFF, lambda _: run_twin(args, False))]
    python = run([args.python, "-c", "import sys; print(sys.version.split()[0])"]).strip()
    writer = csv.writer(out) if out else None
    header = ["commit", "workload", "size", "seed", "wparams", "python", "round", "position", "process", "seconds"]
    times = {name: [] for name, _ in sides}
    checksums = set()
    with tempfile.TemporaryDirectory() as scratch:
        for r in range(args.rounds):
            shift = r % len(sides)
            order = sides[shift:] + sides[:shift]
            for name, side in order:
                seconds, checksum = side(Path(scratch))
                times[name].append(seconds)
                checksums.add(checksum)
                if len(checksums) > 1:
                    raise Failed(f"checksums differ between runs: {sorted(checksums)}")
            print(f"round {r + 1}: " + ", ".join(f"{name} {times[name][-1] * 1e3:.1f} ms" for name, _ in order), flush=True)
            if writer:
                if r == 0:
                    writer.writerow(header)
                    provenance = [harness_commit(Path(scratch)), args.workload, args.size, args.seed,
                                  ";".join(args.wparam), python]
                for position, (name, _) in enumerate(order, 1):
                    writer.writerow([*provenance, r + 1, position, name, f"{times[name][-1]:.6f}"])
                out.flush()
    return times, checksums.pop()


def ratio_rows(args, times):
    """(label, per-round ratios, ratio of the minimums) for each ratio reported."""
    def per_round(a, b):
        return [x / y for x, y in zip(a, b)]

    cpython = per_round(times[CPYTHON_ON], times[CPYTHON_OFF])
    cpython_of_mins = min(times[CPYTHON_ON]) / min(times[CPYTHON_OFF])
    rows = []
    for s in args.strategies:
        ours = per_round(times[s], times[BASELINE])
        ours_of_mins = min(times[s]) / min(times[BASELINE])
        rows.append((f"{s} / {BASELINE}", ours, ours_of_mins))
        rows.append((f"{s} / {BASELINE} ÷ CPython's", per_round(ours, cpython), ours_of_mins / cpython_of_mins))
    rows.insert(0, ("CPython on / off", cpython, cpython_of_mins))
    return rows


def main():
    args = parse_args()
    # SIGTERM, like Ctrl-C, unwinds: the running child is killed, the scratch folder removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out = None
    try:
        out = open_csv(args.csv)
        print("building the harness (release) ...", flush=True)
        run(["cargo", "build", "--release", "-q", "--locked", "-p", "harness"])
        # Names the harness does not know are refused here, with its own list of the valid ones.
        run([HARNESS, "--workload", args.workload, "--strategy", ",".join(args.strategies), "--list"])
        times, checksum = measure(args, out)
    except Refused as refusal:
        print(refusal, file=sys.stderr)
        sys.exit(2)
    except Failed as failure:
        sys.exit(str(failure))
    except KeyboardInterrupt:
        print("interrupted: the running process was stopped", file=sys.stderr)
        sys.exit(130)
    finally:
        if out is not None:
            out.close()
            if Path(out.name).stat().st_size == 0:  # no round finished: leave nothing behind
                Path(out.name).unlink()

    print(f"\n{args.workload} ({args.size}), seconds of each workload run, {args.rounds} round(s), "
          f"checksum {checksum}:")
    rows = ratio_rows(args, times)
    width = max(len(label) for label, _, _ in rows)
    for label, per_round, of_mins in rows:
        print(f"  {label:<{width}}  {of_mins:.3f} of the minimums, {statistics.median(per_round):.3f} median of rounds")


if __name__ == "__main__":
    main()
