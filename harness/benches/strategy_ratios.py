"""Strategy ratios beside CPython's own, in one interleaved run.

What a strategy costs against `refcount` on one workload, next to what CPython's collector costs
its own interpreter on the same program: each round runs, as whole processes in an order rotated
from round to round,

- the harness once per strategy (`--repeat 1 --recording off`, release build), `refcount` and
  the strategies given;
- the workload's Python twin under the interpreter given, with its collector on and off
  (`run.py --no-gc`).

A drift in the machine's speed then moves every side of a round alike. Every process's CPU time
(user + system, from `wait4`) is taken, and per round the ratios: each strategy / `refcount`,
CPython on / off, and each strategy's ratio divided by CPython's. Prints every round, then the
min and median of each ratio over the rounds. Every run's checksum must equal the others' (the
twin computes the same program), or the script stops. `--csv FILE` also writes one tidy row per
process run (round, position in the round, process, CPU seconds), each round's rows as it ends.

Run from the repository root (the harness is built first, by cargo):
    python3 harness/benches/strategy_ratios.py [--workload trees] [--size default] [--rounds 6]
        [--strategies generational,nogc] [--wparam KEY=VALUE ...] [--python python3] [--csv FILE]
"""
import argparse
import csv
import json
import os
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


def timed(command):
    """Runs `command` to the end; returns its stdout and its CPU seconds (user + system)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            print(f"{' '.join(map(str, command))} failed:\n{err.read().decode()}", file=sys.stderr)
            sys.exit(2 if code == 2 else 1)  # 2: the harness refused a parameter
        out.seek(0)
        return out.read().decode(), usage.ru_utime + usage.ru_stime


def run_ours(args, strategy, folder):
    """One cell of `strategy` in a new run folder; returns (CPU seconds, checksum)."""
    out = folder / f"{strategy}-{len(list(folder.iterdir()))}"
    command = [HARNESS, "--workload", args.workload, "--size", args.size, "--seed", str(args.seed),
               "--strategy", strategy, "--repeat", "1", "--recording", "off", "--no-report", "--out", out]
    for item in args.wparam:
        command += ["--wparam", item]
    _, seconds = timed(command)
    with open(out / "runs.csv", newline="") as runs:
        (row,) = list(csv.DictReader(runs))
    if row["status"] != "ok":
        sys.exit(f"{strategy}: the cell ended `{row['status']}`: {row['error']}")
    return seconds, row["checksum"]


def run_twin(args, collector_on):
    """One run of the Python twin; returns (CPU seconds, checksum)."""
    command = [args.python, TWIN, "--workload", args.workload, "--size", args.size, "--seed", str(args.seed)]
    for item in args.wparam:
        command += ["--param", item]
    if not collector_on:
        command.append("--no-gc")
    stdout, seconds = timed(command)
    return seconds, json.loads(stdout.strip().splitlines()[-1])["checksum"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="trees", help="a workload with a Python twin")
    parser.add_argument("--size", default="default", choices=SIZES)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--wparam", action="append", default=[], metavar="KEY=VALUE",
                        help="workload parameter, given to both sides (repeatable)")
    parser.add_argument("--strategies", default="generational,nogc",
                        help=f"comma-separated; each is divided by `{BASELINE}`")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--python", default="python3", help="the CPython to compare with")
    parser.add_argument("--csv", type=Path, help="also write every process's CPU time here (must not exist)")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 100:
        parser.error("--rounds must be between 1 and 100")
    args.strategies = [s for s in args.strategies.split(",") if s]
    if not args.strategies or BASELINE in args.strategies:
        parser.error(f"--strategies must name at least one strategy other than `{BASELINE}`")
    for item in args.wparam:
        if "=" not in item:
            parser.error(f"--wparam expects KEY=VALUE, got {item!r}")
    if args.csv is not None and (args.csv.exists() or not args.csv.resolve().parent.is_dir()):
        parser.error(f"--csv {args.csv}: the file must not exist yet, in a folder that does")
    return args


def csv_writer(args):
    """The `--csv` file, with its header written, or None."""
    if args.csv is None:
        return None, None
    out = open(args.csv, "w", newline="")
    writer = csv.writer(out)
    writer.writerow(["commit", "workload", "size", "seed", "wparams", "python", "round", "position", "process",
                     "cpu_seconds"])
    return out, writer


def commit():
    """The checkout's commit, `+dirty` when it has changes."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True, cwd=ROOT).stdout.strip()
    return (head or "unknown") + ("+dirty" if dirty else "")


def main():
    args = parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "--locked", "-p", "harness"], check=True, cwd=ROOT)
    # Names the harness does not know are refused here, with its own list of the valid ones.
    check = subprocess.run([HARNESS, "--workload", args.workload, "--strategy", ",".join(args.strategies),
                            "--list"], capture_output=True, text=True, cwd=ROOT)
    if check.returncode != 0:
        print(check.stderr.strip(), file=sys.stderr)
        sys.exit(2)

    sides = [("ours", s) for s in [BASELINE, *args.strategies]] + [("cpython", True), ("cpython", False)]
    names = {("cpython", True): "CPython gc on", ("cpython", False): "CPython gc off"}
    ratio_names = [f"{s} / {BASELINE}" for s in args.strategies] + ["CPython on / off"]
    ratio_names += [f"{s} / {BASELINE} ÷ CPython's" for s in args.strategies]
    ratios = {name: [] for name in ratio_names}
    checksums = set()
    out, writer = csv_writer(args)
    revision = commit()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for r in range(args.rounds):
            seconds = {}
            for k in range(len(sides)):
                side, what = sides[(r + k) % len(sides)]
                if side == "ours":
                    seconds[what], checksum = run_ours(args, what, folder)
                else:
                    seconds[names[side, what]], checksum = run_twin(args, what)
                checksums.add(checksum)
                if len(checksums) > 1:
                    sys.exit(f"checksums differ between runs: {sorted(checksums)}")
            cpython = seconds[names["cpython", True]] / seconds[names["cpython", False]]
            ratios["CPython on / off"].append(cpython)
            for s in args.strategies:
                ours = seconds[s] / seconds[BASELINE]
                ratios[f"{s} / {BASELINE}"].append(ours)
                ratios[f"{s} / {BASELINE} ÷ CPython's"].append(ours / cpython)
            line = ", ".join(f"{name} {s:.3f} s" for name, s in seconds.items())
            print(f"round {r + 1}: {line}", flush=True)
            if writer is not None:
                for position, (name, cpu) in enumerate(seconds.items(), 1):
                    writer.writerow([revision, args.workload, args.size, args.seed, ";".join(args.wparam), args.python,
                                     r + 1, position, name, f"{cpu:.6f}"])
                out.flush()
    if out is not None:
        out.close()
    print(f"\n{args.workload} ({args.size}), CPU seconds per process, {args.rounds} round(s), "
          f"checksum {checksums.pop()}; ratios per round:")
    for name, values in ratios.items():
        print(f"  {name:<34} min {min(values):.3f}  median {statistics.median(values):.3f}")


if __name__ == "__main__":
    main()
