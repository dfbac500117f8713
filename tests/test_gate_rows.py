"""The rows GX must see, chosen by DuckDB (gate_rows): on the rows that may fail, GX gives
exactly the outcomes it gives on the whole frame — counts, failing rows, samples, exceptions —
and rows_checked is the whole frame's. Checked on every suite of the planted season of
test_audit_chunks, and on a frame built to sit on every edge of the narrowed predicates
(nulls, empty and quoted text, equal dates, duplicates with nulls, hash buckets)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from test_audit_chunks import SUITES, built, planted  # noqa: F401  (fixtures)

from employment_eval import audit, gate_rows, publish, quality


def _both(suite: quality.Suite, con) -> tuple[list, list, gate_rows.FrameCount]:
    """The suite validated on its whole frame, and by the gate on the rows DuckDB chose
    (GX not at all when none is left); each in a new GX context (it validates a suite once)."""
    parameters = quality.suite_parameters(suite, con)
    tables = quality.suite_tables(suite, con, 1000)
    whole = quality.Validator().validate(suite, tables, parameters)
    count = gate_rows.FrameCount()
    tables = quality.suite_tables(suite, con, 1000, parameters=parameters, count=count)
    narrowed = audit._Gate(quality.Validator()).validate(suite, tables, parameters, count)
    return whole, audit._whole_rows(narrowed, count, 0), count


def test_every_suite_gives_the_whole_frames_outcomes(planted) -> None:  # noqa: F811
    con, opts = planted
    quality.prepare_already_validated(con)
    candidate = publish.export_candidate(con, opts.marts_path, "narrow")
    cand = publish.open_published(candidate)
    narrowed = []
    try:
        for suite in SUITES.values():
            if suite.frame is not None or suite.layer == "published":
                continue
            on = con if suite.layer == "staging" else cand
            whole, chosen, count = _both(suite, on)
            assert chosen == whole, suite.name
            if count.narrowed:
                narrowed.append(suite.name)
    finally:
        cand.close()
        publish.discard(candidate)
    assert "stg_registrations" in narrowed  # the large frame is narrowed
    registrations = {o.check_id: o for o in _both(SUITES["stg_registrations"], con)[1]}
    assert registrations["one_row_per_student"].failing > 0  # duplicates across the chunks
    assert registrations["degree_in_reference"].failing > quality.ROW_LIMIT


def test_only_the_rows_that_may_fail_are_handed_over(planted) -> None:  # noqa: F811
    con, _ = planted
    quality.prepare_already_validated(con)
    suite = SUITES["stg_registrations"]
    parameters = quality.suite_parameters(suite, con)
    count = gate_rows.FrameCount()
    tables = list(quality.suite_tables(suite, con, 10**9, parameters=parameters, count=count))
    total = con.execute("select count(*) from staging.stg_registrations").fetchone()[0]
    handed = sum(t.num_rows for t in tables)
    assert count.narrowed and count.rows == total
    assert 0 < handed < total / 5
    assert sum(count.per_file.values()) == total


A_HAIR = "0.00000000000000000001"  # 1e-20: exact in DECIMAL(38, 20), nothing as a float
EDGE_ROWS = f"""
create or replace table edge as
select * replace (r::decimal(38, 20) as r, x::double as x) from (values
    ('a.csv', 1, 'k1', 'x', 1, date '2021-06-01', date '2021-06-01', true, '1.0', '0.5'),
    ('a.csv', 2, 'k2', null, 2, date '2021-06-01', date '2021-06-02', true, '0.0', 'nan'),
    ('a.csv', 3, 'k2', '', 3, null, date '2021-06-02', false, '1{A_HAIR[1:]}', '1'),
    ('a.csv', 4, null, 'it''s', null, date '2021-06-03', null, null, null, null),
    ('a.csv', 5, null, 'y ', 5, date '2021-06-03', date '2021-06-01', true, '-{A_HAIR}', '2'),
    ('b.csv', 1, 'k1', 'y', 7, date '2021-07-01', date '2021-07-01', false, '0.{"9" * 20}', '3'),
    ('b.csv', 2, 'k3', 'X', 1, date '2021-07-01', date '2021-06-30', true, '1.5', 'inf'),
    ('b.csv', 3, 'k4', 'z', 9, date '2021-07-01', date '2021-07-02', true, '0.3', '-1')
) as t(source_file, source_row, student, code, n, as_of, checked, flag, r, x)
"""
EDGE_SUITE = {
    "name": "edge",
    "layer": "staging",
    "description_zh": "边界：逐行与唯一性",
    "query": "select * from edge",
    "row_id": ["source_file", "source_row"],
    "parameters": {"codes": "select unnest(['x', 'y', 'it''s', ''])"},
    "expectations": [
        {"type": "expect_compound_columns_to_be_unique",
         "kwargs": {"column_list": ["source_file", "student"]}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "student"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "code"}},
        {"type": "expect_column_values_to_not_be_null",
         "kwargs": {"column": "checked", "row_condition": "flag == True",
                    "condition_parser": "pandas"}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "code", "value_set": {"$PARAMETER": "codes"}}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "n", "value_set": [1, 2, 3, 5]}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "code", "value_set": []}},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b",
         "kwargs": {"column_A": "as_of", "column_B": "checked", "or_equal": True,
                    "ignore_row_if": "either_value_is_missing"}},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b",
         "kwargs": {"column_A": "as_of", "column_B": "checked"}},
        {"type": "expect_column_values_to_be_between",  # decimals as floats at the bounds
         "kwargs": {"column": "r", "min_value": 0, "max_value": 1}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "r", "min_value": 0, "max_value": 1, "strict_max": True,
                    "strict_min": True}},
        {"type": "expect_column_values_to_be_between",  # NaN and infinity
         "kwargs": {"column": "x", "min_value": 0.5}},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b",  # decimal against int
         "kwargs": {"column_A": "n", "column_B": "r", "or_equal": True}},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b",  # double against decimal
         "kwargs": {"column_A": "x", "column_B": "r", "ignore_row_if": "either_value_is_missing"}},
        {"type": "expect_column_pair_values_to_be_equal",
         "kwargs": {"column_A": "n", "column_B": "r", "ignore_row_if": "neither"}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "flag", "value_set": [True]}},
    ],
}  # fmt: skip


def _edge_suite(tmp_path: Path, expectations: list[dict]) -> quality.Suite:
    data = {**EDGE_SUITE, "expectations": []}
    for i, exp in enumerate(expectations):
        meta = {"check_id": f"e{i}", "severity": "error", "description_zh": f"边界 {i}"}
        data["expectations"].append({**exp, "meta": meta})
    (tmp_path / "edge.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return quality.load_suites(tmp_path)[0]


def test_the_edges_of_the_predicates(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute(EDGE_ROWS)
    suite = _edge_suite(tmp_path, EDGE_SUITE["expectations"])
    whole, chosen, count = _both(suite, con)
    assert count.narrowed and count.rows == 8
    assert chosen == whole
    # GX's own counts: duplicates with null keys, nulls ignored by in-set, a row with one date
    # missing, a decimal a hair above 1 that is 1.0 as GX's float (passes), one a hair below 0
    assert [o.failing for o in whole] == [4, 4, 1, 0, 3, 2, 7, 2, 6, 2, 6, 1, 1, 3, 1, 2]


def test_equal_numbers_gx_sees_as_equal_floats_are_not_handed_over(tmp_path: Path) -> None:
    """An integer equal to a decimal (1 = 1.0, proved through the frames' own conversion),
    a decimal equal to itself, and a null where the expectation ignores missing values all
    pass in GX: only the row where 1 < 1.5 is handed over."""
    con = duckdb.connect()
    con.execute(EDGE_ROWS)
    pair = "expect_column_pair_values_a_to_be_greater_than_b"
    suite = _edge_suite(
        tmp_path,
        [
            {"type": pair, "kwargs": {"column_A": "n", "column_B": "r", "or_equal": True,
                                      "ignore_row_if": "either_value_is_missing"}},
            {"type": pair, "kwargs": {"column_A": "r", "column_B": "r", "or_equal": True,
                                      "ignore_row_if": "either_value_is_missing"}},
        ],
    )  # fmt: skip
    whole, chosen, count = _both(suite, con)
    assert count.narrowed and chosen == whole
    assert [o.failing for o in whole] == [1, 0]
    tables = quality.suite_tables(suite, con, 10**9, parameters={}, count=gate_rows.FrameCount())
    handed = [row for t in tables for row in t.to_pylist()]
    assert [(r["source_file"], r["source_row"]) for r in handed] == [("b.csv", 2)]


@pytest.mark.parametrize(
    "expectation",
    [
        {"type": "expect_column_values_to_be_in_set",  # an integer column, text values
         "kwargs": {"column": "n", "value_set": ["1", "2"]}},
        {"type": "expect_column_value_lengths_to_be_between",  # not narrowed at all
         "kwargs": {"column": "code", "min_value": 0, "max_value": 5}},
        {"type": "expect_column_values_to_be_between",  # a bound that is not a number
         "kwargs": {"column": "n", "min_value": "0"}},
        {"type": "expect_column_pair_values_to_be_equal",  # floats are not narrowed
         "kwargs": {"column_A": "x", "column_B": "x"}},
        {"type": "expect_column_values_to_not_be_null",  # an argument it does not know
         "kwargs": {"column": "code", "mostly": 1.0}},
    ],
)  # fmt: skip
def test_what_cannot_be_narrowed_exactly_is_validated_whole(
    tmp_path: Path, expectation: dict
) -> None:
    con = duckdb.connect()
    con.execute(EDGE_ROWS)
    suite = _edge_suite(tmp_path, [expectation])
    whole, chosen, count = _both(suite, con)
    assert not count.narrowed
    assert chosen == whole


def test_the_gate_equals_gx_on_every_whole_frame(planted, monkeypatch, tmp_path) -> None:  # noqa: F811
    """The whole audit — suites whose frames DuckDB narrows, those with nothing left for GX
    (their results reported as passed, their empty frames validated for Data Docs) — gives
    the results and the message of GX on every whole frame."""
    con, opts = planted

    def gate(docs: Path):
        with pytest.raises(audit.AuditError) as info:
            audit.audit_candidate(con, opts, None, data_docs=True, chunk_rows=1000)
        assert (audit.report_dir(opts) / "data_docs" / "index.html").exists()
        shutil.copytree(audit.report_dir(opts) / "data_docs", docs)
        return info.value.results, str(info.value).rsplit("\n", 2)[0]

    narrowed = gate(tmp_path / "narrowed")
    monkeypatch.setattr(gate_rows, "predicates", lambda *a: None)  # GX on every whole frame
    whole = gate(tmp_path / "whole")
    assert narrowed == whole
    # Data Docs hold a result of every suite either way
    for docs in ("narrowed", "whole"):
        shown = {p.name for p in (tmp_path / docs / "validations").iterdir()}
        assert shown == set(SUITES), docs
