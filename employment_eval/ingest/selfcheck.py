"""Returned self-check packs (自评表, `<raw>/selfcheck/`): each workbook is read cell by cell
(its layout: selfcheck/layout.py) into one row per ledger item — the unit's own figure and its
note — and checked like every input, every bad cell at once, each problem naming the file,
the sheet and the cell:

- the pack names a known unit and a year (cells 单位, 年度), and they are the unit and year of
  its file name as sent (自评表_<年度>_<单位代码>_<简称>.xlsx): another unit's pack, or a
  pack of another year, is an error at the cell that says whose it is;
- every ledger item has its row; a figure has the ledger's bounds (a score 0 to the
  indicator's base points in the year's rules — checked across files, where the rules are at
  hand —, a count a non-negative integer, a date a real date); a note is published text
  (length, control characters, and — across files — no graduate's 学号 or 姓名);
- one pack per unit and year; a pack's year is a year the run evaluates (an export holds its
  cohort).

Only the unit's two columns (单位自报, 说明) are read: the centre's figures in the pack are a
copy of the published marts and stay the centre's."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace
from pathlib import PurePosixPath

import duckdb
import polars as pl

from employment_eval.ingest.checks import Collector
from employment_eval.ingest.common import resolve_count, resolve_date, resolve_decimal
from employment_eval.ingest.discover import FoundFile, os_reason
from employment_eval.ingest.lookups import Lookups
from employment_eval.ingest.schema import COLUMNS, NOTE_LIMIT
from employment_eval.ingest.text import check_lengths, check_public_text
from employment_eval.ingest.validated import Validated
from employment_eval.ingest.values import parse_year
from employment_eval.problems import Problem
from employment_eval.selfcheck import layout

KIND = "selfcheck"
FOLDER = f"{KIND}/"
_TEXT = [c.name for c in COLUMNS[KIND]]


def _text(value: object) -> str | None:
    """A cell's value as the text a unit typed (numbers exactly as stored, dates as ISO)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


def _cell(row: int, col: int) -> str:
    return f"{layout.column_letter(col)}{row}"


def _at(rel: str, row: int, col: int, header: str, reason: str) -> Problem:
    return Problem(rel, row, header, reason, "error", layout.SHEET, _cell(row, col))


def _empty(rel: str, problems: list[Problem]) -> Validated:
    data = pl.DataFrame(
        {"source_row": pl.Series([], dtype=pl.Int32)}
        | {c: pl.Series([], dtype=pl.String) for c in [*_TEXT, "extra_columns"]}
    )
    return Validated(KIND, rel, data, problems, file_error=True)


def _read_grid(f: FoundFile) -> tuple[dict[tuple[int, int], str], str | None]:
    """{(row, col): text} of the pack's sheet (1-based rows, 0-based columns), or a reason."""
    import openpyxl  # only when a pack is read (~0.2 s)

    if PurePosixPath(f.rel).suffix.lower() != ".xlsx":
        return {}, "自评表须是交回的 Excel 工作簿（.xlsx），不能是 CSV"
    try:
        wb = openpyxl.load_workbook(f.path, read_only=True, data_only=True)
    except OSError as exc:
        return {}, f"无法读取该文件（{os_reason(exc)}）"
    except Exception:
        return {}, "无法读取 Excel 文件：文件已损坏，或不是 .xlsx 工作簿"
    try:
        if layout.SHEET not in wb.sheetnames:
            return {}, (
                f"没有工作表「{layout.SHEET}」：这不是自评表。请交回由 employment-eval selfcheck "
                "生成、在其中填写的工作簿（不要改工作表名）"
            )
        grid: dict[tuple[int, int], str] = {}
        rows = wb[layout.SHEET].iter_rows(
            min_row=1, max_row=layout.SCAN_ROWS, max_col=len(layout.ITEM_HEADERS), values_only=True
        )
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values):
                text = _text(value)
                if text is not None:
                    grid[(r, c)] = text
        return grid, None
    finally:
        wb.close()


def _labelled(grid: dict[tuple[int, int], str], label: str) -> int | None:
    rows = [r for (r, c), v in grid.items() if c == layout.LABEL_COL and v == label]
    return min(rows) if rows else None


def parse(f: FoundFile, lk: Lookups) -> Validated:
    """Read and check one returned pack (no database involved)."""
    grid, unreadable = _read_grid(f)
    if unreadable is not None:
        return _empty(f.rel, [Problem(f.rel, None, None, unreadable)])
    problems: list[Problem] = []
    name_units, name_years = _from_file_name(f.rel, lk)
    unit_code, unit_text, unit_row = _unit(f.rel, grid, lk, name_units, problems)
    year, year_text, year_row = _year(f.rel, grid, name_years, problems)
    rows = _item_rows(f.rel, grid, problems)
    if problems and (unit_row is None or year_row is None or not rows):
        return _empty(f.rel, problems)  # not a pack one can read further
    items = {i.label: i for i in layout.ledger_items()}
    frame = pl.DataFrame(
        {
            "source_row": pl.Series([r for r, _ in rows], dtype=pl.Int32),
            "unit": [unit_text] * len(rows),
            "year": [year_text] * len(rows),
            "item": [label for _, label in rows],
            "value": [grid.get((r, layout.VALUE_COL)) for r, _ in rows],
            "note": [grid.get((r, layout.NOTE_COL)) for r, _ in rows],
            "extra_columns": pl.Series([None] * len(rows), dtype=pl.String),
            "unit_code": [unit_code] * len(rows),
            "pack_year": pl.Series([year] * len(rows), dtype=pl.Int32),
            "item_code": [items[label].item for _, label in rows],
            "value_kind": [items[label].value_kind for _, label in rows],
            "value_cell": [f"{layout.SHEET}!{_cell(r, layout.VALUE_COL)}" for r, _ in rows],
        },
        schema_overrides={c: pl.String for c in ("unit", "year", "item", "value", "note")},
    )
    out = Collector(f.rel)
    frame = check_lengths(frame, {"note": (layout.NOTE_HEADER, NOTE_LIMIT)}, out)
    check_public_text(frame, "note", layout.NOTE_HEADER, out)
    frame = _resolve_values(frame, out)
    problems += [_locate(p) for p in out.problems]
    return Validated(KIND, f.rel, frame.drop("value_kind"), problems)


def _resolve_values(frame: pl.DataFrame, out: Collector) -> pl.DataFrame:
    """stated_number / stated_date with the ledger's rules for each kind of item (the upper
    bound of a score comes from the year's rules: `score_bound_problems`)."""
    parts = []
    header = layout.VALUE_HEADER
    for (kind,), part in frame.group_by(["value_kind"], maintain_order=True):
        if kind == "score":
            part = resolve_decimal(part, "value", "stated_number", header, out, 0, None)
            part = part.with_columns(pl.lit(None, dtype=pl.Date).alias("stated_date"))
        elif kind == "count":
            part = resolve_count(part, "value", "__count", header, out)
            part = part.with_columns(
                pl.col("__count").cast(pl.String).alias("stated_number"),
                pl.lit(None, dtype=pl.Date).alias("stated_date"),
            ).drop("__count")
        else:
            part = resolve_date(part, "value", "stated_date", header, out)
            part = part.with_columns(pl.lit(None, dtype=pl.String).alias("stated_number"))
        parts.append(part.with_columns(pl.col("stated_number").cast(pl.String)))
    return pl.concat(parts, how="diagonal_relaxed").sort("source_row")


def _locate(p: Problem) -> Problem:
    """A problem found by row and header → the same at its sheet and cell."""
    if p.cell is not None or p.row is None:
        return p
    col = {layout.VALUE_HEADER: layout.VALUE_COL, layout.NOTE_HEADER: layout.NOTE_COL}.get(
        p.column or ""
    )
    if col is None:
        return p
    return replace(p, sheet=layout.SHEET, cell=_cell(p.row, col))


def locate(problems: list[Problem]) -> list[Problem]:
    """Problems of the cross-file rules (published text, duplicates) in returned packs, given
    by row and header, named by their sheet and cell like the packs' own problems."""
    return [_locate(p) if p.file.startswith(FOLDER) else p for p in problems]


def _from_file_name(rel: str, lk: Lookups) -> tuple[set[str], set[int]]:
    tokens = layout.name_tokens(PurePosixPath(rel).name)
    units = {lk.unit_by_name.get(t) or lk.unit_by_name.get(t.lower()) for t in tokens}
    years = {int(t) for t in tokens if t.isdigit() and len(t) == 4}
    return {u for u in units if u}, years


def _label_row(
    rel: str, grid: dict, label: str, problems: list[Problem]
) -> tuple[int, str | None] | None:
    """The row of a labelled field and the text beside it; None (a problem said) when the
    sheet has no such label."""
    row = _labelled(grid, label)
    if row is None:
        problems.append(
            Problem(
                rel,
                None,
                None,
                f"工作表中找不到「{label}」一栏：表格结构被改动",
                "error",
                layout.SHEET,
            )
        )
        return None
    return row, grid.get((row, layout.LABEL_COL + 1))


def _unit(
    rel: str, grid: dict, lk: Lookups, name_units: set[str], problems: list[Problem]
) -> tuple[str | None, str | None, int | None]:
    found = _label_row(rel, grid, layout.UNIT_LABEL, problems)
    if found is None:
        return None, None, None
    row, text = found
    where = (rel, row, layout.LABEL_COL + 1, layout.UNIT_LABEL)
    code = (lk.unit_by_name.get(text) or lk.unit_by_name.get(text.lower())) if text else None
    if text is None:
        problems.append(_at(*where, "必填，不能为空：自评表须写明是哪个单位的"))
    elif code is None:
        problems.append(_at(*where, lk.unknown_unit_reason(text)))
    elif len(name_units) != 1:
        problems.append(
            Problem(
                rel,
                None,
                None,
                "文件名中看不出是哪个单位交回的自评表：请保留发出时的文件名"
                f"（形如 {layout.pack_name(2021, 'renji', '仁济')}）",
                "error",
            )
        )
    elif code not in name_units:
        (named,) = name_units
        problems.append(
            _at(
                *where,
                f"这是「{lk.unit_names[code]}」的自评表，而文件名表明它是"
                f"「{lk.unit_names[named]}」交回的：另一单位的自评表不能作为本单位的自评，"
                "请该单位交回发给它的那一份",
            )
        )
    return code, text, row


def _year(
    rel: str, grid: dict, name_years: set[int], problems: list[Problem]
) -> tuple[int | None, str | None, int | None]:
    found = _label_row(rel, grid, layout.YEAR_LABEL, problems)
    if found is None:
        return None, None, None
    row, text = found
    where = (rel, row, layout.LABEL_COL + 1, layout.YEAR_LABEL)
    year = pl.select(parse_year(pl.lit(text))).item() if text else None
    if text is None:
        problems.append(_at(*where, "必填，不能为空：自评表须写明年度"))
    elif year is None:
        problems.append(_at(*where, f"「{text}」不是年份（应为如 2021）"))
    elif len(name_years) != 1:
        problems.append(
            Problem(
                rel,
                None,
                None,
                "文件名中看不出自评表的年度：请保留发出时的文件名"
                f"（形如 {layout.pack_name(2021, 'renji', '仁济')}）",
                "error",
            )
        )
    elif year not in name_years:
        (named,) = name_years
        problems.append(
            _at(
                *where,
                f"这是 {year} 年度的自评表，而文件名写的是 {named} 年度：另一年度的自评表"
                f"不能作为 {named} 年度的自评，请交回该年度的那一份",
            )
        )
    return year, text, row


def _item_rows(rel: str, grid: dict, problems: list[Problem]) -> list[tuple[int, str]]:
    """(row, label) of every ledger item; each item exactly once."""
    labels = {i.label for i in layout.ledger_items()}
    found: dict[str, list[int]] = defaultdict(list)
    for (r, c), v in grid.items():
        if c == layout.ITEM_COL and v in labels:
            found[v].append(r)
    rows: list[tuple[int, str]] = []
    for item in layout.ledger_items():
        at = sorted(found.get(item.label, []))
        if not at:
            problems.append(
                Problem(
                    rel,
                    None,
                    layout.ITEM_HEADERS[layout.ITEM_COL],
                    f"缺少「{item.label}」一行（{item.indicator}）：表格结构被改动，"
                    "请在发出的自评表中填写",
                    "error",
                    layout.SHEET,
                )
            )
            continue
        for extra in at[1:]:
            problems.append(
                _at(
                    rel,
                    extra,
                    layout.ITEM_COL,
                    layout.ITEM_HEADERS[layout.ITEM_COL],
                    f"「{item.label}」出现了两次（另见第 {at[0]} 行）：每项只能填一行",
                )
            )
        rows.append((at[0], item.label))
    return sorted(rows)


# --- across files ------------------------------------------------------------------------------


def pack_problems(con: duckdb.DuckDBPyConnection, lk: Lookups, points) -> list[Problem]:
    """The rules that need every pack or the year's rules: one pack per unit and year, the
    pack's year is evaluated (an included export holds its cohort), a score's upper bound is
    the indicator's base points in that year's rules (`points`: crossfile.LedgerPoints)."""
    problems: list[Problem] = []
    packs = con.execute(
        "select distinct source_file, unit_code, pack_year, min(source_row) "
        "from ingest_cur_selfcheck where unit_code is not null and pack_year is not null "
        "group by all order by 1"
    ).fetchall()
    first: dict[tuple[str, int], str] = {}
    for file, unit, year, _row in packs:
        if (unit, year) in first:
            problems.append(
                Problem(
                    file,
                    None,
                    None,
                    f"与 {first[(unit, year)]} 都是「{lk.unit_names[unit]}」"
                    f"{year} 年度的自评表：每个单位每年度只能交回一份，请删除其中一个",
                )
            )
        else:
            first[(unit, year)] = file
    evaluated = {
        r[0]
        for r in con.execute(
            "select distinct cohort_year from ingest_cur_registrations "
            "where included and cohort_year is not null and not coalesce(is_completion, false)"
        ).fetchall()
    }
    years = defaultdict(list)
    for file, _unit, year, _row in packs:
        years[year].append(file)
    for year, files in sorted(years.items()):
        if year in evaluated:
            continue
        for file in files:
            problems.append(
                Problem(
                    file,
                    None,
                    layout.YEAR_LABEL,
                    f"这是 {year} 年度的自评表，但原始数据中没有 {year} 届的导出（本次运行不"
                    f"评估该年度）：请确认交回的是本年度的自评表",
                    "error",
                    layout.SHEET,
                )
            )
    problems += _score_bounds(con, points)
    return problems


def _score_bounds(con: duckdb.DuckDBPyConnection, points) -> list[Problem]:
    indicator = {i.item: i.indicator for i in layout.ledger_items() if i.value_kind == "score"}
    rows = con.execute(
        'select source_file, source_row, pack_year, item_code, "value", stated_number '
        "from ingest_cur_selfcheck where stated_number is not null and item_code in ("
        + ", ".join(f"'{i}'" for i in indicator)
        + ") order by 1, 2"
    ).fetchall()
    problems = []
    for file, row, year, item, text, value in rows:
        rules = points.for_year(year) if year is not None else None
        if rules is None:
            continue
        code = indicator[item]
        base = rules.indicators[code][1]
        if value > base:
            problems.append(
                _at(
                    file,
                    row,
                    layout.VALUE_COL,
                    layout.VALUE_HEADER,
                    f"「{text}」超出范围（应为 0–{base}：{year} 年度 {code} 的基准分）",
                )
            )
    return problems
