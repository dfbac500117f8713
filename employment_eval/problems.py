"""Input problems: one readable Chinese paragraph per bad cell, all of them at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in the inputs. `row` is the row number the user sees in the file
    (the header is row 1, so the first data row is row 2); `column` is the header as written.
    A `file` ending in '/' names a folder (e.g. 'registrations/' or the raw folder itself)."""

    file: str
    row: int | None
    column: str | None
    reason: str
    severity: Severity = "error"
    # A workbook read cell by cell (a returned self-check pack): the sheet and the cell
    # ("E9"); `row` and `column` then give the cell's row and its column's header.
    sheet: str | None = None
    cell: str | None = None

    def render(self) -> str:
        label_of_place = "文件夹" if self.file.endswith("/") else "文件"
        where = [f"{label_of_place} {self.file}"]
        if self.sheet:
            where.append(f"工作表「{self.sheet}」")
        if self.cell:
            where.append(f"单元格 {self.cell}" + (f"（{self.column}）" if self.column else ""))
        else:
            if self.row is not None:
                where.append(f"第 {self.row} 行")
            if self.column:
                where.append(f"列「{self.column}」")
        label = "错误" if self.severity == "error" else "警告"
        return f"[{label}] {'，'.join(where)}：{self.reason}"


class InputError(Exception):
    """Raised when the inputs hold at least one error-level problem; carries every problem."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=_sort_key)
        super().__init__(render_problems(self.problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _sort_key(p: Problem) -> tuple:
    return (p.severity != "error", p.file, p.row or 0, p.column or "", p.reason)


def render_problems(problems: Iterable[Problem]) -> str:
    items = sorted(problems, key=_sort_key)
    return "\n".join(p.render() for p in items)


def raise_if_errors(problems: Iterable[Problem]) -> None:
    items = list(problems)
    if any(p.severity == "error" for p in items):
        raise InputError(items)
