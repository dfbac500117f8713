"""The second count of every input file (records.py for CSV bytes, sheetrows.py for xlsx
sheets), against independent readers: Python's csv module and the sheet XML written by
openpyxl; and a file's shape (structure.py) on small raw folders."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import fastexcel
import numpy as np
import openpyxl
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from employment_eval.ingest import records, sheetrows
from employment_eval.ingest.api import check_inputs
from tests.ingest_helpers import (
    LEDGER_HEADERS,
    REG_HEADERS,
    cohort_rows,
    ledger_rows,
    make_raw,
    to_csv_bytes,
    write_csv,
)

AS_OF = dt.date(2021, 12, 31)

CELLS = st.sampled_from(
    ["a", "", "x y", '"q"', "多字", "1,2", "l\nb", "c\rr", "d\r\ne", 'x""y', "  ", "\x00"]
)
ENDINGS = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\r\n"])


def polars_rows(body: bytes) -> pl.DataFrame:
    return pl.read_csv(
        body, has_header=False, infer_schema=False, empty_string_is_null=True, encoding="utf8"
    )


@st.composite
def csv_files(draw) -> bytes:
    """Well-formed CSV (quoted by the csv module) whose records end in any line ending,
    the last one maybe in none."""
    width = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(CELLS, min_size=width, max_size=width), min_size=1, max_size=8))
    out = []
    for row in rows:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(row)  # quotes cells with CR or LF
        out.append(buf.getvalue()[:-2] + draw(ENDINGS))
    if draw(st.booleans()):
        out[-1] = out[-1].rstrip("\r\n")
    return "".join(out).encode()


@settings(max_examples=300, deadline=None)
@given(body=csv_files())
def test_the_byte_count_agrees_with_the_csv_module_and_with_polars(body: bytes) -> None:
    """Any mix of LF, CRLF and lone CR: the bytes, Python's csv module and polars (after the
    lone CRs become LF) find the same records, cell for cell."""
    scan = records.scan_csv(body)
    expected = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert scan.records == len(expected)
    text = records.as_lf(body, scan)
    frame = polars_rows(text)
    assert frame.height == scan.records
    assert records.first_divergence(text, frame) == frame.height + 1  # they never part
    assert scan.has_controls == ("\x00" in body.decode())


def test_lone_crs_outside_quotes_become_line_breaks_and_nothing_else_changes() -> None:
    body = b'h1,h2\ra,"x\ry"\r\nb,c\rd,e'
    scan = records.scan_csv(body)
    assert scan.records == 4
    assert scan.lone_cr.tolist() == [5, 18]
    assert records.as_lf(body, scan) == b'h1,h2\na,"x\ry"\r\nb,c\nd,e'
    assert records.as_lf(b"a\nb\r\n", records.scan_csv(b"a\nb\r\n")) == b"a\nb\r\n"


def test_the_slices_carry_the_quote_state(monkeypatch) -> None:
    """A quoted cell spanning a slice boundary, slices of 7 bytes."""
    body = b'h\n"a\nb\nc\nd",x\ry\n'
    whole = records.scan_csv(body)
    monkeypatch.setattr(records, "SLICE", 7)
    sliced = records.scan_csv(body)
    assert (sliced.records, sliced.lone_cr.tolist()) == (whole.records, whole.lone_cr.tolist())
    assert whole.records == 3


def test_a_reader_that_ends_records_only_at_lf_parts_at_the_first_lone_cr() -> None:
    """What the reader did before: a lone CR inside a line merged two records. The count
    differs, and the first row where they part is the one the CR ends."""
    body = b"sid\n1\n2\r3\n4\n"
    frame = polars_rows(body)  # no normalisation: 2 and 3 are one record
    assert records.scan_csv(body).records == 5 and frame.height == 4
    assert records.first_divergence(body, frame) == 3


def test_the_first_wide_row_and_the_first_unpaired_quote() -> None:
    body = b'a,b\n1,2\n3,4,5\n"6,7",8\n'
    assert records.first_wide_row(body) == (3, 3, 2)
    assert records.first_quote_problem(body) is None
    assert records.first_quote_problem(b'a,b\n1,2\nx5"3,4\n') == (3, "stray")
    assert records.first_quote_problem(b'a,b\n1,2\n"3,4\n5,6\n') == (3, "unclosed")
    assert records.header_is_blank(b"\n a,b\n") and not records.header_is_blank(b"a\n")


# --- xlsx ----------------------------------------------------------------------------------


def workbook(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def rewrite_sheet(path: Path, change) -> None:
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w") as z:
        for item, data in items:
            z.writestr(item, change(data) if item.filename == "xl/worksheets/sheet1.xml" else data)


def test_the_sheet_rows_that_hold_a_value(tmp_path) -> None:
    """Empty rows, empty strings and a number formula without a value hold none; a cell
    formatted beyond the data does not either; a text formula's empty result does (the reader
    shows it as an empty text): the rows the reader itself returns."""
    path = workbook(tmp_path / "a.xlsx", [["学号", "姓名"], ["1", ""], ["", ""], [], ["3", "x"]])
    wb = openpyxl.load_workbook(path)
    wb.active["A8"] = "=NA()"
    wb.active["C10"].number_format = "0.00"
    wb.save(path)
    assert sheetrows.valued_rows(path).tolist() == [1, 2, 5]
    assert fastexcel.read_excel(path).load_sheet(0, header_row=None).height == 5

    def text_formula(data: bytes) -> bytes:  # =IF(1,"","") as Excel writes it
        return data.replace(b'<c r="A8"><f>NA()</f><v></v></c>',
                            b'<c r="A8" t="str"><f>IF(1,"","")</f><v></v></c>')  # fmt: skip

    rewrite_sheet(path, text_formula)
    assert sheetrows.valued_rows(path).tolist() == [1, 2, 5, 8]
    assert fastexcel.read_excel(path).load_sheet(0, header_row=None).height == 8


def test_a_row_written_twice_and_a_row_the_reader_lacks_part(tmp_path, monkeypatch) -> None:
    path = workbook(tmp_path / "b.xlsx", [["学号"], ["1"], ["2"], ["3"]])

    def twice(data: bytes) -> bytes:
        start = data.index(b'<row r="3"')
        end = data.index(b"</row>", start) + len(b"</row>")
        return data[:end] + data[start:end] + data[end:]

    rewrite_sheet(path, twice)
    xml = sheetrows.valued_rows(path)
    assert xml.tolist() == [1, 2, 3, 3, 4]
    assert sheetrows.first_parting_row(xml, np.array([1, 2, 3, 4])) == 3
    assert sheetrows.first_parting_row(np.array([1, 2, 4]), np.array([1, 2, 3, 4])) == 3
    assert sheetrows.first_parting_row(np.array([1, 2, 3]), np.array([1, 2, 3])) is None
    # read in slices of 40 bytes: the same rows
    monkeypatch.setattr(sheetrows, "SLICE", 40)
    assert sheetrows.valued_rows(path).tolist() == xml.tolist()


def test_rows_without_a_number_follow_the_one_before(tmp_path) -> None:
    path = workbook(tmp_path / "c.xlsx", [["学号"], ["1"], ["2"]])
    rewrite_sheet(path, lambda d: d.replace(b'<row r="3">', b"<row>").replace(b' r="A3"', b""))
    assert sheetrows.valued_rows(path).tolist() == [1, 2, 3]


# --- a file's shape (structure.py) ---------------------------------------------------------


def test_two_exports_saved_with_a_bom_and_joined_are_one_error(tmp_path) -> None:
    """`cat a.csv b.csv` of two UTF-8-with-BOM exports: the second header starts with a BOM."""
    raw = make_raw(tmp_path)
    path = raw / "registrations" / "export_2021-06-15.csv"
    one = to_csv_bytes(REG_HEADERS, cohort_rows(), "utf-8-sig")
    path.write_bytes(one + one)
    errors = [
        p
        for p in check_inputs(raw, as_of=AS_OF, raise_on_error=False).problems
        if p.severity == "error"
    ]
    [err] = errors
    assert (err.file, err.row) == ("registrations/export_2021-06-15.csv", 32)
    assert "首尾相接拼成" in err.reason and "导出" in err.reason


def test_a_ledger_with_its_header_repeated_below_is_one_error(tmp_path) -> None:
    raw = make_raw(tmp_path)
    rows = ledger_rows()
    write_csv(
        raw / "submissions" / "submissions_2021.csv",
        LEDGER_HEADERS,
        [*rows[:5], dict(zip(LEDGER_HEADERS, LEDGER_HEADERS, strict=True)), *rows[5:]],
    )
    [err] = [
        p
        for p in check_inputs(raw, as_of=AS_OF, raise_on_error=False).problems
        if p.severity == "error"
    ]
    assert (err.file, err.row) == ("submissions/submissions_2021.csv", 7)
    assert "几个文件首尾相接拼成" in err.reason


def test_wrapped_header_names_and_ordinary_extra_columns_are_not_data(tmp_path) -> None:
    raw = make_raw(tmp_path)
    headers = ["学号", "姓\n名", *REG_HEADERS[2:], "备注", "2021年就业率", "联系电话"]
    rows = [[*(r[h] for h in REG_HEADERS), "", "", ""] for r in cohort_rows()]
    write_csv(raw / "registrations" / "export_2021-06-15.csv", headers, rows)
    errors = [
        p
        for p in check_inputs(raw, as_of=AS_OF, raise_on_error=False).problems
        if p.severity == "error"
    ]
    assert errors == []


def test_a_sheet_whose_tags_carry_a_prefix(tmp_path) -> None:
    """Some writers prefix every tag (<x:row>, <x:c>, <x:v>): the same rows."""
    path = workbook(tmp_path / "d.xlsx", [["学号"], [1], [], ["3"]])
    plain = sheetrows.valued_rows(path).tolist()

    def prefixed(data: bytes) -> bytes:
        for tag in (b"row", b"c", b"v", b"is", b"t"):
            data = data.replace(b"<" + tag + b" ", b"<x:" + tag + b" ")
            data = data.replace(b"<" + tag + b">", b"<x:" + tag + b">")
            data = data.replace(b"</" + tag + b">", b"</x:" + tag + b">")
        return data

    rewrite_sheet(path, prefixed)
    assert plain == [1, 2, 4] and sheetrows.valued_rows(path).tolist() == plain


def test_an_empty_formula_result_or_inline_string_is_a_row_as_the_reader_shows_it(
    tmp_path,
) -> None:
    """=IF(…,"",…) caches an empty text; the reader shows it as a cell: no refusal."""
    from employment_eval.ingest.read import FoundFile, read_table

    for extra in (
        b'<row r="4"><c r="A4" t="str"><f>""</f><v></v></c></row>',
        b'<row r="4"><c r="A4" t="inlineStr"><is><t></t></is></c></row>',
    ):
        path = workbook(tmp_path / "e.xlsx", [["学号", "姓名"], ["1", "a"], ["2", "b"]])
        rewrite_sheet(path, lambda d, e=extra: d.replace(b"</sheetData>", e + b"</sheetData>"))
        assert sheetrows.valued_rows(path).tolist() == [1, 2, 3, 4]
        raw = read_table(FoundFile("registrations", path, "registrations/e.xlsx"))
        assert raw.problems == [] and raw.data.height == 3
