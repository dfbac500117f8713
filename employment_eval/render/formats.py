"""Numbers and dates for reading, shared by the renderers (year-end and morning: HTML, xlsx,
csv, Prefect artifact): exact (Decimal and int only, never a float), so a figure reads the same
in every file."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal


def points(value: Decimal | None) -> str:
    """Points for reading: 5, 13.5, 13.33 (exact; no float)."""
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(rate: Decimal | None, places: int = 1) -> str:
    """A fraction as a percentage for reading: 0.933333 → 93.3%."""
    if rate is None:
        return ""
    q = (rate * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{points(q)}%"


def yes(value: bool) -> str:
    return "是" if value else "否"


def day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def month_day(value: dt.date) -> str:
    return f"{value.month}月{value.day}日"


def signed(n: int | None) -> str:
    """+3, −2, 0; '' when unknown."""
    if n is None:
        return ""
    return f"+{n}" if n > 0 else ("0" if n == 0 else f"−{-n}")


def points_change(rate_change: Decimal | None) -> str:
    """A change of rate (a fraction) in percentage points, one decimal, half-up: '+1.2'."""
    if rate_change is None:
        return ""
    q = (rate_change * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if q == 0:
        return "0.0"
    return f"+{q}" if q > 0 else f"−{-q}"
