"""The layout of a self-check pack (自评表) that the pack writer and the reader of returned
packs (ingest/selfcheck.py) share: the sheet the unit fills in, its labelled cells, the
columns of the ledger items and the file name a pack is sent under.

The unit fills in two columns of the first sheet 「自评表」: its own figure (单位自报) and a note
(说明), one row per ledger item. The cells 单位 and 年度 say whose pack it is; the file name
says the same (自评表_<年度>_<单位代码>_<简称>.xlsx) and the two must agree when it comes back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from employment_eval.reference import read_seed

SHEET = "自评表"
UNIT_LABEL = "单位"
YEAR_LABEL = "年度"
ITEM_HEADERS = ("指标", "项目", "就业中心登记", "该指标得分（就业中心）", "单位自报", "说明")
INDICATOR_COL, ITEM_COL, CENTRE_COL, POINTS_COL, VALUE_COL, NOTE_COL = range(6)
VALUE_HEADER = ITEM_HEADERS[VALUE_COL]
NOTE_HEADER = ITEM_HEADERS[NOTE_COL]
LABEL_COL = 0  # 单位 / 年度 labels in column A, their values in column B
ID_ROWS = {UNIT_LABEL: 3, YEAR_LABEL: 4}  # 1-based rows of the labelled cells (as written)
HEADER_ROW = 7  # 1-based row of ITEM_HEADERS (as written); items follow
SCAN_ROWS = 80  # a returned pack is searched this far for its labels and items
NAME_PREFIX = "自评表"


@dataclass(frozen=True)
class LedgerItem:
    """One cell of the submissions ledger (reference/ledger_items.csv)."""

    item: str  # the ledger column, e.g. i5_talks
    sort_order: int
    indicator: str  # I1, I2, I4, I5, I7 or I8
    value_kind: str  # score / count / date
    label: str  # the ledger's Chinese header


@cache
def ledger_items() -> tuple[LedgerItem, ...]:
    rows = read_seed("ledger_items")
    items = [
        LedgerItem(
            r["item"], int(r["sort_order"]), r["indicator"], r["value_kind"], r["item_label"]
        )
        for r in rows
    ]
    return tuple(sorted(items, key=lambda i: i.sort_order))


def column_letter(col: int) -> str:
    """0-based column → Excel letters (A…Z; the pack has six columns)."""
    return chr(ord("A") + col)


def pack_name(year: int, unit_code: str, short_name: str) -> str:
    return f"{NAME_PREFIX}_{year}_{unit_code}_{short_name}.xlsx"


_TOKEN_SPLIT = re.compile(r"[_\s\-—–·.,，、()（）\[\]【】]+")


def name_tokens(file_name: str) -> list[str]:
    """The words of a file name (without its extension) as the pack writer joins them."""
    stem = file_name.rsplit(".", 1)[0]
    return [t for t in _TOKEN_SPLIT.split(stem) if t]
