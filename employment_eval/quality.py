"""The Great Expectations suites of the audit step (`expectations/*.json`, one file per suite).

A suite file names the frame it checks and its expectations:

    {"name": "stg_registrations",
     "layer": "staging" | "marts" | "published",
     "description_zh": "…",
     "query": "select …"            (a string, or a list of lines joined by newlines)
        or "frame": "published_columns" with "personal_values": "select …",
     "row_id": ["source_file", "source_row"],   columns that identify a failing row
     "parameters": {"units": "select unit_code from reference.units"},   for {"$PARAMETER": …}
     "expectations": [{"type": "expect_…", "kwargs": {…},
                       "meta": {"check_id": "…", "severity": "error" | "warning",
                                "description_zh": "…"}}]}

Layers: `staging` frames are read from the working database (raw and staging, personal data);
`marts` frames from the candidate file (opened read-only); `published` frames from the working
database with the candidate attached read-only as `audit_candidate`. Every frame is a DuckDB
query read as Arrow, turned into a pandas frame (the dtypes DuckDB's own `.df()` gives) and
validated through GX's pandas datasource in an ephemeral context (GX's SQLAlchemy path on
DuckDB is not used). Large frames are validated in chunks of bounded size whose merged results
are exactly those of the whole frame (`suite_frames`, `_Tally`): every expectation still sees
every row. An error-level failure blocks publishing, a warning is reported. Failing rows are
reported in row_id order, the first ROW_LIMIT of them. `great_expectations`, pandas and pyarrow
are imported only inside the functions (the imports cost seconds).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.util
import itertools
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from employment_eval import gate_rows
from employment_eval.paths import EXPECTATIONS_DIR

if TYPE_CHECKING:  # pandas and pyarrow are imported where used (~0.2 s at start-up)
    import pandas as pd
    import pyarrow as pa

SEVERITIES = ("error", "warning")
LAYERS = ("staging", "marts", "published")
BUILTIN_FRAMES = ("published_columns",)
GX_SEVERITY = {"error": "critical", "warning": "warning"}
CANDIDATE = "audit_candidate"  # catalog name of the candidate in `published` frames
SAMPLE_LIMIT = 50  # sample values per expectation kept in the report


class SuiteError(Exception):
    """A suite file that cannot be used (bad JSON, unknown expectation, missing field)."""


@dataclass(frozen=True)
class PerFile:
    """A suite whose every rule holds within one file (`"per_file"` in its file): `column`
    names the file in the frame (a content hash), `files` is a query of the files the frame
    holds tonight. A file that passed every expectation of the suite under the same suites,
    rules and code is not validated again (see `prepare_already_validated`)."""

    column: str
    files: str


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    layer: str
    description_zh: str
    row_id: tuple[str, ...]
    expectations: tuple[dict, ...]
    query: str | None = None
    frame: str | None = None
    personal_values: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    per_file: PerFile | None = None

    def expectation(self, check_id: str) -> dict:
        return next(e for e in self.expectations if e["meta"]["check_id"] == check_id)

    @property
    def title_zh(self) -> str:
        """What the suite checks, as the centre reads it: its description up to the first
        full-width colon ('单位材料登记表'); the suite's name never reaches the centre."""
        return self.description_zh.split("：", 1)[0]


@dataclass(frozen=True)
class Outcome:
    """One expectation's result on one run."""

    suite: str
    check_id: str
    type: str
    column: str | None
    description_zh: str
    severity: str
    success: bool
    failing: int
    rows_checked: int
    row_id: tuple[str, ...]
    failing_rows: list[dict]  # row_id values of every failing row (provenance or keys)
    samples: list[Any]  # offending values (may quote personal data: report only)
    kwargs: dict
    exception: str | None = None

    @property
    def expectation_label(self) -> str:
        """e.g. expect_column_values_to_be_between(employment_rate)"""
        kw = self.kwargs
        if "column" in kw:
            target = kw["column"]
        elif "column_A" in kw:
            target = f"{kw['column_A']}, {kw['column_B']}"
        else:
            target = ", ".join(kw.get("column_list", []))
        return f"{self.type}({target})"


def _text(value: Any) -> str:
    return "\n".join(value) if isinstance(value, list) else str(value)


def load_suites(directory: Path = EXPECTATIONS_DIR) -> list[Suite]:
    """Read and check every suite file (plain JSON; GX is not needed for this)."""
    paths = sorted(Path(directory).glob("*.json"))
    if not paths:
        raise SuiteError(f"{directory} 中没有任何期望套件（*.json）")
    suites = [_load_suite(p) for p in paths]
    names = [s.name for s in suites]
    if len(set(names)) != len(names):
        raise SuiteError(f"期望套件重名：{sorted(n for n in names if names.count(n) > 1)}")
    return suites


def _load_suite(path: Path) -> Suite:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SuiteError(f"{path.name}：无法读取期望套件：{exc}") from exc
    missing = [k for k in ("name", "layer", "description_zh", "expectations") if k not in data]
    if missing:
        raise SuiteError(f"{path.name}：缺少字段 {missing}")
    if "：" not in data["description_zh"]:
        raise SuiteError(f"{path.name}：description_zh 须以「名称：」开头（如「记分板：…」）")
    if data["layer"] not in LAYERS:
        raise SuiteError(f"{path.name}：layer 须为 {LAYERS} 之一，而不是 {data['layer']!r}")
    if ("query" in data) == ("frame" in data):
        raise SuiteError(f"{path.name}：须有 query 或 frame 之一")
    if "frame" in data and data["frame"] not in BUILTIN_FRAMES:
        raise SuiteError(f"{path.name}：未知的 frame {data['frame']!r}")
    seen: set[str] = set()
    for i, exp in enumerate(data["expectations"]):
        meta = exp.get("meta") or {}
        where = f"{path.name} 第 {i + 1} 个期望"
        if not isinstance(exp.get("type"), str) or not isinstance(exp.get("kwargs"), dict):
            raise SuiteError(f"{where}：须有 type 与 kwargs")
        if meta.get("severity") not in SEVERITIES:
            raise SuiteError(f"{where}：meta.severity 须为 error 或 warning")
        if not meta.get("description_zh") or not meta.get("check_id"):
            raise SuiteError(f"{where}：meta 须有 check_id 与 description_zh")
        if meta["check_id"] in seen:
            raise SuiteError(f"{where}：check_id {meta['check_id']!r} 重复")
        seen.add(meta["check_id"])
    per_file = _per_file(path, data)
    return Suite(
        name=data["name"],
        path=path,
        layer=data["layer"],
        description_zh=data["description_zh"],
        row_id=tuple(data.get("row_id", ())),
        expectations=tuple(data["expectations"]),
        query=_text(data["query"]) if "query" in data else None,
        frame=data.get("frame"),
        personal_values=_text(data["personal_values"]) if "personal_values" in data else None,
        parameters={k: _text(v) for k, v in data.get("parameters", {}).items()},
        per_file=per_file,
    )


def _per_file(path: Path, data: dict) -> PerFile | None:
    """The suite's `per_file` declaration, checked: it may skip files only when every
    expectation judges rows on their own or checks uniqueness within a file."""
    spec = data.get("per_file")
    if spec is None:
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("column"), str) or "files" not in spec:
        raise SuiteError(f'{path.name}：per_file 须为 {{"column": 列名, "files": 查询}}')
    column = spec["column"]
    if not data.get("row_id") or "frame" in data:
        raise SuiteError(f"{path.name}：per_file 需要 query 与 row_id")
    for exp in data["expectations"]:
        kind, kwargs = exp["type"], exp["kwargs"]
        if "mostly" in kwargs or not (kind in ROW_WISE or kind in UNIQUE_KEYS):
            raise SuiteError(
                f"{path.name}：期望 {exp['meta']['check_id']} 不是逐行或唯一性检查，"
                "不能按文件只检查一次（per_file）"
            )
        if kind in UNIQUE_KEYS and column not in UNIQUE_KEYS[kind](kwargs):
            raise SuiteError(
                f"{path.name}：期望 {exp['meta']['check_id']} 的唯一性跨越文件（键中没有 "
                f"{column}），不能按文件只检查一次（per_file）"
            )
    return PerFile(column, _text(spec["files"]))


# -- frames ------------------------------------------------------------------------------------
# A suite's frame is read from DuckDB as Arrow (streamed) and validated in chunks of at most
# `chunk_rows` rows, so the gate's memory does not grow with the season. Chunking is exact:
# - only a suite whose every expectation judges each row on its own (ROW_WISE) or checks
#   uniqueness (UNIQUE_KEYS), and that has a row_id, is chunked; its chunks hold only the
#   columns those expectations, their row conditions and the row_id use;
# - rows with equal uniqueness keys stay in one chunk: the stream is ordered by a hash bucket
#   of the key columns common to every uniqueness check, a chunk is a run of whole buckets;
# - every frame is sorted by row_id and GX returns the first ROW_LIMIT failing rows of a chunk
#   in that order, so the merged first ROW_LIMIT rows are those of the whole frame; failing
#   counts are summed (see `_Tally`).
# Any other suite (table-level expectations, `mostly`, no row_id) is one frame, as before.

CHUNK_ROWS = 500_000  # rows per validated frame
ROW_LIMIT = 500  # failing rows (with their values) kept per expectation: the report's limit
HASH_BUCKETS = 4096
BATCH_ROWS = 1 << 17  # rows per Arrow batch read from DuckDB
ROW_WISE = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
        "expect_column_values_to_match_strftime_format",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_in_set",
        "expect_select_column_values_to_be_unique_within_record",
        "expect_multicolumn_sum_to_equal",
    }
)
UNIQUE_KEYS = {  # expectation type → its key columns
    "expect_column_values_to_be_unique": lambda kwargs: [kwargs["column"]],
    "expect_compound_columns_to_be_unique": lambda kwargs: list(kwargs["column_list"]),
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class FramePlan:
    """How a suite's frame is read: its columns, whether in chunks, and the chunking key."""

    columns: tuple[str, ...]
    chunked: bool
    key: tuple[str, ...] = ()  # rows with equal values here stay in one chunk


def frame_plan(suite: Suite, available: Sequence[str]) -> FramePlan:
    whole = FramePlan(tuple(available), False)
    types = [e["type"] for e in suite.expectations]
    if (
        not suite.row_id
        or not set(suite.row_id) <= set(available)
        or not all(t in ROW_WISE or t in UNIQUE_KEYS for t in types)
        or any("mostly" in e["kwargs"] for e in suite.expectations)
    ):
        return whole
    keys = [
        UNIQUE_KEYS[e["type"]](e["kwargs"]) for e in suite.expectations if e["type"] in UNIQUE_KEYS
    ]
    key = tuple(c for c in keys[0] if all(c in k for k in keys)) if keys else ()
    if keys and not key:
        return whole
    needed = set(suite.row_id) | ({suite.per_file.column} if suite.per_file else set())
    for exp in suite.expectations:
        kwargs = exp["kwargs"]
        needed |= {kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs}
        needed |= set(kwargs.get("column_list", ()))
        if kwargs.get("row_condition"):
            needed |= set(_NAME.findall(str(kwargs["row_condition"]))) & set(available)
    if not needed <= set(available):  # GX reports the missing column, on the whole frame
        return whole
    return FramePlan(tuple(c for c in available if c in needed), True, key)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(value: str) -> str:
    return value.replace("'", "''")


def _suite_error(suite: Suite, exc: Exception) -> SuiteError:
    return SuiteError(f"{suite.path.name}：查询失败：{exc}")


def suite_frames(
    suite: Suite, con: duckdb.DuckDBPyConnection, chunk_rows: int | None = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The frames a suite validates (read with `con`, chosen by the suite's layer), each
    sorted by row_id: one frame, or chunks of at most `chunk_rows` rows (None: one frame)."""
    return (as_frame(table) for table in suite_tables(suite, con, chunk_rows))


def as_frame(table: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """The pandas frame GX validates (an Arrow table is converted as `arrow_frame` does)."""
    return arrow_frame(table) if type(table).__module__.startswith("pyarrow") else table


def suite_tables(
    suite: Suite,
    con: duckdb.DuckDBPyConnection,
    chunk_rows: int | None = CHUNK_ROWS,
    *,
    parameters: dict[str, list] | None = None,
    count: gate_rows.FrameCount | None = None,
) -> Iterator[pa.Table | pd.DataFrame]:
    """`suite_frames` before the pandas conversion: Arrow tables (the published-columns
    frame is built as pandas). The validator converts them, possibly in another process.
    With `count`, a suite whose rows are judged on their own yields only the rows that may
    fail (gate_rows.narrow: the results are those of the whole frame) and the whole frame's
    rows are counted into `count`."""
    import pyarrow as pa

    if suite.frame == "published_columns":
        frame = published_columns(con, suite.personal_values or "select null::varchar as value")
        if count is not None:
            frame = _narrow_frame(suite, con, frame, parameters or {}, count)
        yield sort_frame(frame, suite.row_id)
        return
    try:
        available = con.sql(suite.query).columns
    except duckdb.Error as exc:
        raise _suite_error(suite, exc) from exc
    plan = frame_plan(suite, available)
    select = frame_query(suite, plan.columns)
    reader = None
    narrowed = False
    try:
        if count is not None and suite.row_id:
            column = suite.per_file.column if suite.per_file else None
            chosen = gate_rows.narrow(
                con, select, suite.expectations, parameters or {}, column, count
            )
            narrowed = chosen is not None
            select = chosen or select
        if not plan.chunked or chunk_rows is None:
            yield sort_table(con.sql(select).to_arrow_table(), suite.row_id)
            return
        reader = con.sql(select).to_arrow_reader(min(chunk_rows, BATCH_ROWS))
        head, rows = [], 0
        for batch in reader:
            head.append(batch)
            rows += batch.num_rows
            if rows > chunk_rows:
                break
        else:  # the whole frame fits in one chunk
            whole = pa.Table.from_batches(head, reader.schema)
            reader.close()  # an open stream blocks the connection
            yield sort_table(whole, suite.row_id)
            return
        if plan.key:  # start again, ordered by the key's hash bucket
            reader.close()
            head = []
            buckets = f"hash({', '.join(map(_quote, plan.key))}) % {HASH_BUCKETS}"
            keyed = f"select *, {buckets} as __bucket from ({select}) as keyed order by __bucket"
            reader = con.sql(keyed).to_arrow_reader(min(chunk_rows, BATCH_ROWS))
        batches = itertools.chain(head, reader)
        for table in _chunks(batches, reader.schema, chunk_rows, bool(plan.key)):
            yield sort_table(table, suite.row_id)
    except (duckdb.Error, pa.ArrowException) as exc:
        raise _suite_error(suite, exc) from exc
    finally:
        if reader is not None:  # also when the consumer stops early: free the connection
            reader.close()
        if narrowed:
            gate_rows.drop(con, suite.expectations)


def _narrow_frame(
    suite: Suite,
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    parameters: dict[str, list],
    count: gate_rows.FrameCount,
) -> pd.DataFrame:
    """A frame built in pandas, narrowed by DuckDB as a query's frame is (its rows chosen by
    position: the dtypes stay those of the whole frame)."""
    con.register("quality_built_frame", frame.assign(__position=range(len(frame))))
    try:
        columns = ", ".join(map(_quote, frame.columns))
        chosen = gate_rows.narrow(
            con,
            f"select {columns}, __position from quality_built_frame",
            suite.expectations,
            parameters,
            None,
            count,
        )
        if chosen is None:
            return frame
        kept = [r[0] for r in con.execute(f"select __position from ({chosen}) as c").fetchall()]
    finally:
        gate_rows.drop(con, suite.expectations)
        con.unregister("quality_built_frame")
    return frame.iloc[sorted(kept)].reset_index(drop=True)


def frame_query(suite: Suite, columns: Sequence[str]) -> str:
    """The query of a suite's frame, reading `columns`; a per-file suite leaves out the
    files that passed before (the temp view of `prepare_already_validated`)."""
    select = f"select {', '.join(map(_quote, columns))} from (\n{suite.query}\n) as frame"
    if suite.per_file is not None:
        select += (
            f"\nwhere {_quote(suite.per_file.column)} not in (select value from "
            f"already_validated where suite = '{_sql_text(suite.name)}')"
        )
    return select


def _chunks(
    batches: Iterable[pa.RecordBatch], schema: pa.Schema, chunk_rows: int, bucketed: bool
) -> Iterator[pa.Table]:
    """Arrow tables of `chunk_rows` rows; `bucketed`: cut only between hash buckets (the
    batches come ordered by `__bucket`), so a chunk may hold more rows than `chunk_rows`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        pending.append(batch)
        rows += batch.num_rows
        while rows > chunk_rows:
            table = pa.Table.from_batches(pending, schema)
            cut = chunk_rows
            if bucketed:
                buckets = table.column("__bucket")
                cut = pc.index(buckets, buckets[chunk_rows]).as_py()
                if cut == 0:  # one bucket so far: read on
                    break
            yield _drop_bucket(table.slice(0, cut))
            rest = table.slice(cut)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield _drop_bucket(pa.Table.from_batches(pending, schema))


def _drop_bucket(table: pa.Table) -> pa.Table:
    return table.drop_columns(["__bucket"]) if "__bucket" in table.column_names else table


def suite_frame(suite: Suite, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The whole frame of a suite (every column of its query), sorted by row_id."""
    if suite.frame is not None:
        return next(suite_frames(suite, con, None))
    try:
        select = frame_query(suite, con.sql(suite.query).columns)
        return arrow_frame(sort_table(con.sql(select).to_arrow_table(), suite.row_id))
    except duckdb.Error as exc:
        raise _suite_error(suite, exc) from exc


_MASKED = {  # Arrow type → the masked pandas dtype DuckDB's .df() uses when there are nulls
    "int8": "Int8",
    "int16": "Int16",
    "int32": "Int32",
    "int64": "Int64",
    "uint8": "UInt8",
    "uint16": "UInt16",
    "uint32": "UInt32",
    "uint64": "UInt64",
    "bool": "boolean",
}


def arrow_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow result as the pandas frame DuckDB's own `.df()` gives (the dtypes GX has always
    seen): integers and booleans as numpy without nulls and masked (Int32, boolean) with them,
    DECIMAL and HUGEINT as float64, DATE as datetime64[us], text as pandas strings (a text
    column without any value as objects, as `.df()` gives it). Arrow is ~10× faster than
    `.df()` and needs a fraction of its memory."""
    import pandas as pd
    import pyarrow as pa

    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_decimal(kind):
            column = column.cast(pa.float64())
        elif pa.types.is_date(kind):
            column = column.cast(pa.timestamp("us"))
        if str(kind) in _MASKED and column.null_count:
            columns[name] = column.to_pandas(types_mapper=_masked_dtype)
        elif _is_text(kind) and len(column) and column.null_count == len(column):
            columns[name] = pd.Series([None] * len(column), dtype=object)  # as .df() gives it
        else:
            columns[name] = column.to_pandas()
    frame = pd.DataFrame(columns, columns=table.column_names)
    if not table.column_names:
        frame.index = pd.RangeIndex(table.num_rows)
    return frame


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return (
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _masked_dtype(kind: pa.DataType):
    import pandas as pd

    return pd.api.types.pandas_dtype(_MASKED[str(kind)]) if str(kind) in _MASKED else None


def sort_table(table: pa.Table, row_id: Sequence[str]) -> pa.Table:
    """Rows in row_id order (missing values last): failing rows are reported in that order
    (text by code point, as Python and pandas compare it)."""
    import pyarrow.compute as pc

    keys = [(c, "ascending", "at_end") for c in row_id if c in table.column_names]
    if not keys or table.num_rows < 2:
        return table
    return table.take(pc.sort_indices(table, sort_keys=keys))


def sort_frame(frame: pd.DataFrame, row_id: Sequence[str]) -> pd.DataFrame:
    """A pandas frame in row_id order, as `sort_table` orders an Arrow table."""
    by = [c for c in row_id if c in frame.columns]
    if not by or len(frame) < 2:
        return frame.reset_index(drop=True)
    return frame.sort_values(by, kind="stable", na_position="last", ignore_index=True)


def suite_parameters(suite: Suite, con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    try:
        return {
            name: [row[0] for row in con.execute(query).fetchall()]
            for name, query in suite.parameters.items()
        }
    except duckdb.Error as exc:
        raise _suite_error(suite, exc) from exc


def _among_candidate(personal_values: str) -> str:
    """The personal values query with each of its selects restricted to the candidate's
    values (`quality_candidate_values`): the same values among the candidate's, since every
    set operation commutes with that restriction — (A ∪ B) ∩ C = (A ∩ C) ∪ (B ∩ C), likewise
    for EXCEPT and INTERSECT — but DuckDB no longer builds sets of every student's number
    and name (it does not push a filter through a set operation itself). A query sqlglot
    cannot read is used as it is."""
    import sqlglot
    from sqlglot import exp

    def restrict(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.SetOperation):
            node.set("this", restrict(node.this))
            node.set("expression", restrict(node.expression))
            return node
        return sqlglot.parse_one(
            f"select * from ({node.sql('duckdb')}) as leaf(value) "
            "where value in (select value from quality_candidate_values)",
            read="duckdb",
        )

    try:
        return restrict(sqlglot.parse_one(personal_values, read="duckdb")).sql("duckdb")
    except sqlglot.errors.SqlglotError:
        return personal_values


def published_columns(con: duckdb.DuckDBPyConnection, personal_values: str) -> pd.DataFrame:
    """One row per column of every table in the attached candidate (catalog CANDIDATE), with the
    number of its values that equal a student number or name found in the working database.

    The candidate's text values (the marts: small) are gathered first; the personal values
    (millions in a national season) are only probed against them, so no set of every
    student's number and name is built."""
    import pandas as pd

    columns = con.execute(
        """select schema_name, table_name, column_name, data_type from duckdb_columns()
        where database_name = ? order by all""",
        [CANDIDATE],
    ).fetchall()
    text = [(i, c) for i, c in enumerate(columns) if c[3] == "VARCHAR"]
    found: dict[int, int] = {}
    if text:  # every text column's values at once, then one semi join with the values
        values = " union all ".join(
            f"select {i} as col, {_quote(column)} as value "
            f"from {CANDIDATE}.{_quote(schema)}.{_quote(table)}"
            for i, (schema, table, column, _) in text
        )
        con.execute(f"create or replace temp table quality_candidate_values as {values}")
        try:
            con.execute(
                "create or replace temp table quality_personal_values as "
                f"select distinct value from ({_among_candidate(personal_values)}) as v(value) "
                "where value is not null and trim(value) <> '' "
                "and value in (select value from quality_candidate_values)"
            )
            found = dict(
                con.execute(
                    "select col, count(*) from quality_candidate_values "
                    "where value in (select value from quality_personal_values) group by col"
                ).fetchall()
            )
        finally:
            con.execute("drop table if exists quality_personal_values")
            con.execute("drop table if exists quality_candidate_values")
    rows = [
        (*column, found.get(i, 0) if column[3] == "VARCHAR" else None)
        for i, column in enumerate(columns)
    ]
    return pd.DataFrame(
        rows,
        columns=["schema_name", "table_name", "column_name", "data_type", "personal_values"],
    ).astype({"personal_values": "Int64"})


# -- validation --------------------------------------------------------------------------------


def prepare_gx_import() -> None:
    """Make `import great_expectations` cheaper (~0.7 s of its ~2.5 s, docs/BENCHMARKS.md):
    GX imports scipy.stats at module level for distribution expectations the suites never use
    (`from scipy import stats`, called only inside those expectations). The standard
    library's LazyLoader defers scipy.stats until one of them runs. No effect once GX (or
    scipy.stats) is imported."""
    name = "scipy.stats"
    if name in sys.modules or "great_expectations" in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    # `from scipy import stats` must find the attribute: going through the import system
    # again would touch the module and load it
    sys.modules["scipy"].stats = module


def build_expectation_suite(suite: Suite):
    """The GX suite of a suite file; its expectation count must equal the file's."""
    prepare_gx_import()
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    expectations = []
    for exp in suite.expectations:
        meta = exp["meta"]
        try:
            config = ExpectationConfiguration(
                type=exp["type"],
                kwargs=exp["kwargs"],
                meta=meta,
                severity=GX_SEVERITY[meta["severity"]],
            )
            expectations.append(config.to_domain_obj())
        except Exception as exc:  # unknown type, bad kwargs: the suite file is wrong
            raise SuiteError(
                f"{suite.path.name}：期望 {meta['check_id']}（{exp['type']}）无法加载：{exc}"
            ) from exc
    # built unbound (no context needed); Validator binds it to its ephemeral context
    gx_suite = gx.ExpectationSuite(
        name=suite.name, expectations=expectations, meta={"description_zh": suite.description_zh}
    )
    if len(gx_suite.expectations) != len(suite.expectations):
        raise SuiteError(
            f"{suite.path.name}：文件中有 {len(suite.expectations)} 个期望，"
            f"检查程序只加载了 {len(gx_suite.expectations)} 个"
        )
    return gx_suite


class Validator:
    """An ephemeral GX context that validates frames and, at the end, writes Data Docs."""

    def __init__(self, docs_dir: Path | None = None):
        prepare_gx_import()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        for name in ["great_expectations", *logging.root.manager.loggerDict]:
            if name.startswith("great_expectations"):  # some of its modules set INFO
                logging.getLogger(name).setLevel(logging.WARNING)
        self._gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        for name in list(self.context.get_config().data_docs_sites or {}):
            self.context.delete_data_docs_site(name)
        self.docs_dir = docs_dir
        if docs_dir is not None:
            self.context.add_data_docs_site(
                site_name="employment_eval",
                site_config={
                    "class_name": "SiteBuilder",
                    "show_how_to_buttons": False,
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        self.datasource = self.context.data_sources.add_pandas("employment_eval")

    def validate(
        self,
        suite: Suite,
        frames: pd.DataFrame | Iterable[pd.DataFrame],
        parameters: dict[str, list],
    ) -> list[Outcome]:
        """Validate the suite on one frame or on the chunks of one (see `suite_frames`): the
        outcomes are those of the whole frame, and Data Docs shows one merged result."""
        import pandas as pd
        from great_expectations.core.run_identifier import RunIdentifier

        gx = self._gx
        gx_suite = self.context.suites.add(build_expectation_suite(suite))
        asset = self.datasource.add_dataframe_asset(suite.name)
        batch = asset.add_batch_definition_whole_dataframe(suite.name)
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
        )
        run_id = RunIdentifier(run_name=suite.name)  # every chunk's result under one key
        tallies = {e["meta"]["check_id"]: _Tally() for e in suite.expectations}
        row_id: list[str] = list(suite.row_id)
        chunks, result = 0, None
        for frame in map(as_frame, [frames] if isinstance(frames, pd.DataFrame) else frames):
            row_id = [c for c in suite.row_id if c in frame.columns]
            result = definition.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=parameters,
                result_format={
                    "result_format": "SUMMARY",
                    "unexpected_index_column_names": row_id,
                    "partial_unexpected_count": ROW_LIMIT,
                    "return_unexpected_index_query": False,
                },
                run_id=run_id,
            )
            by_id = {r.expectation_config.meta["check_id"]: r for r in result.results}
            for exp in suite.expectations:
                tallies[exp["meta"]["check_id"]].add(
                    exp, by_id.get(exp["meta"]["check_id"]), frame, row_id
                )
            chunks += 1
            del frame
        if chunks > 1 and result is not None:
            self._store_merged(suite, result, tallies, row_id)
        return [
            _outcome(suite, exp, tallies[exp["meta"]["check_id"]], row_id)
            for exp in suite.expectations
        ]

    def _store_merged(self, suite: Suite, result, tallies: dict[str, _Tally], row_id) -> None:
        """Data Docs render the stored result: replace the last chunk's with the merged one."""
        for r in result.results:
            tally = tallies.get(r.expectation_config.meta["check_id"])
            if (
                tally is None
                or tally.exception is not None
                or "unexpected_count" not in (r.result or {})
            ):
                continue
            r.success = tally.success
            r.result = tally.docs_summary(row_id)
        evaluated = len(result.results)
        passed = sum(1 for r in result.results if r.success)
        result.success = passed == evaluated
        result.statistics.update(
            successful_expectations=passed,
            unsuccessful_expectations=evaluated - passed,
            success_percent=100.0 * passed / evaluated if evaluated else None,
        )
        store = self.context.validation_results_store
        for key in store.list_keys():
            if key.expectation_suite_identifier.name == suite.name:
                store.set(key, result)

    def check_suites(self, suites: Iterable[Suite]) -> None:
        """Every suite file loads into GX (a mistyped expectation is an error) before any
        frame is validated."""
        for suite in suites:
            build_expectation_suite(suite)

    def build_docs(self) -> Path | None:
        if self.docs_dir is None:
            return None
        self.context.build_data_docs(site_names=["employment_eval"])
        return self.docs_dir / "index.html"


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or (not isinstance(value, list | tuple | dict) and bool(pd.isna(value)))


def _row_order(row: dict | None) -> tuple:
    """Sort key of a failing row's row_id values, as `sort_frame` orders them."""
    if row is None:
        return ()
    return tuple((1, 0) if _missing(v) else (0, v) for v in row.values())


@dataclass
class _Tally:
    """One expectation over the chunks of a frame: counts summed, the first ROW_LIMIT
    failing rows in row_id order (with their values), the first exception."""

    success: bool = True
    failing: int = 0
    rows: int = 0
    elements: int = 0  # rows GX judged (after a row_condition)
    missing: int = 0
    found: list[tuple[dict | None, Any]] = field(default_factory=list)  # (row_id values, value)
    exception: str | None = None
    table_level: tuple[int, list[dict], list[Any]] | None = None  # failing, rows, samples

    def add(self, exp: dict, result, frame: pd.DataFrame, row_id: list[str]) -> None:
        self.rows += len(frame)
        if result is None:  # cannot happen once the count check passed; kept as a loud failure
            self.exception = self.exception or "检查程序未返回该项的结果"
            self.success = False
            return
        info = result.exception_info or {}
        if info.get("raised_exception"):
            self.exception = self.exception or str(info.get("exception_message"))
            self.success = False
            return
        res = result.result or {}
        self.elements += int(res.get("element_count") or 0)
        self.missing += int(res.get("missing_count") or 0)
        if result.success:
            return
        self.success = False
        if "unexpected_count" in res:
            self.failing += int(res["unexpected_count"])
            index = res.get("partial_unexpected_index_list") or []
            values = list(res.get("partial_unexpected_list") or [])
            rows = [{k: e.get(k) for k in row_id} if isinstance(e, dict) else None for e in index]
            rows += [None] * (len(values) - len(rows))
            values += [None] * (len(rows) - len(values))
            found = self.found + list(zip(rows, values, strict=True))
            self.found = sorted(found, key=lambda f: _row_order(f[0]))[:ROW_LIMIT]
            return
        # a table-level expectation (never chunked): the frame's rows are what it is about
        observed = res.get("observed_value")
        failing = max(1, len(frame)) if exp["type"].startswith("expect_table_row_count") else 1
        if isinstance(observed, int) and observed > 0:
            failing = observed
        shown = frame[row_id].head(SAMPLE_LIMIT).to_dict("records") if row_id else []
        self.table_level = (failing, shown, [observed])

    def docs_summary(self, row_id: list[str]) -> dict:
        """The GX SUMMARY result of the whole frame, for Data Docs."""
        values = [v for _, v in self.found]
        elements, unexpected = self.elements, self.failing
        nonnull = elements - self.missing
        percent = unexpected / nonnull * 100 if nonnull else None
        try:
            hashable = [tuple(v.values()) if isinstance(v, dict) else v for v in values]
            counts = [
                {"value": value, "count": count}
                for value, count in sorted(
                    Counter(hashable).most_common(ROW_LIMIT), key=lambda x: (-x[1], x[0])
                )
            ]
        except TypeError:
            counts = [{"error": "partial_exception_counts requires a hashable type"}]
        return {
            "element_count": elements,
            "unexpected_count": unexpected,
            "unexpected_percent": percent,
            "partial_unexpected_list": values,
            "unexpected_index_column_names": row_id,
            "missing_count": self.missing,
            "missing_percent": self.missing / elements * 100 if elements else None,
            "unexpected_percent_total": unexpected / elements * 100 if elements else None,
            "unexpected_percent_nonmissing": percent,
            "partial_unexpected_counts": counts,
            "partial_unexpected_index_list": [row for row, _ in self.found if row is not None],
        }


def passed_outcomes(suite: Suite, rows: int) -> list[Outcome]:
    """Every expectation of the suite passed on a frame of `rows` rows (as `validate` reports
    a frame without a failing row)."""
    return [
        _outcome(suite, exp, _Tally(rows=rows), list(suite.row_id)) for exp in suite.expectations
    ]


def _outcome(suite: Suite, exp: dict, tally: _Tally, row_id: list[str]) -> Outcome:
    meta = exp["meta"]
    common = {
        "suite": suite.name,
        "check_id": meta["check_id"],
        "type": exp["type"],
        "column": exp["kwargs"].get("column"),
        "description_zh": meta["description_zh"],
        "severity": meta["severity"],
        "rows_checked": tally.rows,
        "row_id": tuple(row_id),
        "kwargs": exp["kwargs"],
    }
    if tally.exception is not None:
        if tally.exception == "检查程序未返回该项的结果":
            return Outcome(**common, success=False, failing=1, failing_rows=[], samples=[],
                           exception=tally.exception)  # fmt: skip
        common["severity"] = "error"
        return Outcome(**common, success=False, failing=1, failing_rows=[], samples=[],
                       exception=tally.exception)  # fmt: skip
    if tally.success:
        return Outcome(**common, success=True, failing=0, failing_rows=[], samples=[])
    if tally.table_level is not None:
        failing, shown, samples = tally.table_level
        failing_rows = [{k: _plain(v) for k, v in row.items()} for row in shown]
        return Outcome(**common, success=False, failing=failing, failing_rows=failing_rows,
                       samples=[_plain(v) for v in samples])  # fmt: skip
    failing_rows = [{k: _plain(v) for k, v in row.items()} for row, _ in tally.found if row]
    samples = [_plain(v) for _, v in tally.found[:SAMPLE_LIMIT]]
    return Outcome(
        **common, success=False, failing=tally.failing, failing_rows=failing_rows, samples=samples
    )


def _plain(value: Any) -> Any:
    """JSON-friendly values (GX hands back numpy scalars, timestamps and strings of numbers)."""
    import pandas as pd

    if value is None or (not isinstance(value, list | tuple | dict) and pd.isna(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        if value in ("NaT", "nan", "None"):
            return None
        if value.endswith(" 00:00:00"):
            return value[: -len(" 00:00:00")]
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)


# --- files validated once per content -------------------------------------------------------
# A suite declared `per_file` (PerFile) holds per file: a file whose rows passed every one of
# its expectations — warnings too — is not validated again while the suites, the rules, the
# reference data, the SQL models and the code stay the same (`validation_fingerprint`). Its
# rows can fail nothing a full validation would report: the results, messages and failing
# rows of a night are those of a full validation, and `rows_checked` counts the skipped rows
# too (recorded when the file passed). A file with any failing row is validated every night.
# Cross-file rules stay in suites without `per_file`, which see every row every night.

VALIDATED_DDL = """create table if not exists meta.files_validated (
    suite varchar not null,
    value varchar not null,  -- the file, as the suite's per_file column names it
    fingerprint varchar not null,  -- validation_fingerprint when it passed
    rows bigint not null,  -- its rows in the suite's frame
    validated_at timestamp not null,
    primary key (suite, value, fingerprint)
)"""
PENDING_DDL = """create table if not exists meta.files_validated_pending (
    suite varchar not null,
    value varchar not null,
    fingerprint varchar not null,
    rows bigint not null
)"""


def validation_fingerprint(con: duckdb.DuckDBPyConnection, suites: Sequence[Suite]) -> str:
    """Changes whenever a suite, a SQL model, the code, a reference seed or the rules change
    (the rules and seeds as loaded into the working database: `meta.build_inputs`)."""
    from employment_eval.nochange import CODE_DIRS, tree_digest
    from employment_eval.paths import SQL_DIR

    digest = hashlib.sha256(b"employment-eval validation v2\n")
    with contextlib.suppress(duckdb.Error):  # no build yet: nothing was validated either
        for row in con.execute(
            "select name, fingerprint from meta.build_inputs order by name"
        ).fetchall():
            digest.update(f"{row[0]}\0{row[1]}\n".encode())
    for suite in sorted(suites, key=lambda s: s.name):
        digest.update(f"suite\0{suite.name}\0{suite.path.name}\n".encode())
        digest.update(suite.path.read_bytes())
    tree_digest(digest, SQL_DIR, "*.sql")
    for folder in CODE_DIRS:
        tree_digest(digest, folder, "*.py")
    return digest.hexdigest()[:32]


def prepare_already_validated(
    con: duckdb.DuckDBPyConnection, suites: Sequence[Suite] | None = None
) -> str:
    """The temp view `already_validated (suite, value, rows)` that per-file suites skip: the
    files that passed under this fingerprint and are in the frame tonight. Returns the
    fingerprint."""
    suites = load_suites() if suites is None else suites
    con.execute("create schema if not exists meta")
    con.execute("drop table if exists meta.validated_files")  # v1: files only, no rows
    con.execute(VALIDATED_DDL)
    con.execute(PENDING_DDL)
    con.execute("delete from meta.files_validated_pending")
    fingerprint = validation_fingerprint(con, suites)
    parts = [
        f"select suite, value, rows from meta.files_validated where suite = "
        f"'{_sql_text(s.name)}' and fingerprint = '{fingerprint}' and value in "
        f"(select * from ({s.per_file.files}) as files)"
        for s in suites
        if s.per_file is not None
    ]
    body = " union all ".join(parts) or (
        "select null::varchar as suite, null::varchar as value, null::bigint as rows limit 0"
    )
    con.execute(f"create or replace temp view already_validated as {body}")
    return fingerprint


def skipped_rows(con: duckdb.DuckDBPyConnection, suite: Suite) -> int:
    """Rows of the suite's frame in files not validated again tonight."""
    if suite.per_file is None:
        return 0
    try:
        row = con.execute(
            "select coalesce(sum(rows), 0) from already_validated where suite = ?", [suite.name]
        ).fetchall()[0]
    except duckdb.Error as exc:
        raise _suite_error(suite, exc) from exc
    return int(row[0])


class FileLedger:
    """The files of a per-file suite's frame tonight, their rows, and which of them passed
    every expectation (read from DuckDB: the rows per file counted when GX's rows were
    chosen — gate_rows — or by a query of their own; the file of a failing row looked up)."""

    def __init__(
        self, suite: Suite, con: duckdb.DuckDBPyConnection, count: gate_rows.FrameCount
    ) -> None:
        assert suite.per_file is not None
        self.suite, self.con, self.count = suite, con, count

    def _query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        try:
            return self.con.execute(sql, parameters or []).fetchall()
        except duckdb.Error as exc:
            raise _suite_error(self.suite, exc) from exc

    def rows(self) -> Counter[str]:
        if self.count.narrowed:
            return self.count.per_file
        column = _quote(self.suite.per_file.column)
        frame = frame_query(self.suite, [self.suite.per_file.column])
        return Counter(
            {str(f): int(n) for f, n in self._query(f"select {column}, count(*) from ({frame}) "
                                                    "as frame group by 1")}
        )  # fmt: skip

    def passed(self, outcomes: Sequence[Outcome]) -> dict[str, int]:
        """{file: rows} of the files none of whose rows failed (every failing row must be
        listed to tell; when some were left out, no file counts as passed)."""
        head = self.suite.row_id[0]
        heads: set[Any] = set()
        for o in outcomes:
            if o.success:
                continue
            if o.exception is not None or o.failing > len(o.failing_rows):
                return {}
            for row in o.failing_rows:
                if head not in row:
                    return {}
                heads.add(row[head])
        rows = self.rows()
        failed: set[str] = set()
        if heads:  # the files those rows are in (a null: every file)
            if None in heads:
                return {}
            frame = frame_query(self.suite, [head, self.suite.per_file.column])
            found = self._query(
                f"select distinct {_quote(self.suite.per_file.column)} from ({frame}) as frame "
                f"where {_quote(head)} in (select unnest(?))",
                [sorted(heads, key=str)],
            )
            failed = {str(f) for (f,) in found}
        return {f: n for f, n in rows.items() if f not in failed}


def record_passed(
    con: duckdb.DuckDBPyConnection, suite: Suite, passed: dict[str, int], fingerprint: str
) -> None:
    """Files that passed tonight, marked validated once the run publishes (mark_validated)."""
    if passed:
        con.executemany(
            "insert into meta.files_validated_pending values (?, ?, ?, ?)",
            [(suite.name, value, fingerprint, rows) for value, rows in passed.items()],
        )


def mark_validated(con: duckdb.DuckDBPyConnection) -> None:
    """After a publish: the files that passed this run's per-file suites."""
    con.execute("create schema if not exists meta")
    con.execute(VALIDATED_DDL)
    con.execute(PENDING_DDL)
    con.execute(
        "insert or replace into meta.files_validated "
        "select suite, value, fingerprint, max(rows), now()::timestamp "
        "from meta.files_validated_pending group by all"
    )
    con.execute("delete from meta.files_validated_pending")
