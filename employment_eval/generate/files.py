"""How the files are written: each registration export's quirks (encodings, xlsx, header and
value spellings, optional columns), rendering a snapshot into one export, and the writers."""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from employment_eval.generate.season import day
from employment_eval.generate.story import snapshot
from employment_eval.generate.tables import unit_spellings
from employment_eval.ingest.schema import REGISTRATION_COLUMNS
from employment_eval.reference import Reference
from employment_eval.rules import DEGREES

REMARKS = ("已核实", "待补材料", "已电话联系", "协议书已回收")
RESENT_PREFIX = "重发_"


@dataclass
class FileStyle:
    """How one registration export is written."""

    date: dt.date
    kind: str  # xlsx | gb18030 | utf-8 | utf-8-sig
    filename: str
    export_col: bool
    unit_names: list[str]
    degree_labels: list[str]
    year_style: str  # plain | jie | mixed
    type_style: str  # code | label | mixed
    date_style: str  # iso | slash | compact | mixed
    drop: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    remark: bool = False
    padded_unit: int | None = None


# --- file styles ----------------------------------------------------------------------------


def _degree_labels(ref: Reference) -> list[list[str]]:
    return [
        [k for k, (deg, done) in ref.degree_by_label.items() if deg == d and not done and k != d]
        for d in DEGREES
    ]


def _kinds(n: int, rng: np.random.Generator, fmt: str) -> list[str]:
    """File kind per export: a cycle of all four in mixed mode (fewer xlsx for long seasons)."""
    if fmt == "csv":
        return ["utf-8"] * n
    cycle = ["xlsx", "gb18030", "utf-8", "utf-8-sig"]
    off = int(rng.integers(0, 4))
    kinds = [cycle[(i + off) % 4] for i in range(n)]
    if n > 16:  # xlsx is slow to write: keep about one in ten
        csvs = cycle[1:]
        kinds = ["xlsx" if (i + off) % 10 == 0 else csvs[(i + off) % 3] for i in range(n)]
    return kinds


def file_styles(
    rng: np.random.Generator, ref: Reference, dates: list[dt.date], fmt: str
) -> list[FileStyle]:
    """One style per export date (the names of the files carry their year)."""
    spellings = unit_spellings(ref)
    degree_labels = _degree_labels(ref)
    kinds = _kinds(len(dates), rng, fmt)
    return [
        _file_style(rng, i, d, kind, fmt, spellings, degree_labels)
        for i, (d, kind) in enumerate(zip(dates, kinds, strict=True))
    ]


def _file_style(
    rng: np.random.Generator,
    i: int,
    date: dt.date,
    kind: str,
    fmt: str,
    spellings: list[list[str]],
    degree_labels: list[list[str]],
) -> FileStyle:
    mode = rng.choice(["full", "short", "mixed"], p=[0.4, 0.2, 0.4])
    if mode == "full":
        units = [s[0] for s in spellings]
    elif mode == "short":
        units = [s[1] for s in spellings]
    else:
        units = [s[int(rng.integers(0, len(s)))] for s in spellings]
    style = FileStyle(
        date=date,
        kind=kind,
        filename="",
        export_col=True,
        unit_names=units,
        degree_labels=[str(rng.choice(options)) for options in degree_labels],
        year_style=str(rng.choice(["plain", "jie", "mixed"], p=[0.5, 0.25, 0.25])),
        type_style=str(rng.choice(["code", "label", "mixed"])),
        date_style="iso",
        headers={c.name: c.header for c in REGISTRATION_COLUMNS},
    )
    iso, compact = date.isoformat(), date.strftime("%Y%m%d")
    if fmt == "csv":
        style.filename = f"就业登记导出_{iso}.csv"
        return style
    _quirks(rng, style)
    ext = "xlsx" if kind == "xlsx" else "csv"
    if style.export_col:
        batch = f"就业登记鉴证导出_{date.year}年第{i + 1:03d}批"
        names = [batch, f"就业登记导出_{iso}", f"export_{compact}"]
    else:
        names = [f"就业登记导出_{iso}", f"export_{compact}", f"就业登记鉴证导出_{compact}"]
    style.filename = f"{names[int(rng.integers(0, 3))]}.{ext}"
    return style


def _quirks(rng: np.random.Generator, style: FileStyle) -> None:
    """The irregularities of real exports (mixed mode only)."""
    style.export_col = bool(rng.random() < 0.5)
    style.date_style = str(rng.choice(["iso", "slash", "compact", "mixed"]))
    optional = ("gender", "destination")
    style.drop = tuple(c for c in optional if rng.random() < 0.15)
    if rng.random() < 0.25:
        col = REGISTRATION_COLUMNS[int(rng.integers(0, len(REGISTRATION_COLUMNS) - 1))]
        style.headers[col.name] = col.name
    if rng.random() < 0.3:
        for col in rng.choice(["student_id", "verification_status", "unit"], 2, replace=False):
            style.headers[str(col)] = f" {style.headers[str(col)]} "
    style.remark = bool(rng.random() < 0.2)
    if rng.random() < 0.15:
        style.padded_unit = int(rng.integers(0, len(style.unit_names)))
        style.unit_names[style.padded_unit] += " "


# --- rendering and writing ------------------------------------------------------------------


def _render(snap: pl.DataFrame, style: FileStyle, year: int) -> pl.DataFrame:
    """The export's columns, headers and value spellings for one file."""
    bits = pl.col("bits")
    xlsx = style.kind == "xlsx"
    unit_map = dict(enumerate(style.unit_names))
    deg_map = dict(enumerate(style.degree_labels))
    years = {"plain": pl.lit(str(year)), "jie": pl.lit(f"{year}届")}
    years["mixed"] = pl.when(bits < 30).then(years["jie"]).otherwise(years["plain"])
    types = {"code": pl.col("tcode"), "label": pl.col("tlabel")}
    types["mixed"] = pl.when(bits % 2 == 0).then(types["code"]).otherwise(types["label"])
    values = {
        "student_id": pl.col("student_id"),
        "name": pl.col("name"),
        "gender": pl.col("gender"),
        "ethnicity": pl.col("ethnicity"),
        "unit": pl.col("unit_idx").replace_strict(unit_map, return_dtype=pl.String),
        "degree": pl.when(pl.col("completion"))
        .then(pl.col("completion_label"))
        .otherwise(pl.col("deg_idx").replace_strict(deg_map, return_dtype=pl.String)),
        "graduation_year": years[style.year_style],
        "destination_code": pl.col("code"),
        "destination": pl.col("label"),
        "employer": pl.col("employer"),
        "employer_type": types[style.type_style],
        "employer_province": pl.col("province"),
        "grassroots": pl.col("grass"),
        "verification_status": pl.when(pl.col("verified"))
        .then(pl.lit("已鉴证"))
        .otherwise(pl.lit("未鉴证")),
        "verification_date": pl.col("vdate") if xlsx else _date_text(style.date_style),
        "export_date": pl.lit(style.date) if xlsx else pl.lit(style.date.isoformat()),
    }
    exprs = []
    for col in REGISTRATION_COLUMNS:
        if col.name in style.drop or (col.name == "export_date" and not style.export_col):
            continue
        exprs.append(values[col.name].alias(style.headers[col.name]))
    if style.remark:
        remark = pl.lit(pl.Series(REMARKS)).gather(bits % len(REMARKS))
        exprs.append(pl.when(bits < 6).then(remark).otherwise(None).alias("备注"))
    return snap.select(exprs)


def _date_text(style: str) -> pl.Expr:
    d = pl.col("vdate")
    forms = {
        "iso": d.dt.strftime("%Y-%m-%d"),
        "slash": d.dt.strftime("%Y/%-m/%-d"),
        "compact": d.dt.strftime("%Y%m%d"),
    }
    if style != "mixed":
        return forms[style]
    bits = pl.col("bits")
    return (
        pl.when(bits < 50)
        .then(forms["iso"])
        .when(bits < 80)
        .then(forms["slash"])
        .otherwise(forms["compact"])
    )


def _write_csv(df: pl.DataFrame, path: Path, kind: str) -> None:
    if kind == "utf-8":
        df.write_csv(path)
        return
    text = df.write_csv(line_terminator="\r\n" if kind == "gb18030" else "\n")
    if kind == "gb18030":
        path.write_bytes(text.encode("gb18030"))
    else:
        path.write_bytes(text.encode("utf-8-sig"))


def _write_xlsx(df: pl.DataFrame, path: Path, created: dt.datetime, sheet: str) -> None:
    """Strings as text cells (学号 keeps its zeros), dates as Excel dates, numbers as numbers."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": created, "author": "就业指导中心"})
    ws = wb.add_worksheet(sheet)
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for c, name in enumerate(df.columns):
        ws.write_string(0, c, name)
        series = df[name]
        if series.dtype == pl.Date:
            write = ws.write_datetime
            for r, v in enumerate(series.to_list(), start=1):
                if v is not None:
                    write(r, c, v, date_fmt)
            continue
        write = ws.write_number if series.dtype.is_numeric() else ws.write_string
        for r, v in enumerate(series.to_list(), start=1):
            if v is not None:
                write(r, c, v)
    wb.close()


def write_table(df: pl.DataFrame, path: Path, kind: str, created: dt.datetime, sheet: str) -> None:
    if kind == "xlsx":
        _write_xlsx(df, path, created, sheet)
    else:
        _write_csv(df, path, kind)


def write_registrations(
    out: Path, story: pl.DataFrame, styles: list[FileStyle], ref: Reference, year: int
) -> list[str]:
    names = []
    for style in styles:
        snap = snapshot(story, day(style.date), ref)
        frame = _render(snap, style, year)
        created = dt.datetime.combine(style.date, dt.time(2, 0))
        write_table(frame, out / "registrations" / style.filename, style.kind, created, "就业登记")
        names.append(style.filename)
    return names


def resend(out: Path, style: FileStyle) -> str:
    """The same export delivered a second time under another name (same bytes; the name keeps
    the date, when the date comes from the name): one export, not a conflict."""
    name = RESENT_PREFIX + style.filename
    folder = out / "registrations"
    (folder / name).write_bytes((folder / style.filename).read_bytes())
    return name


def write_text_atomic(path: Path, text: str) -> None:
    """Write a small text file in one step (concurrent writers of the same content are safe);
    the file's mode follows the umask, like every other file written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
