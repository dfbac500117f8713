"""A replay is exact: publishing the season's nights in order and then replaying each of them
gives, table by table, what that night published. The committee's adjustments and decisions
are dated: one dated after --as-of is not applied that night, and the marts say how many such
later decisions there are (marts.year_standing)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from ingest_helpers import writable_copy

from employment_eval import failures
from flows.nightly_refresh import nightly_refresh

NIGHTS = (
    dt.date(2021, 8, 20),
    dt.date(2021, 12, 1),  # before the committee's decisions (dated 20 Dec)
    dt.date(2021, 12, 20),
)
RUN_COLUMNS = {"run_id", "generated_at", "code_version"}  # what differs between two runs


def published_tables(marts: Path) -> dict[str, list[tuple]]:
    """Every table of the published file, rows in order, without what names the run itself
    (its id, the time it ran: marts.run_info and input_files' run_id)."""
    con = duckdb.connect(str(marts), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() order by all"
        ).fetchall()
        out = {}
        for schema, table in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? "
                    "and table_name = ? order by column_index",
                    [schema, table],
                ).fetchall()
                if c not in RUN_COLUMNS
            ]
            out[f"{schema}.{table}"] = con.execute(
                f"select {', '.join(columns)} from {schema}.{table} order by all"
            ).fetchall()
        return out
    finally:
        con.close()


@pytest.fixture()
def place(tmp_path: Path, sample_raw: Path) -> dict[str, Path]:
    raw = tmp_path / "raw"
    writable_copy(sample_raw, raw)
    return {
        "raw": raw,
        "marts": tmp_path / "marts" / "employment.duckdb",
        "work": tmp_path / "work" / "warehouse.duckdb",
    }


def refresh(place: dict[str, Path], as_of: dt.date) -> None:
    with failures.unwrapped():
        nightly_refresh(
            str(place["raw"]), str(place["marts"]), str(place["work"]), 2021, as_of,
            allow_older=True, force=True,
        )  # fmt: skip


def test_replaying_each_night_gives_what_that_night_published(place) -> None:
    published = {}
    for night in NIGHTS:  # the season, night after night
        refresh(place, night)
        published[night] = published_tables(place["marts"])
    for night in reversed(NIGHTS):  # then each night again, latest first
        refresh(place, night)
        replayed = published_tables(place["marts"])
        assert replayed.keys() == published[night].keys()
        different = [t for t in replayed if replayed[t] != published[night][t]]
        assert not different, (night, different)

    # the committee decides on 20 December: on the 1st its decisions are counted, not applied
    before, after = published[dt.date(2021, 12, 1)], published[dt.date(2021, 12, 20)]
    (later_before,) = [r[-2] for r in before["marts.year_standing"]]
    (later_after,) = [r[-2] for r in after["marts.year_standing"]]
    assert later_before == 3 and later_after == 0
    assert before["marts.scoreboard"] != after["marts.scoreboard"]


def test_a_later_decision_is_said_and_a_pending_tie_keeps_the_year_provisional(place) -> None:
    """The season's decisions re-dated to 22 December: on the 20th (every node covered, the
    ledger complete) the tie is pending, which is the only reason the year is provisional."""
    (adjustments,) = (place["raw"] / "adjustments").iterdir()
    text = adjustments.read_text("utf-8-sig")
    adjustments.write_text(text.replace("2021-12-20", "2021-12-22"), "utf-8-sig")
    refresh(place, dt.date(2021, 12, 20))
    con = duckdb.connect(str(place["marts"]), read_only=True)
    try:
        status, reasons, later, note = con.execute(
            "select status, provisional_reasons, later_decisions, later_decisions_note "
            "from marts.year_standing"
        ).fetchone()
        labels = con.execute(
            "select short_name, standing_label, decision_note from marts.unit_standing "
            "where tie_at_cutoff order by short_name"
        ).fetchall()
        adjusted = con.execute(
            "select count(*) from marts.indicator_scores where adjusted"
        ).fetchone()[0]
    finally:
        con.close()
    assert status == "provisional"
    assert reasons == "附属专科医院名额线并列（胸科、精总），待学指委决定"
    assert later == 3
    assert note == "另有 3 项学指委调整或决定的日期晚于评估日期 2021-12-20，本次评估未采用"
    assert labels == [
        ("精总", "名额线并列，待学指委决定", None),
        ("胸科", "名额线并列，待学指委决定", None),
    ]
    assert adjusted == 0
