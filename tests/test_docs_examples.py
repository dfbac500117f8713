"""The centre's documentation stays true to the product:

- every example input under docs/examples/raw/ passes `employment-eval check` (the real command
  line in a subprocess), alone and as a folder, and the folder runs to a published scoreboard;
- every code table of docs/代码表.md (and any other doc carrying a `<!-- 对照 … -->` table) equals
  the reference CSV or the 2021 rules file it mirrors, row by row;
- the column tables of docs/输入文件格式.md equal the input schema;
- the settings table of docs/评估规则.md equals the rules file's knobs (names, values, defaults);
- the worked examples of docs/评估规则.md (tables marked «算例») are recomputed on the real SQL
  models, one scenario per rounding setting."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import tomllib
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from employment_eval.ingest.schema import COLUMNS
from employment_eval.paths import PROJECT_ROOT, REFERENCE_DIR, RULES_DIR
from employment_eval.reference import Reference
from employment_eval.rules import KNOB_CHOICES, load_rules
from tests.cli_helpers import cli
from tests.ingest_helpers import NAME_DATE
from tests.warehouse_factory import Grad, build_scenario, season, unemployed

DOCS = PROJECT_ROOT / "docs"
EXAMPLES = DOCS / "examples" / "raw"
RULES_DOC = DOCS / "评估规则.md"
INPUTS_DOC = DOCS / "输入文件格式.md"
CODES_DOC = DOCS / "代码表.md"
AS_OF = "2021-12-20"


# --- reading the docs' tables ------------------------------------------------------------------


def tables(text: str, marker: str) -> dict[str, list[list[str]]]:
    """Every Markdown table that follows a `<!-- {marker} NAME … -->` comment, by NAME: its
    body rows (header and separator left out) as lists of stripped cells."""
    found: dict[str, list[list[str]]] = {}
    pattern = re.compile(rf"^<!-- {re.escape(marker)} (\S+?)[：:\s].*?-->\n((?:\|.*\n?)+)", re.M)
    for match in pattern.finditer(text):
        lines = [ln for ln in match.group(2).splitlines() if ln.startswith("|")]
        rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines[2:]]
        assert match.group(1) not in found, f"two tables marked {marker} {match.group(1)}"
        found[match.group(1)] = rows
    return found


def plain(cell: str) -> str:
    return cell.replace("`", "").strip()


def yes_no(value: object) -> str:
    return "是" if str(value).strip().lower() == "true" else "否"


def seed(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / f"{name}.csv", encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(fh)]


def rules_2021() -> dict:
    return tomllib.loads((RULES_DIR / "2021.toml").read_text(encoding="utf-8"))


def percent(bp: int) -> str:
    """Basis points as the docs write a percentage: 9500 → '95%', 9450 → '94.5%'."""
    return f"{(Decimal(bp) / 100).normalize():f}%"


# --- the command line on the example files ----------------------------------------------------


EXAMPLE_FILES = sorted(
    p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*") if p.is_file()
)


def test_examples_hold_one_file_or_more_of_every_kind_and_nothing_else() -> None:
    assert {f.split("/")[0] for f in EXAMPLE_FILES} == {
        "registrations",
        "special_groups",
        "submissions",
        "adjustments",
    }
    stray = [p for p in (DOCS / "examples").rglob("*") if p.is_file() and EXAMPLES not in p.parents]
    assert not stray, "every example file is an input under docs/examples/raw/<kind>/"


NAME_DATED = "registrations/就业登记鉴证导出_2021-12-15.csv"  # dated by its name, on purpose


@pytest.mark.cli
def test_the_example_folder_passes_check_without_a_warning(tmp_path: Path) -> None:
    """The one warning: the export dated by its file name says so (the docs show both ways)."""
    result = cli("check", "--raw", str(EXAMPLES), "--as-of", AS_OF, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"输入检查通过：{len(EXAMPLE_FILES)} 个文件，1 条警告" in result.stdout, result.stdout
    [warning] = [line for line in result.stdout.splitlines() if line.startswith("[警告]")]
    assert warning.startswith(f"[警告] 文件 {NAME_DATED}") and NAME_DATE in warning


@pytest.mark.cli
@pytest.mark.parametrize("example", EXAMPLE_FILES)
def test_each_example_file_passes_check(example: str, tmp_path: Path) -> None:
    """The file with the exports it refers to (a roster's students must be in the latest
    export): no error anywhere, and no warning about the file itself."""
    raw = tmp_path / "raw"
    exports = [f for f in EXAMPLE_FILES if f.startswith("registrations/")]
    for name in {example, *exports}:
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EXAMPLES / name, raw / name)
    result = cli("check", "--raw", str(raw), "--as-of", AS_OF, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    warned = [
        line
        for line in output.splitlines()
        if line.startswith(f"[警告] 文件 {example}") and NAME_DATE not in line
    ]
    assert "[错误]" not in output and not warned, output


@pytest.mark.cli
def test_the_examples_run_to_a_final_scoreboard_with_the_adjustment(tmp_path: Path) -> None:
    marts, work = tmp_path / "marts" / "m.duckdb", tmp_path / "work" / "w.duckdb"
    result = cli(
        "run", "--raw", str(EXAMPLES), "--marts", str(marts), "--work", str(work),
        "--as-of", AS_OF, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    con = duckdb.connect(str(marts), read_only=True)
    try:
        statuses = con.execute("select distinct status from marts.scoreboard").fetchall()
        units = con.execute("select count(*) from marts.scoreboard where year = 2021").fetchone()
        adjusted = con.execute(
            "select unit_code, indicator from marts.indicator_scores where adjusted"
        ).fetchall()
    finally:
        con.close()
    assert statuses == [("final",)] and units == (15,)
    rows = list(
        csv.DictReader(
            (EXAMPLES / "adjustments" / "学指委调整_2021.csv").open(encoding="utf-8-sig")
        )
    )
    ref = Reference()
    expected = {(ref.unit_by_name[r["单位"]], r["指标"]) for r in rows}
    assert set(adjusted) == expected


# --- code tables against the reference data ----------------------------------------------------

KIND_NAMES = {"job": "工作", "study": "升学、出国出境", "none": "未就业"}
REGION_NAMES = {
    "eastern": "东部",
    "central": "中部",
    "western": "西部",
    "northeastern": "东北",
    "other": "港澳台",
}
CATEGORY_NAMES = {"kpi": "达标类", "development": "发展类"}


def expected_code_tables() -> dict[str, list[list[str]]]:
    groups = {g["unit_group"]: g["group_name"] for g in seed("unit_groups")}
    aliases: dict[str, list[str]] = {}
    for a in seed("unit_aliases"):
        aliases.setdefault(a["unit_code"], []).append(a["alias"])
    rules = rules_2021()
    return {
        "units": [
            [
                u["unit_code"],
                f"{groups[u['unit_group']]}（{u['unit_group']}）",
                u["unit_name"],
                u["short_name"],
                "、".join(aliases.get(u["unit_code"], [])),
            ]
            for u in seed("units")
        ],
        "unit_groups": [
            [g["unit_group"], g["group_name"], str(rules["quotas"][g["unit_group"]])]
            for g in seed("unit_groups")
        ],
        "destination_codes": [
            [
                d["destination_code"],
                d["destination_label"],
                yes_no(d["is_employed"]),
                f"{KIND_NAMES[d['destination_kind']]}（{d['destination_kind']}）",
                yes_no(d["is_grassroots"]),
                yes_no(d["is_unregistered"]),
            ]
            for d in seed("destination_codes")
        ],
        "employer_types": [
            [e["employer_type_code"], e["employer_type_label"], yes_no(e["is_guided"])]
            for e in seed("employer_types")
        ],
        "degrees": [[d["degree"], d["degree_name"]] for d in seed("degrees")],
        "degree_labels": [
            [d["degree_label"], d["degree"], yes_no(d["is_completion"])]
            for d in seed("degree_labels")
        ],
        "special_groups": [
            [s["special_group"], s["special_group_name"]] for s in seed("special_groups")
        ],
        "provinces": [
            [
                p["province"],
                p["province_full_name"],
                f"{REGION_NAMES[p['region']]}（{p['region']}）",
                yes_no(p["is_central_western"]),
            ]
            for p in seed("provinces")
        ],
        "ethnicities": [
            [e["ethnicity"], e["short_name"], yes_no(e["is_minority"])] for e in seed("ethnicities")
        ],
        "indicators": [
            [
                code,
                spec["name"],
                f"{CATEGORY_NAMES[spec['category']]}（{spec['category']}）",
                str(spec["base_points"]),
            ]
            for code, spec in rules["indicators"].items()
        ],
        "milestones": [
            [
                f"{m['date'].month} 月 {m['date'].day} 日",
                str(m["base_points"]),
                *(
                    percent(int(Decimal(str(m["targets"][d])) * 100))
                    for d in ("bachelor", "master", "doctor")
                ),
            ]
            for m in rules["milestones"]
        ],
    }


def test_the_code_tables_list_every_code_of_the_reference_data() -> None:
    expected = expected_code_tables()
    in_codes_doc = tables(CODES_DOC.read_text(encoding="utf-8"), "对照")
    missing = set(expected) - {"milestones"} - set(in_codes_doc)
    assert not missing, f"代码表.md has no table marked 对照 {sorted(missing)}"
    checked = 0
    for doc in sorted(DOCS.glob("*.md")):
        for name, rows in tables(doc.read_text(encoding="utf-8"), "对照").items():
            assert name in expected, f"{doc.name}: no reference data named {name}"
            got = [[plain(c) for c in row] for row in rows]
            assert got == expected[name], f"{doc.name}: table {name} differs from its source"
            checked += 1
    assert checked >= len(expected)


def test_the_input_column_tables_match_the_schema() -> None:
    found = tables(INPUTS_DOC.read_text(encoding="utf-8"), "列")
    assert set(found) == set(COLUMNS)
    for kind, rows in found.items():
        got = [(plain(r[0]), plain(r[1]), plain(r[2]).startswith("是")) for r in rows]
        want = [(c.header, c.name, c.required) for c in COLUMNS[kind]]
        assert got == want, kind


def test_the_settings_table_matches_the_rules_file() -> None:
    rows = tables(RULES_DOC.read_text(encoding="utf-8"), "设置项")
    assert len(rows) == 1
    knobs = rules_2021()["knobs"]
    got = {plain(r[0]): (r[1], plain(r[2])) for r in next(iter(rows.values()))}
    assert set(got) == set(KNOB_CHOICES) == set(knobs)
    for name, spec in KNOB_CHOICES.items():
        values, default = got[name]
        if isinstance(spec, tuple):
            assert values == " / ".join(f"`{v}`" for v in spec), name
        elif spec is bool:
            assert values == "`true` / `false`", name
        else:
            assert values == "非负整数", name
        want = str(knobs[name]).lower() if isinstance(knobs[name], bool) else str(knobs[name])
        assert default == want, name


# --- worked examples recomputed on the real models ---------------------------------------------


def _node(text: str, year: int) -> dt.date:
    month, day = re.fullmatch(r"(\d+)月(\d+)日", text).groups()  # type: ignore[union-attr]
    return dt.date(year, int(month), int(day))


def test_the_worked_examples_are_what_the_models_compute() -> None:
    text = RULES_DOC.read_text(encoding="utf-8")
    examples = tables(text, "算例")
    i3, i9 = examples["I3"], examples["I9"]
    assert len(i3) >= 5 and len(i9) >= 5
    degree_of = {d["degree_name"]: d["degree"] for d in seed("degrees")}
    base_rules = load_rules(2021)
    targets = {(m.date, d): bp for m in base_rules.milestones for d, bp in m.target_bp.items()}
    i9_base = base_rules.indicators["I9"][1]
    units = Reference().unit_codes

    for rounding in sorted({r[7] for r in i3} | {r[4] for r in i9}):
        cases = [("I3", r) for r in i3 if r[7] == rounding] + [
            ("I9", r) for r in i9 if r[4] == rounding
        ]
        assert len(cases) <= len(units)
        grads: list[Grad] = []
        for unit, (kind, row) in zip(units, cases, strict=False):
            if kind == "I3":
                degree, n, e = degree_of[row[2]], int(row[3]), int(row[4])
                grads += [Grad(f"{unit}-{i:04d}", unit, degree) for i in range(e)]
                grads += [unemployed(f"{unit}-{i:04d}", unit, degree) for i in range(e, n)]
            else:
                den, guided = int(row[1]), int(row[2])
                grads += [Grad(f"{unit}-{i:04d}", unit) for i in range(guided)]  # 医疗卫生单位
                grads += [
                    Grad(f"{unit}-{i:04d}", unit, employer_type_code="31", province="上海")
                    for i in range(guided, den)
                ]  # 国有企业 in Shanghai: a job, not guided
        con = build_scenario(season(grads), base_rules.with_knobs(deduction_rounding=rounding))
        for unit, (kind, row) in zip(units, cases, strict=False):
            if kind == "I3":
                node, degree = _node(row[1], 2021), degree_of[row[2]]
                assert percent(targets[(node, degree)]) == row[5], f"算例 {row[0]}: target"
                got = con.execute(
                    "select required_employed, bonus, deduction from marts.milestone_rates "
                    "where unit_code = ? and degree = ? and milestone_date = ?",
                    [unit, degree, node],
                ).fetchone()
                want = (int(row[6]), int(row[8]), Decimal(row[9]))
                assert got is not None and (got[0], got[1], got[2]) == want, f"算例 {row[0]}: {got}"
            else:
                got = con.execute(
                    "select denominator, guided, ratio, points from marts.guided_employment "
                    "where unit_code = ?",
                    [unit],
                ).fetchone()
                ratio = Decimal(row[3].rstrip("%")) / 100
                want = (int(row[1]), int(row[2]), ratio, Decimal(row[6]))
                assert got is not None and tuple(got) == want, f"算例 {row[0]}: {got}"
                assert Decimal(row[6]) == max(Decimal(0), i9_base - Decimal(row[5])), row[0]
        con.close()
