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
query turned into a pandas frame and validated through GX's pandas datasource in an ephemeral
context (GX's SQLAlchemy path on DuckDB is not used). An error-level failure blocks publishing,
a warning is reported. `great_expectations` is imported only here, inside the functions (the
import costs seconds).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from employment_eval.paths import EXPECTATIONS_DIR

SEVERITIES = ("error", "warning")
LAYERS = ("staging", "marts", "published")
BUILTIN_FRAMES = ("published_columns",)
GX_SEVERITY = {"error": "critical", "warning": "warning"}
CANDIDATE = "audit_candidate"  # catalog name of the candidate in `published` frames
SAMPLE_LIMIT = 50  # sample values per expectation kept in the report


class SuiteError(Exception):
    """A suite file that cannot be used (bad JSON, unknown expectation, missing field)."""


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

    def expectation(self, check_id: str) -> dict:
        return next(e for e in self.expectations if e["meta"]["check_id"] == check_id)


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
    )


# -- frames ------------------------------------------------------------------------------------


def suite_frame(suite: Suite, con: duckdb.DuckDBPyConnection):
    """The pandas frame a suite validates, read with `con` (chosen by the suite's layer)."""
    if suite.frame == "published_columns":
        return published_columns(con, suite.personal_values or "select null::varchar as value")
    return con.sql(suite.query).df()


def suite_parameters(suite: Suite, con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    return {
        name: [row[0] for row in con.execute(query).fetchall()]
        for name, query in suite.parameters.items()
    }


def published_columns(con: duckdb.DuckDBPyConnection, personal_values: str):
    """One row per column of every table in the attached candidate (catalog CANDIDATE), with the
    number of its values that equal a student number or name found in the working database."""
    con.execute(
        "create or replace temp table quality_personal_values as "
        f"select distinct value from ({personal_values}) as v(value) "
        "where value is not null and trim(value) <> ''"
    )
    columns = con.execute(
        """select schema_name, table_name, column_name, data_type from duckdb_columns()
        where database_name = ? order by all""",
        [CANDIDATE],
    ).fetchall()
    rows = []
    for schema, table, column, data_type in columns:
        count = None
        if data_type == "VARCHAR":
            count = con.execute(
                f'select count(*) from {CANDIDATE}."{schema}"."{table}" '
                f'where "{column}" in (select value from quality_personal_values)'
            ).fetchall()[0][0]
        rows.append((schema, table, column, data_type, count))
    con.execute("drop table quality_personal_values")
    import pandas as pd

    return pd.DataFrame(
        rows,
        columns=["schema_name", "table_name", "column_name", "data_type", "personal_values"],
    ).astype({"personal_values": "Int64"})


# -- validation --------------------------------------------------------------------------------


def build_expectation_suite(suite: Suite):
    """The GX suite of a suite file; its expectation count must equal the file's."""
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
            f"GX 只加载了 {len(gx_suite.expectations)} 个"
        )
    return gx_suite


class Validator:
    """An ephemeral GX context that validates frames and, at the end, writes Data Docs."""

    def __init__(self, docs_dir: Path | None = None):
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

    def validate(self, suite: Suite, frame, parameters: dict[str, list]) -> list[Outcome]:
        gx = self._gx
        gx_suite = self.context.suites.add(build_expectation_suite(suite))
        asset = self.datasource.add_dataframe_asset(suite.name)
        batch = asset.add_batch_definition_whole_dataframe(suite.name)
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
        )
        row_id = [c for c in suite.row_id if c in frame.columns]
        result = definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": row_id,
                "partial_unexpected_count": SAMPLE_LIMIT,
                "return_unexpected_index_query": False,
            },
        )
        by_id = {r.expectation_config.meta["check_id"]: r for r in result.results}
        return [
            _outcome(suite, exp, by_id.get(exp["meta"]["check_id"]), frame, row_id)
            for exp in suite.expectations
        ]

    def build_docs(self) -> Path | None:
        if self.docs_dir is None:
            return None
        self.context.build_data_docs(site_names=["employment_eval"])
        return self.docs_dir / "index.html"


def _outcome(suite: Suite, exp: dict, result, frame, row_id: list[str]) -> Outcome:
    meta = exp["meta"]
    common = {
        "suite": suite.name,
        "check_id": meta["check_id"],
        "type": exp["type"],
        "column": exp["kwargs"].get("column"),
        "description_zh": meta["description_zh"],
        "severity": meta["severity"],
        "rows_checked": len(frame),
        "row_id": tuple(row_id),
        "kwargs": exp["kwargs"],
    }
    if result is None:  # cannot happen once the count check passed; kept as a loud failure
        return Outcome(**common, success=False, failing=1, failing_rows=[], samples=[],
                       exception="GX 未返回该期望的结果")  # fmt: skip
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return Outcome(**common, severity="error", success=False, failing=1, failing_rows=[],
                       samples=[], exception=str(info.get("exception_message")))  # fmt: skip
    res = result.result or {}
    if result.success:
        return Outcome(**common, success=True, failing=0, failing_rows=[], samples=[])
    if "unexpected_count" in res:
        failing = int(res["unexpected_count"])
        failing_rows = [
            {k: _plain(entry.get(k)) for k in row_id}
            for entry in res.get("unexpected_index_list") or []
            if isinstance(entry, dict)
        ]
        samples = [_plain(v) for v in (res.get("unexpected_list") or [])[:SAMPLE_LIMIT]]
    else:  # a table-level expectation: the frame's rows are what it is about
        observed = res.get("observed_value")
        failing = max(1, len(frame)) if exp["type"].startswith("expect_table_row_count") else 1
        if isinstance(observed, int) and observed > 0:
            failing = observed
        failing_rows = [
            {k: _plain(v) for k, v in row.items()}
            for row in frame[row_id].head(SAMPLE_LIMIT).to_dict("records")
        ] if row_id else []  # fmt: skip
        samples = [_plain(observed)]
    return Outcome(
        **common, success=False, failing=failing, failing_rows=failing_rows, samples=samples
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


# --- per-export validation, once per content -------------------------------------------------
# The rules of the stg_registrations suite hold per export file, so an export whose content
# already passed it (with the same suites and the same reference data) is not validated again
# on later nights: the nightly cost does not grow with the number of stored exports.

VALIDATED_DDL = """create table if not exists meta.validated_files (
    file_sha256 varchar not null,
    fingerprint varchar not null,
    validated_at timestamp not null,
    primary key (file_sha256, fingerprint)
)"""


def validation_fingerprint(directory: Path = EXPECTATIONS_DIR) -> str:
    """Changes whenever a suite or a reference seed changes."""
    from employment_eval.reference import Reference

    digest = hashlib.sha256(Reference().fingerprint.encode())
    for path in sorted(directory.glob("*.json")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def prepare_already_validated(con: duckdb.DuckDBPyConnection) -> None:
    """The temp view `already_validated` that the staging suite reads."""
    con.execute("create schema if not exists meta")
    con.execute(VALIDATED_DDL)
    fingerprint = validation_fingerprint()
    con.execute(
        "create or replace temp view already_validated as select file_sha256 "
        f"from meta.validated_files where fingerprint = '{fingerprint}'"
    )


def mark_validated(con: duckdb.DuckDBPyConnection) -> None:
    """After a publish: this run's exports passed every suite."""
    con.execute(VALIDATED_DDL)
    con.execute(
        "insert or ignore into meta.validated_files "
        "select distinct file_sha256, ?, now()::timestamp from staging.stg_exports",
        [validation_fingerprint()],
    )
