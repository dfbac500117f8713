"""The committee's adjustments (docs/输入文件格式.md, 学指委调整), read straight from the raw
files for the reference implementation: independent of ingestion and of the SQL models.
Only what scoring needs is read (unit, year, indicator, value); a cell this reader cannot
understand is an error, since the differential tests only feed it files that ingestion
accepts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl

from .scoring import DEFAULT_REFERENCE_DIR, _read_csv

ADVANCED = "ADVANCED"
HEADERS = {
    "单位": "unit",
    "unit": "unit",
    "年度": "year",
    "year": "year",
    "指标": "indicator",
    "indicator": "indicator",
    "调整后分值": "value",
    "value": "value",
    "日期": "date",
    "date": "date",
}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Adjustment:
    unit_code: str
    year: int
    indicator: str  # I1..I9 or ADVANCED
    points: Decimal | None  # I1..I9
    advanced: bool | None  # ADVANCED: 是 → True, 否 → False
    decided_on: dt.date | None = None  # 日期: not applied on a night before it


def unit_names(reference_dir: Path | str = DEFAULT_REFERENCE_DIR) -> dict[str, str]:
    """Every accepted spelling of a unit (code, full and short name, alias) → unit code."""
    d = Path(reference_dir)
    names: dict[str, str] = {}
    for r in _read_csv(d, "units"):
        for key in ("unit_code", "unit_name", "short_name"):
            names[r[key]] = r["unit_code"]
    for r in _read_csv(d, "unit_aliases"):
        names[r["alias"]] = r["unit_code"]
    return names


def _rows(path: Path) -> list[list[str]]:
    if path.suffix.lower() == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return [
                ["" if v is None else str(v) for v in row]
                for row in wb.worksheets[0].iter_rows(values_only=True)
            ]
        finally:
            wb.close()
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    return [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]


def _indicator(text: str) -> str:
    t = text.strip()
    if t.upper() in {f"I{i}" for i in range(1, 10)}:
        return t.upper()
    if t in ("先进单位", "advanced", "ADVANCED"):
        return ADVANCED
    raise ValueError(f"unknown indicator {text!r}")


def _date(text: str) -> dt.date:
    """2021-12-20, 2021/12/20, 20211220, or an xlsx date cell as openpyxl renders it."""
    digits = re.findall(r"\d+", text.strip())
    if len(digits) == 1 and len(digits[0]) == 8:
        digits = [digits[0][:4], digits[0][4:6], digits[0][6:]]
    year, month, day = (int(d) for d in digits[:3])
    return dt.date(year, month, day)


def read_adjustments(
    folder: Path | str, reference_dir: Path | str = DEFAULT_REFERENCE_DIR
) -> list[Adjustment]:
    """Every adjustment in the folder's .csv/.xlsx files (hidden and lock files skipped)."""
    names = unit_names(reference_dir)
    out: list[Adjustment] = []
    folder = Path(folder)
    if not folder.is_dir():
        return out
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "~$")) or path.suffix.lower() not in (".csv", ".xlsx"):
            continue
        rows = _rows(path)
        if not rows:
            continue
        header = [HEADERS.get(h.strip()) for h in rows[0]]
        for row in rows[1:]:
            cells = {k: v.strip() for k, v in zip(header, row, strict=False) if k is not None}
            indicator = _indicator(cells["indicator"])
            value = cells["value"]
            out.append(
                Adjustment(
                    unit_code=names[cells["unit"]],
                    year=int(cells["year"]),
                    indicator=indicator,
                    points=None if indicator == ADVANCED else Decimal(value).quantize(CENT),
                    advanced=None if indicator != ADVANCED else {"是": True, "否": False}[value],
                    decided_on=_date(cells["date"]) if cells.get("date") else None,
                )
            )
    return out
