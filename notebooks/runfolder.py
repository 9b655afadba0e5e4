"""A harness run folder as pandas tables, grouped the way `harness report` groups it.

`results/README.md` documents every file and column. The grouping follows the report
(`harness/src/report/data.rs`):

- a *program* is one workload configuration (workload, size, workload parameters);
- a *configuration* is one strategy with its parameters on one program, over its repeats;
- the *swept parameters* are the parameters given in `meta.json` (prefixed with their strategy
  or workload, as in experiment files: `generational.threshold0`, `cycles.ring-size`) whose value
  varies across the run's cells. A configuration's label is its strategy and its swept values.

Repeats are summarised by their median; time series use the *representative repeat*, the one
whose wall time is the median (the lower of the middle two).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

STRING_COLUMNS = ["checksum", "workload_params", "strategy_params", "error", "allocator", "status"]


def find_run_folder(results: str | Path = "../results") -> Path:
    """`RUN_DIR` from the environment if set, else the newest run folder under `results/`."""
    if os.environ.get("RUN_DIR"):
        return Path(os.environ["RUN_DIR"])
    folders = [p for p in Path(results).iterdir() if (p / "runs.csv").is_file()]
    if not folders:
        raise FileNotFoundError(f"no run folder under {results}; set RUN_DIR")
    return max(folders, key=lambda p: p.stat().st_mtime)


class RunFolder:
    """The files of one run folder, with each row's program, configuration and swept values."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        runs = pd.read_csv(self.path / "runs.csv", dtype={c: str for c in STRING_COLUMNS})
        runs[STRING_COLUMNS] = runs[STRING_COLUMNS].fillna("")
        self.meta = json.loads((self.path / "meta.json").read_text()) if (self.path / "meta.json").exists() else {}
        self.pauses = pd.read_csv(self.path / "pauses.csv") if (self.path / "pauses.csv").exists() else None
        memory = self.path / "memory.csv"
        self.memory = pd.read_csv(memory) if memory.exists() else None

        given = self._given_parameters(runs)
        self.swept = [name for name in given.columns if given[name].dropna().nunique() > 1]
        runs = runs.join(given, on="cell")
        runs["program"] = runs.apply(self._program_label, axis=1)
        runs["configuration"] = runs.apply(self._configuration_label, axis=1)
        self.runs = runs

    def _given_parameters(self, runs: pd.DataFrame) -> pd.DataFrame:
        """One row per cell, one column per prefixed parameter as given (NaN where not given)."""
        rows = {}
        if self.meta.get("cells"):
            for cell in self.meta["cells"]:
                spec = cell["spec"]
                given = {f"{spec['strategy']}.{k}": v for k, v in spec["strategy_params"].items()}
                given |= {f"{spec['workload']}.{k}": v for k, v in spec["workload_params"].items()}
                rows[cell["id"]] = given
        else:  # without meta.json: the parameters in force
            for row in runs.itertuples():
                pairs = lambda text: [p.split("=", 1) for p in text.split(";") if "=" in p]
                given = {f"{row.strategy}.{k}": v for k, v in pairs(row.strategy_params)}
                given |= {f"{row.workload}.{k}": v for k, v in pairs(row.workload_params)}
                rows[row.cell] = given
        return pd.DataFrame.from_dict(rows, orient="index", dtype=object)

    def _swept_values(self, row: pd.Series, prefix: str) -> str:
        values = [f" {name[len(prefix):]}={row[name]}" for name in self.swept
                  if name.startswith(prefix) and pd.notna(row[name])]
        return "".join(values)

    def _program_label(self, row: pd.Series) -> str:
        return f"{row.workload} ({row['size']})" + self._swept_values(row, f"{row.workload}.")

    def _configuration_label(self, row: pd.Series) -> str:
        return row.strategy + self._swept_values(row, f"{row.strategy}.")

    @property
    def ok(self) -> pd.DataFrame:
        """The rows of cells that ended `ok`."""
        return self.runs[self.runs.status == "ok"]

    def summary(self) -> pd.DataFrame:
        """Medians over the `ok` repeats of each configuration, in plan order."""
        ok = self.ok
        figures = ["wall_time_ms", "mm_time_ms", "pause_count", "pause_p50_us", "pause_p99_us", "pause_max_us",
                   "collections_gen0", "collections_gen1", "collections_gen2", "peak_rss_bytes",
                   "peak_reserved_bytes", "leaked_objects", "leaked_bytes"]
        grouped = ok.groupby(["program", "configuration"], sort=False)
        table = grouped[figures].median()
        table.insert(0, "repeats", grouped.size())
        table.insert(2, "wall_min_ms", grouped.wall_time_ms.min())
        table.insert(3, "wall_max_ms", grouped.wall_time_ms.max())
        return table

    def representative_cells(self) -> pd.DataFrame:
        """Per configuration, the `ok` row whose wall time is the median."""
        def median_row(rows: pd.DataFrame) -> pd.Series:
            rows = rows.sort_values("wall_time_ms")
            return rows.iloc[(len(rows) - 1) // 2]
        return pd.DataFrame([median_row(rows) for _, rows in self.ok.groupby(["program", "configuration"], sort=False)])

    def pauses_of(self, cells) -> pd.DataFrame:
        """The pauses of the given cells (empty when the folder has no pauses.csv)."""
        if self.pauses is None:
            return pd.DataFrame(columns=["cell", "kind", "generation", "start_ns", "duration_ns"])
        return self.pauses[self.pauses.cell.isin(list(cells))]

    def exit_collection_ns(self, row: pd.Series) -> float:
        """Time in pauses that began after the workload returned (the exit collection)."""
        pauses = self.pauses_of([row.cell])
        return float(pauses[pauses.start_ns >= row.wall_time_ms * 1e6].duration_ns.sum())
