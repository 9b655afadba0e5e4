#!/usr/bin/env bash
# The Jupyter notebooks, executed headless (nbclient) on fresh results: a smoke run and a smoke
# threshold sweep. Installs notebooks/requirements.txt into notebooks/.venv (git-ignored) first.
# Each notebook runs on each folder: the sweep notebook must also say "no sweep" cleanly.
# Usage: bash .ci/notebooks.sh    (HARNESS=path/to/harness skips the release build;
#                                  NOTEBOOKS_OUT=dir keeps the executed notebooks there)
set -euo pipefail
cd "$(dirname "$0")/.."

venv=notebooks/.venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r notebooks/requirements.txt

if [ -z "${HARNESS:-}" ]; then
    cargo build --release --locked -p harness
    HARNESS=target/release/harness
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${NOTEBOOKS_OUT:-$work/executed}
mkdir -p "$out"

"$HARNESS" --workload trees --size smoke --parents --repeat 2 --out "$work/run" >"$work/run.log" 2>&1
cat >"$work/sweep.toml" <<'EOF'
name = "notebooks-sweep"
description = "gen-0 × gen-1 thresholds against refcount, for the notebook check"
seed = 7
size = "smoke"
repeat = 2
workloads = ["cycles"]
strategies = ["generational", "refcount"]

[[sweep]]
param = "generational.threshold0"
values = [100, 700, 10000]

[[sweep]]
param = "generational.threshold1"
values = [5, 20]
EOF
"$HARNESS" experiment "$work/sweep.toml" --out "$work/sweep" >"$work/sweep.log" 2>&1

"$venv/bin/python" - "$work" "$out" <<'EOF'
"""Executes every notebook on every run folder; prints each outcome and the count."""
import os, pathlib, sys, time

import nbclient, nbformat

work, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
passed = failed = 0
for notebook in sorted(pathlib.Path("notebooks").glob("*.ipynb")):
    for folder in ("run", "sweep"):
        os.environ["RUN_DIR"] = str(work / folder)
        nb = nbformat.read(notebook, as_version=4)
        started = time.monotonic()
        try:
            nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                    resources={"metadata": {"path": "notebooks"}}).execute()
            passed += 1
            print(f"ok: {notebook.name} on the {folder} folder ({time.monotonic() - started:.1f} s)")
        except nbclient.exceptions.CellExecutionError as error:
            failed += 1
            print(f"FAILED: {notebook.name} on the {folder} folder:\n{error}")
        nbformat.write(nb, out / f"{notebook.stem}-{folder}.ipynb")
print(f"notebooks: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
