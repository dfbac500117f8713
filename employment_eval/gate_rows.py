"""The rows of a large frame that Great Expectations must see, chosen by DuckDB.

A suite whose every expectation judges each row on its own, or checks that a key is unique,
gets the same results from GX on the rows that *may* fail as on the whole frame: a row's
outcome depends on the row alone (or, for uniqueness, on the other rows of its key, which are
handed over with it). DuckDB picks those rows in one pass at its own pace; GX then validates
them — every failing row, every count, every sample value is GX's, exactly as on the whole
frame (tests/test_gate_rows.py compares the two on planted failures).

The predicates are deliberately wide: a row is handed over when DuckDB cannot be sure it
passes (a null compared, a row condition ignored, a hash bucket shared with a duplicate).
Only expectation types, arguments and column types whose semantics DuckDB and pandas share
exactly are narrowed (`NARROWED`: text and integers compared by value, dates by day, keys of
text, integers, dates or booleans); any other suite is validated whole, as before. The
frame's own row count (and its rows per file, for `per_file` suites) comes from the same
DuckDB pass, so `rows_checked` is that of the whole frame.

GX's Data Docs (written only when a check fails) count the rows GX saw for their percentages;
the counts, failing rows and samples of the report and the console are the whole frame's."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

INTEGERS = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
)
ORDERED = INTEGERS | {"DATE"}  # compared alike by DuckDB and by pandas (datetime64 for DATE)
KEYS = INTEGERS | {"VARCHAR", "DATE", "BOOLEAN"}  # equal alike in DuckDB and pandas
CONDITION = {"row_condition", "condition_parser"}  # ignored: a wider choice of rows
NUMBERS = INTEGERS | {"HUGEINT", "FLOAT", "DOUBLE"}  # and DECIMAL(p, s)
# Numbers reach GX as float64 (DECIMAL too): near a bound, the float may fall on either side
# of it; a row within this relative margin of a bound is handed over whatever its side.
MARGIN = 1e-9
NARROWED = {  # expectation type → the arguments it may have
    "expect_column_values_to_not_be_null": {"column"} | CONDITION,
    "expect_column_values_to_be_in_set": {"column", "value_set"} | CONDITION,
    "expect_column_pair_values_a_to_be_greater_than_b": {
        "column_A",
        "column_B",
        "or_equal",
        "ignore_row_if",
    }
    | CONDITION,
    "expect_column_pair_values_to_be_equal": {"column_A", "column_B", "ignore_row_if"} | CONDITION,
    "expect_column_values_to_be_between": {
        "column",
        "min_value",
        "max_value",
        "strict_min",
        "strict_max",
    }
    | CONDITION,
    "expect_column_values_to_not_be_in_set": {"column", "value_set"} | CONDITION,
    "expect_table_row_count_to_be_between": {"min_value", "max_value"},
    "expect_compound_columns_to_be_unique": {"column_list"} | CONDITION,
    "expect_column_values_to_be_unique": {"column"} | CONDITION,
}


@dataclass
class FrameCount:
    """What DuckDB counted of the whole frame: its rows, and its rows per file."""

    rows: int = 0
    per_file: Counter[str] = field(default_factory=Counter)
    narrowed: bool = False


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(int(value))


def _number(kind: str | None) -> bool:
    return kind is not None and (kind in NUMBERS or kind.startswith("DECIMAL("))


def _bound(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _exact(kind: str | None) -> bool:
    """Numbers GX sees as DuckDB holds them (int64, float64): compared alike, no margin."""
    return kind is not None and (kind in INTEGERS or kind == "DOUBLE")


def _double(value: float) -> str:
    return f"'{value!r}'::double"


def _near(column: str, bound: float) -> str:
    """The column (as GX's float) is not safely inside of `bound`: within the margin."""
    return f"abs({column}::double - ({bound!r})) <= {MARGIN!r} * {max(1.0, abs(bound))!r}"


def _values(spec: Any, parameters: dict[str, list]) -> list | None:
    if isinstance(spec, dict) and set(spec) == {"$PARAMETER"}:
        return parameters.get(spec["$PARAMETER"])
    return list(spec) if isinstance(spec, list | tuple | set) else None


def _set(
    kwargs: dict, types: dict[str, str], parameters: dict[str, list], booleans: bool
) -> list | None:
    """The value set of an in-set expectation, without nulls, when DuckDB and pandas compare
    it alike with the column (text with text, integers with integers, booleans if allowed)."""
    kind_of = types.get(kwargs["column"])
    values = _values(kwargs["value_set"], parameters)
    if values is None or kind_of is None:
        return None
    values = [v for v in values if v is not None]
    text = kind_of == "VARCHAR" and all(type(v) is str for v in values)
    whole = kind_of in INTEGERS and all(type(v) is int for v in values)
    truth = booleans and kind_of == "BOOLEAN" and all(type(v) is bool for v in values)
    return values if text or whole or truth else None


_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*==\s*(True|False)\s*$")


def _condition(kwargs: dict, types: dict[str, str]) -> str:
    """The rows a row condition selects, widened: `flag == True` (a boolean column, pandas
    parser) and rows whose flag is null; any other condition: every row."""
    text = kwargs.get("row_condition")
    found = _CONDITION.match(text) if isinstance(text, str) else None
    if found is None or kwargs.get("condition_parser") != "pandas":
        return "true"
    column, value = found.groups()
    if types.get(column) != "BOOLEAN":
        return "true"
    return f"({_q(column)} is null or {_q(column)} = {value.lower()})"


@dataclass(frozen=True)
class Found:
    rows: list[str]  # a row may fail when one of these holds
    keys: list[list[str]]  # … or its key occurs more than once
    counts: list[tuple[int | None, int | None]]  # bounds of the frame's row count


def predicates(
    expectations: Sequence[dict],
    types: dict[str, str],
    parameters: dict[str, list],
    same_float: Callable[[str, float], bool] = lambda kind, value: False,
    equal: Callable[[str, str, str, str], str | None] = lambda a, ta, b, tb: None,
) -> Found | None:
    """What may fail, row by row, and the frame's row-count bounds. None when an
    expectation cannot be narrowed exactly. `same_float(type, bound)`: a value of that
    DECIMAL type equal to the bound reaches GX as the bound's own float (then such a value
    is on its side of a bound that is not strict, and is not handed over for it).
    `equal(a, type of a, b, type of b)`: the rows where two number columns hold equal values
    that GX is sure to see as equal floats (a condition), or None."""
    rows: list[str] = []
    keys: list[list[str]] = []
    counts: list[tuple[int | None, int | None]] = []
    for exp in expectations:
        kind, kwargs = exp["type"], exp["kwargs"]
        if kind not in NARROWED or not set(kwargs) <= NARROWED[kind]:
            return None
        if kind == "expect_table_row_count_to_be_between":
            low, high = kwargs.get("min_value"), kwargs.get("max_value")
            if any(v is not None and type(v) is not int for v in (low, high)):
                return None
            counts.append((low, high))
        elif kind == "expect_column_values_to_not_be_null":
            kind_of = types.get(kwargs["column"])
            if kind_of is None or kind_of in ("FLOAT", "DOUBLE") or "[" in kind_of:
                return None  # (pandas counts NaN as null; DuckDB does not)
            if not (kind_of in KEYS or kind_of.startswith(("DECIMAL", "TIMESTAMP"))):
                return None
            rows.append(f"({_q(kwargs['column'])} is null and {_condition(kwargs, types)})")
        elif kind == "expect_column_values_to_not_be_in_set":
            column, values = kwargs["column"], _set(kwargs, types, parameters, False)
            if values is None:
                return None
            if values:
                rows.append(f"({_q(column)} in ({', '.join(map(_literal, values))}))")
        elif kind == "expect_column_values_to_be_in_set":
            column, values = kwargs["column"], _set(kwargs, types, parameters, True)
            if values is None:
                return None
            listed = ", ".join(map(_literal, values))
            outside = f" and {_q(column)} not in ({listed})" if values else ""
            rows.append(f"({_q(column)} is not null{outside})")
        elif kind == "expect_column_pair_values_a_to_be_greater_than_b":
            a, b = kwargs["column_A"], kwargs["column_B"]
            ta, tb = types.get(a), types.get(b)
            missing = f"{_q(a)} is null or {_q(b)} is null"
            op = ">=" if kwargs.get("or_equal") else ">"
            if kwargs.get("ignore_row_if") == "either_value_is_missing":  # such rows pass
                compared = f"not ({_q(a)} {op} {_q(b)})"
            else:
                compared = f"{missing} or not ({_q(a)} {op} {_q(b)})"
            if ta in ORDERED and tb in ORDERED and (ta == "DATE") == (tb == "DATE"):
                rows.append(f"({compared})")
            elif _exact(ta) and _exact(tb):
                nan = [f"isnan({_q(c)})" for c, t in ((a, ta), (b, tb)) if t == "DOUBLE"]
                rows.append("(" + " or ".join([compared, *nan]) + ")")
            elif _number(ta) and _number(tb) and "DATE" not in (ta, tb):
                # as floats: a clearly above b (equality, or nearly, is handed over) ...
                gap = f"{MARGIN!r} * greatest(1, abs({_q(b)}::double))"
                ignored = kwargs.get("ignore_row_if") == "either_value_is_missing"
                may_fail = (  # a null: GX ignores the row (it passes), else it may fail
                    ("" if ignored else f"{missing} or ")
                    + f"isnan({_q(a)}::double) or isnan({_q(b)}::double) "
                    f"or not ({_q(a)}::double - {_q(b)}::double > {gap})"
                )
                # ... unless a = b and GX is sure to see the two as the same float
                same = equal(a, ta, b, tb) if kwargs.get("or_equal") else None
                rows.append(f"(({may_fail}) and not ({same}))" if same else f"({may_fail})")
            else:
                return None
        elif kind == "expect_column_pair_values_to_be_equal":
            a, b = kwargs["column_A"], kwargs["column_B"]
            ta, tb = types.get(a), types.get(b)
            exact = {"FLOAT", "DOUBLE"}
            same = (ta in KEYS and ta == tb) or (
                _number(ta) and _number(tb) and not {ta, tb} & exact
            )
            if not same:
                return None
            rows.append(f"({_q(a)} is null or {_q(b)} is null or {_q(a)} <> {_q(b)})")
        elif kind == "expect_column_values_to_be_between":
            column, kind_of = kwargs["column"], types.get(kwargs["column"])
            low, high = kwargs.get("min_value"), kwargs.get("max_value")
            if not _number(kind_of) or (low is None and high is None):
                return None
            if any(v is not None and not _bound(v) for v in (low, high)):
                return None
            c = _q(column)
            outside = [f"isnan({c}::double)"]  # (a null is never outside: GX skips it)
            if _exact(kind_of):  # GX compares the very same values
                below = "<=" if kwargs.get("strict_min") else "<"
                above = ">=" if kwargs.get("strict_max") else ">"
                outside += [f"{c} {below} {_double(low)}"] if low is not None else []
                outside += [f"{c} {above} {_double(high)}"] if high is not None else []
            else:  # a decimal as GX's float: near a bound, either side
                for bound, strict, below in ((low, "strict_min", "<"), (high, "strict_max", ">")):
                    if bound is None:
                        continue
                    near = _near(c, bound)
                    if not kwargs.get(strict) and same_float(kind_of, bound):
                        near += f" and {c} <> {_double(bound)}::{kind_of}"
                    outside += [f"{c}::double {below} {_double(bound)}", f"({near})"]
            rows.append("(" + " or ".join(outside) + ")")
        else:
            columns = list(kwargs["column_list"]) if "column_list" in kwargs else [kwargs["column"]]
            if not columns or any(types.get(c) not in KEYS for c in columns):
                return None
            keys.append(columns)
    return Found(rows, keys, counts)


def _same_float(con: duckdb.DuckDBPyConnection, kind: str, value: float) -> bool:
    """The bound as a value of this DECIMAL type, through the conversion GX's frames take
    (DuckDB → Arrow → float64, quality.arrow_frame), is the bound's own float: a value
    equal to the bound then reaches GX as exactly that float."""
    import pyarrow as pa

    if not kind.startswith("DECIMAL("):
        return False
    try:
        table = con.sql(f"select {_double(value)}::{kind} as v").to_arrow_table()
    except duckdb.Error:  # the bound does not fit the type
        return False
    column = table.column("v")
    if not pa.types.is_decimal(column.type) or column.null_count:
        return False
    return column.cast(pa.float64()).to_pylist() == [float(value)]


EQUAL_VALUES = 1000  # at most this many distinct equal values are proved one by one


def _equal(
    con: duckdb.DuckDBPyConnection, select: str, a: str, ta: str, b: str, tb: str
) -> str | None:
    """The rows where a = b and GX sees a and b as the same float: two columns of one DECIMAL
    type (one stored value, one conversion), or a DECIMAL column equal to an integer column
    when that integer, as a value of the DECIMAL type, converts to its own float
    (`_same_float`, value by value). None otherwise."""
    if ta == tb and ta.startswith("DECIMAL("):
        return f"{_q(a)} = {_q(b)}"
    pair = {ta: a, tb: b}
    kinds = sorted(pair, key=lambda k: k.startswith("DECIMAL("))
    if len(pair) != 2 or kinds[0] not in INTEGERS or not kinds[1].startswith("DECIMAL("):
        return None
    whole = _q(pair[kinds[0]])
    values = [
        v
        for (v,) in con.execute(
            f"select distinct {whole} from ({select}) as frame "
            f"where {_q(a)} = {_q(b)} limit {EQUAL_VALUES + 1}"
        ).fetchall()
    ]
    if len(values) > EQUAL_VALUES:
        return None
    proved = [v for v in values if abs(v) < 2**53 and _same_float(con, kinds[1], v)]
    if not proved:
        return None
    return f"{_q(a)} = {_q(b)} and {whole} in ({', '.join(str(int(v)) for v in proved)})"


def narrow(
    con: duckdb.DuckDBPyConnection,
    select: str,
    expectations: Sequence[dict],
    parameters: dict[str, list],
    per_file: str | None,
    count: FrameCount,
) -> str | None:
    """The query of the rows GX must see from the frame `select` (None: every row), after
    counting the frame's rows (and its rows per file) into `count`."""
    relation = con.sql(select)
    types = {c: str(t) for c, t in zip(relation.columns, relation.types, strict=True)}
    found = predicates(
        expectations,
        types,
        parameters,
        lambda k, v: _same_float(con, k, v),
        lambda a, ta, b, tb: _equal(con, select, a, ta, b, tb),
    )
    if found is None:
        return None
    rows, keys = list(found.rows), found.keys
    hashes = [f"hash({', '.join(map(_q, key))})" for key in keys]
    groups = [f"{h} as __k{i}" for i, h in enumerate(hashes)]
    by_file = [f"{_q(per_file)}::varchar as __file"] if per_file else []
    con.execute(
        "create or replace temp table __gate_groups as select "
        + ", ".join([*groups, *by_file, "count(*) as __n"])
        + f" from ({select}) as frame"
        + (" group by all" if groups or by_file else "")
    )
    try:
        total = con.execute("select coalesce(sum(__n), 0) from __gate_groups").fetchall()[0][0]
        count.rows = int(total)
        if per_file:
            count.per_file = Counter(
                {
                    f: int(n)
                    for f, n in con.execute(
                        "select __file, sum(__n) from __gate_groups group by 1"
                    ).fetchall()
                }
            )
        for i, h in enumerate(hashes):  # a key shared by two rows (or a hash collision)
            con.execute(
                f"create or replace temp table __gate_dup{i} as select __k{i} as k "
                f"from __gate_groups group by 1 having sum(__n) > 1"
            )
            rows.append(f"{h} in (select k from __gate_dup{i})")
    finally:
        con.execute("drop table if exists __gate_groups")
    where = " or ".join(rows) if rows else "false"
    chosen = f"select * from ({select}) as frame where {where}"
    if found.counts:  # GX judges the count on the frame it sees: only when it sees none
        inside = all(
            (low is None or count.rows >= low) and (high is None or count.rows <= high)
            for low, high in found.counts
        )
        if not inside or con.execute(f"select count(*) from ({chosen}) as c").fetchall()[0][0]:
            drop(con, expectations)
            return None
    count.narrowed = True
    return chosen


def drop(con: duckdb.DuckDBPyConnection, expectations: Sequence[dict]) -> None:
    """The temp tables of the duplicated keys, once the rows are read."""
    for i in range(len(expectations)):
        con.execute(f"drop table if exists __gate_dup{i}")
