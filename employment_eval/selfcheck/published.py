"""marts.selfcheck_items as read by the packs and the year-end files (an open published file)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb

from employment_eval.publish import fetch_dicts


def figure(number: Decimal | None, day: dt.date | None) -> str:
    """A ledger figure for reading: 4.5, 3, 2021-10-15; '' when blank."""
    if day is not None:
        return day.isoformat()
    if number is None:
        return ""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class ItemFigure:
    """One ledger item of one unit: the centre's figure and the unit's own."""

    unit_code: str
    item: str
    sort_order: int
    indicator: str
    label: str
    value_kind: str  # score / count / date
    centre_number: Decimal | None
    centre_date: dt.date | None
    indicator_points: Decimal
    has_pack: bool
    pack_file: str | None
    value_cell: str | None
    stated_number: Decimal | None
    stated_date: dt.date | None
    is_stated: bool
    is_different: bool
    note: str | None

    @property
    def centre(self) -> str:
        return figure(self.centre_number, self.centre_date)

    @property
    def stated(self) -> str:
        return figure(self.stated_number, self.stated_date)


def read_items(con: duckdb.DuckDBPyConnection, year: int) -> tuple[ItemFigure, ...]:
    """The year's items in the units' and the ledger's order (empty for a file published before
    the table existed)."""
    has = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'marts' and table_name = 'selfcheck_items'"
    ).fetchone()[0]
    if not has:
        return ()
    rows = fetch_dicts(
        con,
        "select s.* from marts.selfcheck_items s join reference.units u using (unit_code) "
        "where s.year = ? order by u.sort_order, s.sort_order",
        [year],
    )
    return tuple(
        ItemFigure(
            unit_code=r["unit_code"],
            item=r["item"],
            sort_order=int(r["sort_order"]),
            indicator=r["indicator"],
            label=r["item_label"],
            value_kind=r["value_kind"],
            centre_number=r["centre_number"],
            centre_date=r["centre_date"],
            indicator_points=r["indicator_points"],
            has_pack=bool(r["has_pack"]),
            pack_file=r["pack_file"],
            value_cell=r["value_cell"],
            stated_number=r["stated_number"],
            stated_date=r["stated_date"],
            is_stated=bool(r["is_stated"]),
            is_different=bool(r["is_different"]),
            note=r["note"],
        )
        for r in rows
    )
