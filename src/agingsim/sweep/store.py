"""The results store: one Parquet file per finished run, named by its key, queried with DuckDB.

Layout (``STORE`` is ``--store``, ``out/sweeps`` by default)::

    STORE/<sweep name>/runs/<run key>.parquet   one row per run and year
    STORE/<sweep name>/failures.jsonl           runs that raised: key, parameters, error
    STORE/<sweep name>/sweep.toml               copy of the sweep file last run into this folder
    STORE/<sweep name>/sensitivity_*.csv|png    Morris or Sobol indices (SALib designs)

A file is written under a temporary name and renamed into place, so a killed sweep leaves either a
whole run or none, and the file's existence is what "finished" means: resuming skips it and nothing
is written twice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from agingsim.errors import AgingsimError

TMP_SUFFIX = ".tmp"


class Store:
    """One sweep's folder in the store."""

    def __init__(self, root: str | Path, sweep_name: str) -> None:
        self.root = Path(root)
        self.dir = self.root / sweep_name
        self.runs = self.dir / "runs"
        self.failures_path = self.dir / "failures.jsonl"

    def prepare(self) -> None:
        """Create the folders; remove half-written files of a sweep that was killed."""
        self.runs.mkdir(parents=True, exist_ok=True)
        for stale in self.runs.glob(f"*{TMP_SUFFIX}"):
            stale.unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        return self.runs / f"{key}.parquet"

    def finished(self) -> set[str]:
        return {p.stem for p in self.runs.glob("*.parquet")} if self.runs.is_dir() else set()

    def write(self, key: str, frame: pd.DataFrame) -> Path:
        """Write one run's rows atomically: temp file, fsync, rename over the final name."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        final = self.path(key)
        tmp = final.with_name(f".{key}.{os.getpid()}{TMP_SUFFIX}")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        with tmp.open("wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        return final

    def read(self, keys: list[str] | None = None) -> pd.DataFrame:
        """Rows of the given runs (all finished runs of this sweep if None), in key order."""
        paths = [self.path(k) for k in keys] if keys is not None else sorted(self.runs.glob("*.parquet"))
        paths = [p for p in paths if p.is_file()]
        if not paths:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)

    # ------------------------------------------------------------------ failures

    def reset_failures(self, keys: set[str]) -> None:
        """Forget earlier failures of runs about to be retried (other sweeps' lines are kept)."""
        kept = [f for f in self.failures() if f.get("run_key") not in keys]
        self._write_failures(kept)

    def record_failure(self, record: dict[str, Any]) -> None:
        with self.failures_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            fh.flush()

    def failures(self) -> list[dict[str, Any]]:
        if not self.failures_path.is_file():
            return []
        lines = self.failures_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def _write_failures(self, records: list[dict[str, Any]]) -> None:
        if not records:
            self.failures_path.unlink(missing_ok=True)
            return
        tmp = self.failures_path.with_name(f".failures.{os.getpid()}{TMP_SUFFIX}")
        text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.failures_path)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(store: str | Path) -> Any:
    """A DuckDB connection with a view ``runs`` over every run under ``store`` (a store or one sweep),
    and ``failures`` over the failure records if there are any."""
    import duckdb

    root = Path(store)
    if not root.is_dir():
        raise AgingsimError(f"{root}: no such store folder")
    if not any(root.rglob("*.parquet")):
        raise AgingsimError(f"{root}: no finished runs in this store")
    con = duckdb.connect()
    runs = _sql_string(str(root / "**" / "*.parquet"))
    con.execute(f"CREATE VIEW runs AS SELECT * FROM read_parquet({runs}, union_by_name = true)")
    if any(root.rglob("failures.jsonl")):
        fails = _sql_string(str(root / "**" / "failures.jsonl"))
        con.execute(
            f"CREATE VIEW failures AS SELECT * FROM read_json_auto({fails}, format = 'newline_delimited', "
            "union_by_name = true)"
        )
    return con


def query(store: str | Path, sql: str) -> pd.DataFrame:
    """Run DuckDB SQL over the store; errors in the SQL are reported without a traceback."""
    import duckdb

    con = connect(store)
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        raise AgingsimError(f"query: {exc}") from None
    finally:
        con.close()
