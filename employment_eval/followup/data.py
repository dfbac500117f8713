"""What a unit's follow-up list shows, read from the working database (personal data): the
graduates to follow up (intermediate.int_followup_graduates), the unit's gap per degree to the
next node (marts.progress) and its sentence for today (marts.unit_sheet), and the note each
graduate carries from the lists the unit returned (followup.notes; see `returned`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb

from employment_eval.render.yearend.data import DEGREE_ORDER

# what is missing (int_followup_graduates.missing_kind): (label, what to do), in list order
MISSING = {
    "verification": (
        "待鉴证",
        "毕业去向计入就业率，但尚未鉴证（或鉴证日期晚于导出日期）：请督促尽快完成鉴证。",
    ),
    "registration": (
        "未登记去向",
        "尚未登记任何毕业去向（待就业）：请跟进落实去向并及时登记。",
    ),
    "destination": (
        "去向不计入就业率",
        "已登记的去向不计入就业率（如不就业拟升学、其他暂不就业）：请核实，有新去向时及时更新登记。",
    ),
}
MISSING_ORDER = tuple(MISSING)


@dataclass(frozen=True)
class Graduate:
    student_id: str
    name: str
    degree: str
    missing_kind: str  # verification / registration / destination
    missing_since: dt.date  # the first export of the unbroken run of that state
    destination_code: str
    destination_label: str
    employer: str
    is_verified: bool
    verification_date: dt.date | None
    last_changed_on: dt.date | None
    counted_at_node: dt.date | None  # counted at the last node, not any more
    change_note: str  # since the previous export ('' when unchanged or no previous export)
    note: str = ""  # 跟进记录 carried from the latest returned list ('' when none)
    note_list_date: dt.date | None = None  # the 评估日期 of the list it came back on
    changed_since_note: bool = False  # the record changed after that list's export

    @property
    def missing_label(self) -> str:
        return MISSING[self.missing_kind][0]


@dataclass(frozen=True)
class DegreeGap:
    """A degree of the unit against the next node (a row of marts.progress)."""

    degree: str
    next_node: dt.date
    target: Decimal
    graduates: int
    employed: int
    required: int
    gap: int
    pending: int
    verification_closes: int  # min(gap, pending): what verification alone would close
    gap_after: int  # max(0, gap − pending)


@dataclass(frozen=True)
class UnitList:
    code: str
    name: str
    short_name: str
    graduates: tuple[Graduate, ...]
    gaps: tuple[DegreeGap, ...] = ()  # empty after the year's last node
    today_note: str = ""  # marts.unit_sheet

    def missing(self, kind: str) -> list[Graduate]:
        return [g for g in self.graduates if g.missing_kind == kind]


@dataclass(frozen=True)
class Header:
    """What every file says about itself (no personal data)."""

    year: int
    as_of: dt.date
    latest_export: dt.date | None
    previous_export: dt.date | None
    last_node: dt.date | None  # the last node on or before --as-of
    run_id: str
    generated_at: dt.datetime | None


_GRADUATES = """
with notes as (
    select
        notes.unit_code,
        notes.student_id,
        notes.note,
        files.list_date,
        files.list_export_date
    from followup.notes as notes
    inner join followup.returned_files as files on notes.file_sha256 = files.file_sha256
    where files.year = $year and files.list_date <= $as_of
    qualify row_number() over (
        partition by notes.unit_code, notes.student_id
        order by files.list_date desc, files.saved_at desc nulls last, files.source_file desc
    ) = 1
)
select g.unit_code, g.student_id, g.student_name, g.degree, g.missing_kind, g.missing_since,
       g.destination_code, g.destination_label, g.employer_name, g.is_verified,
       g.verification_date, g.last_changed_on, g.counted_at_node, g.change_note, g.as_of_date,
       g.previous_export_date, notes.note, notes.list_date,
       coalesce(g.last_changed_on > notes.list_export_date, false) as changed_since_note
from intermediate.int_followup_graduates as g
left join notes on g.unit_code = notes.unit_code and g.student_id = notes.student_id
where g.year = $year
"""


def read_lists(
    con: duckdb.DuckDBPyConnection, year: int, as_of: dt.date
) -> tuple[dt.date | None, dt.date | None, list[UnitList]]:
    """(latest export, previous export, every unit of the reference data with its graduates to
    follow up, its gaps and its sentence for today)."""
    units = con.execute(
        "select unit_code, unit_name, short_name from reference.units order by sort_order"
    ).fetchall()
    cur = con.execute(_GRADUATES, {"year": year, "as_of": as_of})
    by_unit: dict[str, list[Graduate]] = {}
    latest: dt.date | None = None
    previous: dt.date | None = None
    for row in cur.fetchall():
        latest, previous = row[14], row[15]
        note = row[16] or ""
        by_unit.setdefault(row[0], []).append(
            Graduate(
                student_id=row[1] or "",
                name=row[2] or "",
                degree=row[3],
                missing_kind=row[4],
                missing_since=row[5],
                destination_code=row[6] or "",
                destination_label=row[7] or "",
                employer=row[8] or "",
                is_verified=bool(row[9]),
                verification_date=row[10],
                last_changed_on=row[11],
                counted_at_node=row[12],
                change_note=row[13] or "",
                note=note,
                note_list_date=row[17] if note else None,
                changed_since_note=bool(row[18]) and bool(note),
            )
        )
    if latest is None:
        found = con.execute(
            "select max(as_of_date) from intermediate.int_graduates where year = ?", [year]
        ).fetchone()
        latest = found[0] if found else None
    gaps = _gaps(con, year)
    notes = dict(
        con.execute(
            "select unit_code, today_note from marts.unit_sheet where year = ?", [year]
        ).fetchall()
    )
    degree = {d: i for i, d in enumerate(DEGREE_ORDER)}
    kind = {k: i for i, k in enumerate(MISSING_ORDER)}
    return (
        latest,
        previous,
        [
            UnitList(
                code,
                name,
                short or name,
                tuple(
                    sorted(
                        by_unit.get(code, []),
                        key=lambda g: (
                            degree[g.degree],
                            kind[g.missing_kind],
                            g.missing_since,
                            g.student_id,
                        ),
                    )
                ),
                tuple(gaps.get(code, [])),
                notes.get(code) or "",
            )
            for code, name, short in units
        ],
    )


def _gaps(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, list[DegreeGap]]:
    rows = con.execute(
        """select unit_code, degree, next_milestone, target_rate, graduates, employed_now,
                  required_employed, gap_persons, pending_verification, verification_closes,
                  gap_after_verification
           from marts.progress where year = ?""",
        [year],
    ).fetchall()
    out: dict[str, list[DegreeGap]] = {}
    for r in rows:
        out.setdefault(r[0], []).append(DegreeGap(r[1], *(r[2:4]), *(int(v) for v in r[4:])))
    for gaps in out.values():
        gaps.sort(key=lambda g: DEGREE_ORDER.index(g.degree))
    return out


def last_node(con: duckdb.DuckDBPyConnection, year: int, as_of: dt.date) -> dt.date | None:
    found = con.execute(
        "select max(milestone_date) from reference.rule_milestones "
        "where year = ? and milestone_date <= ?",
        [year, as_of],
    ).fetchone()
    return found[0] if found else None
