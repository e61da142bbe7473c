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

from agingsim.errors import ScenarioError

TMP_SUFFIX = ".tmp"


class Store:
    """One sweep's folder in the store."""

    def __init__(self, root: str | Path, sweep_name: str) -> None:
        self.root = Path(root)
        self.dir = self.root / sweep_name
        self.runs = self.dir / "runs"
        self.failures_path = self.dir / "failures.jsonl"

    def prepare(self) -> None:
        """Create the folders; remove half-written files of a sweep that was killed (never those of
        a sweep still running on the same store: their writer's pid is in the name), and the torn
        last line a kill can leave in the failure log."""
        self.runs.mkdir(parents=True, exist_ok=True)
        for stale in [*self.runs.glob(f"*{TMP_SUFFIX}"), *self.dir.glob(f".failures.*{TMP_SUFFIX}")]:
            if _orphan(stale):
                stale.unlink(missing_ok=True)
        if self.failures_path.is_file():
            text = self.failures_path.read_text(encoding="utf-8", errors="replace")
            if text and not text.endswith("\n"):
                self._write_failures(self.failures())

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
        """The failure records; a line a killed sweep left half-written is skipped."""
        if not self.failures_path.is_file():
            return []
        lines = self.failures_path.read_text(encoding="utf-8", errors="replace").splitlines()
        records = []
        for line in lines:
            try:
                record = json.loads(line) if line.strip() else None
            except json.JSONDecodeError:
                continue  # torn by a kill mid-write
            if isinstance(record, dict):
                records.append(record)
        return records

    def _write_failures(self, records: list[dict[str, Any]]) -> None:
        if not records:
            self.failures_path.unlink(missing_ok=True)
            return
        tmp = self.failures_path.with_name(f".failures.{os.getpid()}{TMP_SUFFIX}")
        text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.failures_path)


def _orphan(path: Path) -> bool:
    """A temporary file whose writer (pid in ``.NAME.PID.tmp``) is no longer running."""
    parts = path.name.split(".")
    pid = parts[-2] if len(parts) >= 3 else ""
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(store: str | Path) -> Any:
    """A read-only DuckDB connection with a view ``runs`` over every run under ``store`` (a store or
    one sweep), and ``failures`` over the failure records if there are any.

    The connection can read only the store's folder (DuckDB ``allowed_directories`` with
    ``enable_external_access = false``, locked so SQL cannot undo it): no other file on the machine
    is readable through a query. Still, ``agingsim query`` is meant for the store owner's own
    machine, not to be exposed behind a server."""
    import duckdb

    root = Path(store)
    if not root.is_dir():
        raise ScenarioError(root, "STORE", "no such store folder")
    if not any(root.rglob("*.parquet")):
        raise ScenarioError(root, "STORE", "no finished runs in this store")
    con = duckdb.connect()
    folder = str(root.resolve())
    con.execute(f"SET allowed_directories = [{_sql_string(folder + os.sep)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    runs = _sql_string(str(root.resolve() / "**" / "*.parquet"))
    con.execute(f"CREATE VIEW runs AS SELECT * FROM read_parquet({runs}, union_by_name = true)")
    if any(root.rglob("failures.jsonl")):
        fails = _sql_string(str(root.resolve() / "**" / "failures.jsonl"))
        con.execute(
            f"CREATE VIEW failures AS SELECT * FROM read_json_auto({fails}, format = 'newline_delimited', "
            "union_by_name = true, ignore_errors = true) WHERE run_key IS NOT NULL"
        )  # a line torn by a kill reads as an empty record: skipped
    return con


#: The only statements ``agingsim query`` runs: it reads the store, never writes (no COPY, ATTACH,
#: CREATE, INSTALL, SET ...).
READ_ONLY_STATEMENTS = ("SELECT", "EXPLAIN")


def query(store: str | Path, sql: str) -> pd.DataFrame:
    """Run read-only DuckDB SQL (SELECT) over the store; errors are reported without a traceback."""
    import duckdb

    con = connect(store)
    try:
        statements = con.extract_statements(sql)
        if not statements:
            raise ScenarioError(store, "SQL", "no SQL statement given")
        for st in statements:
            kind = st.type.name
            if kind not in READ_ONLY_STATEMENTS:
                raise ScenarioError(store, "SQL", f"read-only: only SELECT statements are run, not {kind}")
        result = None
        for st in statements:
            result = con.execute(st.query).df()
        return result
    except duckdb.Error as exc:
        raise ScenarioError(store, "SQL", str(exc)) from None
    finally:
        con.close()
