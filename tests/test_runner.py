"""The model runner: dependencies from the SQL, ordering, one-transaction builds, seeds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from employment_eval import build, runner
from employment_eval.paths import REFERENCE_DIR
from employment_eval.rules import load_rules
from employment_eval.runner import ModelError


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def model(tmp_path: Path, sql: str, rel: str = "staging/m.sql") -> runner.Model:
    write(tmp_path, {rel: sql})
    return runner.parse_model(tmp_path / rel)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.t as select * from (values (1, 'a'), (2, 'b')) v(id, code)")
    con.execute("create table raw.u as select 1 as id")
    return con


def by_name(models: list[runner.Model]) -> dict[str, runner.Model]:
    return {m.qualified_name: m for m in models}


# --- dependencies --------------------------------------------------------------------------


def test_cte_names_are_not_dependencies(tmp_path: Path) -> None:
    sql = """
    with units as (select * from reference.units),  -- shadows a real table name
    outer_cte as (
        with inner_cte as (select * from raw.t)
        select * from inner_cte join units using (id)
    ),
    final as (select * from outer_cte)
    select * from final
    """
    assert model(tmp_path, sql).depends_on == {"reference.units", "raw.t"}


def test_nested_cte_is_not_visible_outside_its_query(tmp_path: Path) -> None:
    sql = "with a as (with b as (select * from raw.t) select * from b) select * from b"
    with pytest.raises(ModelError, match="unknown reference 'b'") as err:
        model(tmp_path, sql)
    assert "m.sql" in str(err.value)


def test_table_functions_are_skipped(tmp_path: Path) -> None:
    sql = """
    select r.range, u.x
    from range(3) as r
    cross join unnest([1, 2]) as u(x)
    cross join read_csv('some.csv') as c
    cross join generate_series(1, 2) as g
    join staging.s on true
    """
    assert model(tmp_path, sql).depends_on == {"staging.s"}


def test_subqueries_in_where_from_join_and_select_are_found(tmp_path: Path) -> None:
    sql = """
    with c as (select 1 as id)
    select (select max(id) from meta.run_context) as m
    from (select * from raw.t where id in (select id from c)) as t
    join (select id from staging.j) as j using (id)
    where exists (select 1 from reference.units as u where u.id = t.id)
      and t.id not in (select id from intermediate.w)
    """
    assert model(tmp_path, sql).depends_on == {
        "meta.run_context",
        "raw.t",
        "staging.j",
        "reference.units",
        "intermediate.w",
    }


def test_union_all_branches_are_found(tmp_path: Path) -> None:
    sql = """
    with c as (select 1 as id)
    select id from raw.t
    union all select id from c
    union all (select id from staging.s)
    union all select id from (select id from raw.u)
    """
    assert model(tmp_path, sql).depends_on == {"raw.t", "staging.s", "raw.u"}


def test_names_are_case_insensitive(tmp_path: Path) -> None:
    sql = "with Final as (select * from RAW.T) select * from final"
    assert model(tmp_path, sql).depends_on == {"raw.t"}


def test_unqualified_table_is_an_unknown_reference(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        model(tmp_path, "select * from registrations", rel="staging/stg_x.sql")
    message = str(err.value)
    assert "stg_x.sql" in message and "registrations" in message


def test_parse_error_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="parse error") as err:
        model(tmp_path, "select a, from where (", rel="marts/broken.sql")
    assert "broken.sql" in str(err.value)
    assert "\x1b" not in str(err.value)  # no terminal colour codes from sqlglot


def test_a_model_must_be_one_select(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="exactly one SELECT"):
        model(tmp_path, "create table x as select 1")
    with pytest.raises(ModelError, match="exactly one SELECT"):
        model(tmp_path, "select 1; select 2;")


# --- discovery, header and column docs ------------------------------------------------------


def test_discover_schema_name_and_default_materialization(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "staging/a.sql": "select * from raw.t",
            "intermediate/b.sql": "select * from staging.a",
            "marts/c.sql": "select * from intermediate.b",
            "marts/_draft.sql": "this is not sql",
            "macros.sql": "create macro m(x) as x;",
        },
    )
    models = by_name(runner.discover(tmp_path))
    assert list(models) == ["intermediate.b", "marts.c", "staging.a"]
    assert [models[k].materialized for k in ("staging.a", "intermediate.b", "marts.c")] == [
        "view",
        "view",
        "table",
    ]
    assert models["marts.c"].path == tmp_path / "marts" / "c.sql"
    custom = runner.discover(tmp_path, materializations={"staging": "table"})
    assert by_name(custom)["staging.a"].materialized == "table"


def test_header_directives_description_and_column_docs(tmp_path: Path) -> None:
    sql = """-- One row per unit and year.
-- Counts registrations.
--
-- materialized: table
-- grain: year, unit_code

-- a comment about the CTEs, not part of the header
with src as (
    select * from raw.t  -- where it comes from
),

final as (
    select
        src.id,  -- the id as is
        src.code as unit_code,  -- evaluated unit
        2021 as year,
        -- leading comment line
        count(*) over () as n,
        cast(src.id as varchar) as label  -- last column, no comma
    from src
)

select * from final
"""
    m = model(tmp_path, sql, rel="staging/doc.sql")
    assert m.materialized == "table"  # the directive beats the folder default (view)
    assert m.grain == ("year", "unit_code")
    assert m.description == "One row per unit and year.\nCounts registrations."
    assert m.column_docs == {
        "id": "the id as is",
        "unit_code": "evaluated unit",
        "n": "leading comment line",
        "label": "last column, no comma",
    }
    assert m.sql.startswith("-- One row per unit")


def test_column_docs_without_ctes_and_leading_commas(tmp_path: Path) -> None:
    sql = """-- header
select
    id as a  -- doc a
    , code as b  -- doc b
    , 1 as c
from raw.t
"""
    m = model(tmp_path, sql)
    assert m.column_docs == {"a": "doc a", "b": "doc b"}
    assert m.description == "header" and m.grain == ()


def test_bad_directives_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="materialized"):
        model(tmp_path, "-- materialized: incremental\nselect 1 as x")
    with pytest.raises(ModelError, match="grain"):
        model(tmp_path, "-- grain: one row per unit\nselect 1 as x")


# --- ordering ---------------------------------------------------------------------------


def test_topological_order_is_deterministic(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "marts/z.sql": "select * from intermediate.b join staging.a using (id)",
            "intermediate/b.sql": "select * from staging.c",
            "staging/c.sql": "select * from raw.t",
            "staging/a.sql": "select * from raw.t",
            "staging/d.sql": "select * from staging.a",
        },
    )
    models = runner.discover(tmp_path)
    order = [m.qualified_name for m in runner.topological_order(models)]
    assert order == ["staging.a", "staging.c", "intermediate.b", "marts.z", "staging.d"]
    reversed_input = [m.qualified_name for m in runner.topological_order(models[::-1])]
    assert reversed_input == order


def test_cycle_names_both_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "staging/a.sql": "select * from staging.b",
            "staging/b.sql": "select * from staging.a",
            "staging/c.sql": "select * from raw.t",
        },
    )
    with pytest.raises(ModelError, match="cycle") as err:
        runner.topological_order(runner.discover(tmp_path))
    message = str(err.value)
    assert "a.sql" in message and "b.sql" in message and "c.sql" not in message


# --- building -----------------------------------------------------------------------------


def test_build_in_order_with_timings_and_row_counts(tmp_path: Path, con) -> None:
    write(
        tmp_path,
        {
            "staging/a.sql": "select id, code from raw.t",
            "marts/b.sql": "select * from staging.a where id > 1;\n",
            "marts/c.sql": "select count(*) as n from marts.b",
        },
    )
    result = runner.build(con, runner.discover(tmp_path))
    assert [run.name for run in result.models] == ["staging.a", "marts.b", "marts.c"]
    assert result.row_counts == {"marts.b": 1, "marts.c": 1}
    assert set(result.timings) == {"staging.a", "marts.b", "marts.c"}
    assert result.seconds >= 0
    kinds = con.execute(
        "select table_name, table_type from information_schema.tables "
        "where table_schema in ('staging', 'marts') order by 1"
    ).fetchall()
    assert kinds == [("a", "VIEW"), ("b", "BASE TABLE"), ("c", "BASE TABLE")]


def test_unknown_source_names_file_and_reference(tmp_path: Path, con) -> None:
    write(tmp_path, {"staging/a.sql": "select * from raw.missing_table"})
    with pytest.raises(ModelError) as err:
        runner.build(con, runner.discover(tmp_path))
    assert "a.sql" in str(err.value) and "raw.missing_table" in str(err.value)


def test_original_sql_text_is_executed(tmp_path: Path, con) -> None:
    # sqlglot would rewrite len(...) as LENGTH(...) and 2 ** 3 as POWER(2, 3); DuckDB names
    # unaliased columns after the text, so the column names show which text ran.
    sql = "select len([1, 2, 3]), 2 ** 3, struct_pack(a := 1) as s\nfrom range(3) ;  -- end\n"
    write(tmp_path, {"marts/x.sql": sql})
    result = runner.build(con, runner.discover(tmp_path))
    columns = [d[0] for d in con.execute("select * from marts.x").description]
    assert columns == ["len(list_value(1, 2, 3))", "(2 ** 3)", "s"]
    assert result.row_counts == {"marts.x": 3}


def test_view_and_table_switch(tmp_path: Path, con) -> None:
    write(
        tmp_path,
        {"staging/a.sql": "select 1 as x", "staging/b.sql": "select x + 1 as y from staging.a"},
    )
    runner.build(con, runner.discover(tmp_path))
    for kind in ("table", "view", "table"):
        models = runner.discover(tmp_path, materializations={"staging": kind})
        runner.build(con, models)
        types = con.execute(
            "select table_type from information_schema.tables "
            "where table_schema = 'staging' order by table_name"
        ).fetchall()
        assert types == [("BASE TABLE" if kind == "table" else "VIEW",)] * 2
        assert con.execute("select y from staging.b").fetchall() == [(2,)]


def test_failing_model_rolls_back_the_whole_build(tmp_path: Path, con) -> None:
    write(tmp_path, {"staging/a.sql": "select 1 as version", "marts/t.sql": "select 1 as v"})
    runner.build(con, runner.discover(tmp_path))
    write(
        tmp_path,
        {
            "staging/a.sql": "select 2 as version",
            "marts/t.sql": "select 2 as v",
            "staging/new.sql": "select 1 as x",
            "marts/z_fail.sql": "select cast('not a number' as integer) as n from staging.a",
        },
    )
    with pytest.raises(ModelError) as err:
        runner.build(con, runner.discover(tmp_path))
    message = str(err.value)
    assert "z_fail.sql" in message and "Conversion Error" in message
    # Models built earlier in the failed transaction are back to their old state.
    assert con.execute("select version from staging.a").fetchall() == [(1,)]
    assert con.execute("select v from marts.t").fetchall() == [(1,)]
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = 'new'"
    ).fetchone()
    assert exists == (0,)
    con.execute("select 1").fetchall()  # the connection is usable: no transaction left open
    assert con.execute("select count(*) from duckdb_tables()").fetchone()[0] >= 1


def test_select_builds_only_matching_models(tmp_path: Path, con) -> None:
    write(
        tmp_path,
        {
            "staging/a.sql": "select 1 as x",
            "intermediate/b.sql": "select * from staging.a",
            "marts/c.sql": "select * from intermediate.b",
            "marts/d.sql": "select 2 as y",
        },
    )
    models = runner.discover(tmp_path)
    result = runner.build(con, models, select=["+marts.c"])
    assert [run.name for run in result.models] == ["staging.a", "intermediate.b", "marts.c"]
    with pytest.raises(ModelError, match="matches no model"):
        runner.build(con, models, select="marts.nope")
    fresh = duckdb.connect()
    with pytest.raises(ModelError, match="not built yet"):
        runner.build(fresh, models, select="marts.c")


def test_check_grain_counts_duplicates_and_nulls(tmp_path: Path, con) -> None:
    write(
        tmp_path,
        {
            "marts/ok.sql": "-- grain: id\nselect * from raw.t",
            "marts/bad.sql": (
                "-- grain: k, j\n"
                "select * from (values (1, 1), (1, 1), (1, 1), (2, 2), (2, 2), (3, null))"
                " v(k, j)"
            ),
            "marts/none.sql": "select 1 as x union all select 1",
        },
    )
    models = by_name(runner.discover(tmp_path))
    runner.build(con, list(models.values()))
    assert runner.check_grain(con, models["marts.ok"]) == 0
    assert runner.check_grain(con, models["marts.bad"]) == 3  # keys (1,1), (2,2); one null
    assert runner.check_grain(con, models["marts.none"]) == 0


def test_parsing_twenty_models_is_fast(tmp_path: Path) -> None:
    cte = "    {0} as (\n        select id, code as c{0}  -- doc\n        from raw.t\n    )"
    body = ",\n".join(cte.format(f"x{i}") for i in range(8))
    sql = f"-- grain: id\nwith\n{body}\nselect * from x0 join x7 using (id)\n"
    write(tmp_path, {f"staging/m{i:02}.sql": sql for i in range(20)})
    runner.discover(tmp_path)  # warm-up: imports and dialect set-up
    start = time.perf_counter()
    assert len(runner.discover(tmp_path)) == 20
    assert time.perf_counter() - start < 1.0


# --- seeds and rules ---------------------------------------------------------------------


def test_seeds_keep_codes_as_text_and_type_flags(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "codes.csv": "\ufeffcode,label,is_employed,has_x,sort_order\n"
            "01,first,true,FALSE,2\n10, ten ,false,true,1\n",
            "empty.csv": "employer_name,is_guided\n",
        },
    )
    con = duckdb.connect()
    counts = runner.load_seeds(con, tmp_path, seed_files=["codes", "empty"])
    assert counts == {"reference.codes": 2, "reference.empty": 0}
    rows = con.execute("select * from reference.codes order by sort_order").fetchall()
    assert rows == [("10", "ten", False, True, 1), ("01", "first", True, False, 2)]
    types = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'reference' order by table_name, ordinal_position"
    ).fetchall()
    assert types == [
        ("code", "VARCHAR"),
        ("label", "VARCHAR"),
        ("is_employed", "BOOLEAN"),
        ("has_x", "BOOLEAN"),
        ("sort_order", "INTEGER"),
        ("employer_name", "VARCHAR"),
        ("is_guided", "BOOLEAN"),
    ]


def test_bad_seed_value_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, {"flags.csv": "code,is_on\na,maybe\n"})
    with pytest.raises(ModelError, match=r"flags\.csv.*row 2.*is_on"):
        runner.load_seeds(duckdb.connect(), tmp_path, seed_files=["flags"])


def test_project_seeds_and_rules_tables() -> None:
    con = duckdb.connect()
    counts = runner.load_seeds(con, REFERENCE_DIR, [load_rules(2021)])
    assert counts["reference.guided_employers"] == 0
    assert counts["reference.rule_targets"] == 9
    code_type = con.execute(
        "select typeof(destination_code), typeof(is_employed) "
        "from reference.destination_codes where destination_code = '10'"
    ).fetchone()
    assert code_type == ("VARCHAR", "BOOLEAN")
    years = con.execute(
        "select year, guided_date, typeof(guided_date), typeof(i3_step_bp), "
        "typeof(require_verification), typeof(deduction_rounding) from reference.rule_years"
    ).fetchall()
    assert years == [(2021, dt.date(2021, 12, 1), "DATE", "INTEGER", "BOOLEAN", "VARCHAR")]
    float_columns = con.execute(
        "select count(*) from information_schema.columns where table_schema = 'reference' "
        "and data_type in ('FLOAT', 'DOUBLE')"
    ).fetchone()
    assert float_columns == (0,)
    milestone_type = con.execute(
        "select distinct typeof(milestone_date) from reference.rule_milestones"
    ).fetchall()
    assert milestone_type == [("DATE",)]
    # Loading again replaces the tables rather than appending.
    runner.load_seeds(con, REFERENCE_DIR, [load_rules(2021)])
    assert con.execute("select count(*) from reference.rule_targets").fetchone() == (9,)


def test_rules_given_twice_for_a_year_are_refused() -> None:
    rules = load_rules(2021)
    with pytest.raises(ModelError, match="twice"):
        runner.load_seeds(duckdb.connect(), REFERENCE_DIR, [rules, rules])


# --- analysis cache across processes, reference loaded only when changed -----------------


def test_analysis_cache_is_reused_and_follows_model_changes(tmp_path: Path) -> None:
    sql = tmp_path / "sql"
    write(
        sql,
        {
            "staging/a.sql": "-- grain: id\nselect id, code  -- the code\nfrom raw.t;\n",
            "marts/b.sql": "select * from staging.a",
        },
    )
    cache_file = tmp_path / "work.duckdb.analysis.json"
    first = runner.discover(sql, cache=runner.AnalysisCache(cache_file))
    runner.AnalysisCache(cache_file).save()  # nothing new: the file is left as it is
    cache = runner.AnalysisCache(cache_file)
    assert cache.entries == {}  # save() was never called on the first one
    runner.discover(sql, cache=cache)
    cache.save()
    assert cache_file.stat().st_mode & 0o777 == 0o600
    # a new process: nothing parsed, the same models
    runner._analyse.cache_clear()
    runner._SEEN.clear()
    again = runner.discover(sql, cache=runner.AnalysisCache(cache_file))
    assert runner._analyse.cache_info().misses == 0
    assert again == first
    assert again[1].body == "-- grain: id\nselect id, code  -- the code\nfrom raw.t"
    # a changed model is parsed again; the unchanged one is not
    write(sql, {"marts/b.sql": "select a.id from staging.a as a join raw.u using (id)"})
    cache = runner.AnalysisCache(cache_file)
    changed = {m.qualified_name: m for m in runner.discover(sql, cache=cache)}
    assert runner._analyse.cache_info().misses == 1
    assert changed["marts.b"].depends_on == {"staging.a", "raw.u"}
    cache.save()
    kept = json.loads(cache_file.read_text("utf-8"))["models"]
    assert len(kept) == 2  # the old text of b is dropped
    # another sqlglot or runner version, or a damaged file: parsed again, same result
    for text in ('{"version": "other", "models": {}}', "{not json"):
        cache_file.write_text(text, "utf-8")
        runner._analyse.cache_clear()
        runner._SEEN.clear()
        assert runner.discover(sql, cache=runner.AnalysisCache(cache_file)) == list(
            changed.values()
        )
        assert runner._analyse.cache_info().misses == 2


def test_build_without_row_counts(tmp_path: Path, con) -> None:
    write(
        tmp_path,
        {"staging/a.sql": "select id from raw.t", "marts/b.sql": "select * from staging.a"},
    )
    result = runner.build(con, runner.discover(tmp_path), row_counts=False)
    assert result.row_counts == {} and [r.name for r in result.models] == ["staging.a", "marts.b"]
    assert con.execute("select count(*) from marts.b").fetchone() == (2,)


def test_reference_is_loaded_again_only_when_it_changed(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    rules = [load_rules(2021)]
    assert build.load_reference(con, rules) is True
    assert build.load_reference(con, rules) is False  # same files, same tables: kept
    units = con.execute("select count(*) from reference.units").fetchone()[0]
    # a table whose content changed, a dropped table or macro: loaded again
    for tamper in (
        "delete from reference.units where rowid = 0",
        "update reference.rule_years set guided_date = date '2021-11-30'",
        "drop table reference.degrees",
        "drop macro exact_ratio",
    ):
        con.execute(tamper)
        assert build.load_reference(con, rules) is True, tamper
        assert build.load_reference(con, rules) is False, tamper
    assert con.execute("select count(*) from reference.units").fetchone()[0] == units
    assert con.execute("select guided_date from reference.rule_years").fetchone() == (
        dt.date(2021, 12, 1),
    )
    # other rules, another seed file: loaded again
    other = dataclasses.replace(rules[0], year=2022)
    assert build.load_reference(con, [*rules, other]) is True
    assert con.execute("select count(*) from reference.rule_years").fetchone() == (2,)
    seeds = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, seeds)
    with open(seeds / "units.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")  # same rows, different file: the fingerprint follows the bytes
    assert build.load_reference(con, [*rules, other], reference_dir=seeds) is True
    assert build.load_reference(con, [*rules, other], reference_dir=seeds) is False
