"""Several years side by side, for the reports: `read_unit_trends` reads `marts.unit_trends` of
a published marts file (read-only) into one `UnitTrend` per unit, its years in order — what a
small multiple per unit (total and 15 Dec rate by year) needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from employment_eval.publish import fetch_dicts, open_published

INDICATOR_COLUMNS = tuple(f"i{i}_points" for i in range(1, 10))


@dataclass(frozen=True)
class UnitYear:
    """One unit in one year, scored under that year's rules."""

    year: int
    total_points: Decimal
    rank_in_group: int
    is_advanced: bool
    status: str  # final / provisional
    points: dict[str, Decimal]  # 'I1'..'I9' → points after adjustments
    graduates: int | None  # cohort at the last node
    node_rates: tuple[tuple[dt.date, Decimal | None], ...]  # (node date, rate), up to three
    final_date: dt.date | None  # the year's last node (15 Dec)
    final_rate: Decimal | None  # the unit's rate there (fraction, 6 decimals)


@dataclass(frozen=True)
class UnitTrend:
    unit_code: str
    unit_name: str
    short_name: str
    unit_group: str
    years: tuple[UnitYear, ...]  # ascending

    @property
    def totals(self) -> list[tuple[int, Decimal]]:
        return [(y.year, y.total_points) for y in self.years]

    @property
    def final_rates(self) -> list[tuple[int, Decimal | None]]:
        return [(y.year, y.final_rate) for y in self.years]


def read_unit_trends(marts_path: Path, years: Iterable[int] | None = None) -> list[UnitTrend]:
    """Every unit (in the units' sort order) with its years in the file (or only `years`).
    A file without `marts.unit_trends` (written by an older version) gives an empty list."""
    con = open_published(Path(marts_path))
    try:
        present = con.execute(
            "select count(*) from duckdb_tables() where database_name = 'published' "
            "and schema_name = 'marts' and table_name = 'unit_trends'"
        ).fetchone()[0]
        if not present:
            return []
        wanted = sorted(set(years)) if years is not None else None
        rows = fetch_dicts(
            con,
            """
            select t.*, u.unit_name, u.short_name, u.sort_order
            from marts.unit_trends as t
            inner join reference.units as u on t.unit_code = u.unit_code
            where $years is null or list_contains($years, t.year)
            order by u.sort_order, t.year
            """,
            {"years": wanted},
        )
    finally:
        con.close()
    trends: dict[str, list[dict]] = {}
    for row in rows:
        trends.setdefault(row["unit_code"], []).append(row)
    return [_trend(items) for items in trends.values()]


def _trend(rows: list[dict]) -> UnitTrend:
    first = rows[0]
    return UnitTrend(
        unit_code=first["unit_code"],
        unit_name=first["unit_name"],
        short_name=first["short_name"],
        unit_group=first["unit_group"],
        years=tuple(_year(r) for r in rows),
    )


def _year(r: dict) -> UnitYear:
    nodes = tuple(
        (r[f"node{i}_date"], r[f"node{i}_rate"])
        for i in (1, 2, 3)
        if r.get(f"node{i}_date") is not None
    )
    return UnitYear(
        year=r["year"],
        total_points=r["total_points"],
        rank_in_group=r["rank_in_group"],
        is_advanced=r["is_advanced"],
        status=r["status"],
        points={c[:2].upper(): r[c] for c in INDICATOR_COLUMNS},
        graduates=r["graduates"],
        node_rates=nodes,
        final_date=r["final_date"],
        final_rate=r["final_rate"],
    )
