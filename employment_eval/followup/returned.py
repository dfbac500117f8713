"""Follow-up lists the units hand back: `<work folder>/followup/returned/` (private, never the
raw folder), read every night the lists are written, before them.

Every `.xlsx` there is checked like an input (all its problems at once: file, row, column,
reason). A list is taken whole or not at all:
- it must be one of the lists this product wrote (its 说明 sheet names the unit, the year and
  the list's dates; its 跟进名单 sheet has the columns 学号 and 跟进记录);
- every row with a 学号 or a 跟进记录 must name one graduate of that unit: a 学号 on the
  year's exports up to the list's date (else: unknown), whose unit on the latest of them is
  the list's unit (else: another unit's graduate), once (else: repeated), with a note of at
  most NOTE_LIMIT characters, and no note without a 学号.
A refused list changes nothing (the notes from earlier lists stay) and does not stop the night:
its problems are warnings (the caller shows them on the console and keeps them in the run's
private report; Prefect sees counts only). An accepted list's notes are stored in the working
database (followup.notes, keyed by the file's sha256: a list already read is not read again,
and its notes stay even when the file is later removed). A list of another year is left for
that year's runs; a list dated after --as-of is left for a later night (exact replays).

Each graduate carries the note of the latest list that named them (by the list's 评估日期,
then the time the file was last saved, then its name): an empty 跟进记录 there clears it."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from employment_eval import textsafe
from employment_eval.followup.workbook import (
    ID_HEADER,
    IDENTITY,
    IDENTITY_TITLE,
    NOTE_HEADER,
    NOTES_SHEET,
    SHEET,
)
from employment_eval.problems import Problem

FOLDER = "returned"
NOTE_LIMIT = 500
HEADER_SEARCH_ROWS = 80

DDL = (
    "create schema if not exists followup",
    """create table if not exists followup.returned_files (
        file_sha256 varchar primary key,
        source_file varchar not null,   -- path under the working folder when read
        unit_code varchar not null,
        year integer not null,
        list_date date not null,        -- the list's 评估日期
        list_export_date date,          -- the export the list was made from
        saved_at timestamp,             -- when the file was last saved (its properties)
        notes integer not null,
        accepted_at timestamp not null,
        run_id varchar not null
    )""",
    """create table if not exists followup.notes (
        file_sha256 varchar not null,
        year integer not null,
        unit_code varchar not null,
        student_id varchar not null,   -- personal
        note varchar not null,         -- personal free text ('' clears an earlier note)
        source_row integer not null
    )""",
)


@dataclass
class ReturnedResult:
    accepted: list[str] = field(default_factory=list)  # read tonight
    refused: list[str] = field(default_factory=list)
    known: int = 0  # read on an earlier night (same content)
    later: list[str] = field(default_factory=list)  # dated after --as-of: a later night
    other_year: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # all warnings

    def lines(self) -> list[str]:
        """What the console and the run's private report say (may quote file names and row
        numbers, never a 学号 or a note)."""
        out = [p.render() for p in self.problems]
        if self.refused:
            out.append(
                f"退回的跟进名单有 {len(self.refused)} 份未读入（整份拒收，原有跟进记录不变）："
                + "、".join(self.refused)
                + "。请按上面各行改正后重新放入，或删除该文件。"
            )
        return out

    def summary(self) -> str:
        """Counts and nothing else (for Prefect)."""
        return (
            f"退回的跟进名单：本次读入 {len(self.accepted)} 份，拒收 {len(self.refused)} 份，"
            f"此前已读入 {self.known} 份，留待以后 {len(self.later)} 份，"
            f"其他年度 {len(self.other_year)} 份"
        )


@dataclass(frozen=True)
class _Parsed:
    unit_code: str
    year: int
    list_date: dt.date
    list_export_date: dt.date | None
    saved_at: dt.datetime | None
    rows: list[tuple[int, str, str]]  # (row in the sheet, 学号, note)


def folder(work_dir: Path) -> Path:
    from employment_eval.followup import root

    return root(work_dir) / FOLDER


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def read_returned(
    con: duckdb.DuckDBPyConnection, work_dir: Path, year: int, as_of: dt.date, run_id: str
) -> ReturnedResult:
    """Check every list in the returned folder not read before and store the notes of those
    accepted; never raises for a bad list."""
    ensure_tables(con)
    result = ReturnedResult()
    base = folder(work_dir)
    if not base.is_dir():
        return result
    read = con.execute("select file_sha256 from followup.returned_files").fetchall()
    known = {r[0] for r in read}
    units = dict(con.execute("select unit_code, short_name from reference.units").fetchall())
    for path in sorted(base.iterdir()):
        if path.name.startswith((".", "~$")) or not path.is_file():
            continue
        shown = path.relative_to(work_dir).as_posix()
        if path.suffix.lower() != ".xlsx":
            reason = "不是 xlsx 文件：跟进名单须按原样以 .xlsx 交回"
            result.problems.append(Problem(shown, None, None, reason, "warning"))
            result.refused.append(shown)
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in known:
            result.known += 1
            continue
        parsed, problems = _parse(path, shown, units)
        if parsed is None:
            result.problems += problems
            result.refused.append(shown)
            continue
        if parsed.year != year:
            result.other_year.append(shown)
            continue
        if parsed.list_date > as_of:
            result.later.append(shown)
            continue
        problems = _check(con, parsed, shown, units)
        if problems:
            result.problems += problems
            result.refused.append(shown)
            continue
        _store(con, parsed, digest, shown, run_id)
        known.add(digest)
        result.accepted.append(shown)
    return result


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return textsafe.clean(str(value)).strip()


def _date(value: object) -> dt.date | None:
    text = _text(value)
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _parse(path: Path, shown: str, units: dict[str, str]) -> tuple[_Parsed | None, list[Problem]]:
    def refuse(reason: str, row: int | None = None, column: str | None = None):
        return None, [Problem(shown, row, column, reason, "warning")]

    import openpyxl  # only when a unit handed a list back (0.3 s to import)

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # any unreadable file is refused with one reason
        return refuse("无法作为 xlsx 文件打开（文件损坏，或不是 Excel 工作簿）")
    try:
        if SHEET not in wb.sheetnames or NOTES_SHEET not in wb.sheetnames:
            return refuse(f"不是系统生成的跟进名单：没有“{SHEET}”和“{NOTES_SHEET}”两个工作表")
        identity: dict[str, str] = {}
        labels = {label: name for label, name in IDENTITY}
        seen_title = False
        for row in wb[NOTES_SHEET].iter_rows(values_only=True):
            first = _text(row[0]) if row else ""
            if first == IDENTITY_TITLE:
                seen_title = True
            elif seen_title and first in labels:
                identity[labels[first]] = _text(row[1]) if len(row) > 1 else ""
        unit = identity.get("unit_code", "")
        list_date = _date(identity.get("as_of"))
        year = identity.get("year", "")
        if not seen_title or not unit or list_date is None or not year.isdigit():
            return refuse(
                f"“{NOTES_SHEET}”工作表中的名单标识（单位代码、年度、评估日期）缺失或被改动，"
                "无法确定这是哪个单位哪一天的名单"
            )
        if unit not in units:
            return refuse("名单标识中的单位代码不在参评单位中", column="单位代码")
        rows = _rows(wb[SHEET])
        if rows is None:
            return refuse(f"“{SHEET}”工作表中找不到“{ID_HEADER}”和“{NOTE_HEADER}”两列的表头")
        saved = wb.properties.modified
    finally:
        wb.close()
    latest = _date(identity.get("latest_export"))
    return _Parsed(unit, int(year), list_date, latest, saved, rows), []


def _rows(ws) -> list[tuple[int, str, str]] | None:
    """The data rows under the header row (the first row holding both 学号 and 跟进记录):
    (row number, 学号, note) of every row with either."""
    header_at, id_at, note_at = None, 0, 0
    out: list[tuple[int, str, str]] = []
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if header_at is None:
            cells = [_text(c) for c in row]
            if ID_HEADER in cells and NOTE_HEADER in cells:
                header_at, id_at, note_at = number, cells.index(ID_HEADER), cells.index(NOTE_HEADER)
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        sid = _text(row[id_at]) if id_at < len(row) else ""
        note = _text(row[note_at]) if note_at < len(row) else ""
        if sid or note:
            out.append((number, sid, note))
    return out if header_at is not None else None


def _check(
    con: duckdb.DuckDBPyConnection, parsed: _Parsed, shown: str, units: dict[str, str]
) -> list[Problem]:
    """Every problem of the rows, at once."""
    home = dict(
        con.execute(
            """select student_id, arg_max(unit_code, as_of_date)
               from intermediate.int_graduates
               where year = ? and as_of_date <= ? group by student_id""",
            [parsed.year, parsed.list_date],
        ).fetchall()
    )
    own = units[parsed.unit_code]
    problems: list[Problem] = []
    first_row: dict[str, int] = {}

    def bad(row: int, column: str, reason: str) -> None:
        problems.append(Problem(shown, row, column, reason, "warning"))

    for row, sid, note in parsed.rows:
        if not sid:
            bad(row, ID_HEADER, "有跟进记录但没有学号")
            continue
        if sid in first_row:
            bad(row, ID_HEADER, f"学号与第 {first_row[sid]} 行重复")
        else:
            first_row[sid] = row
        unit = home.get(sid)
        if unit is None:
            bad(
                row,
                ID_HEADER,
                f"学号不在 {parsed.year} 年度 {parsed.list_date.isoformat()} 及以前的导出中",
            )
        elif unit != parsed.unit_code:
            bad(
                row,
                ID_HEADER,
                f"不是本单位（{own}）的毕业生：按 {parsed.list_date.isoformat()} 及以前"
                f"最近一次导出，该生属于「{units.get(unit, unit)}」",
            )
        if len(note) > NOTE_LIMIT:
            bad(row, NOTE_HEADER, f"跟进记录有 {len(note)} 字，超过 {NOTE_LIMIT} 字")
    return problems


def _store(
    con: duckdb.DuckDBPyConnection, parsed: _Parsed, digest: str, shown: str, run_id: str
) -> None:
    con.execute("begin transaction")
    try:
        con.execute(
            "insert into followup.returned_files values (?, ?, ?, ?, ?, ?, ?, ?, now(), ?)",
            [digest, shown, parsed.unit_code, parsed.year, parsed.list_date,
             parsed.list_export_date, parsed.saved_at, len(parsed.rows), run_id],
        )  # fmt: skip
        if parsed.rows:
            con.executemany(
                "insert into followup.notes values (?, ?, ?, ?, ?, ?)",
                [
                    [digest, parsed.year, parsed.unit_code, sid, note, row]
                    for row, sid, note in parsed.rows
                ],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
