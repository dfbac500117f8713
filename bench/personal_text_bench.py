"""The personal-data check of published free text (the adjustments' 理由 and 审批人): its cost,
and how often an ordinary reason is refused because two of its characters happen to be a
graduate's name. `python bench/personal_text_bench.py [--before REV]`.

Setup (not timed): the demo season of `make demo` (`generate --year 2021 --seed 2021`) read
into a temporary working database by the real ingestion; the views the check reads during a
run (`ingest_cur_registrations`, `…_special_groups`, `…_adjustments`) are then made over every
row of the raw layer. Timed, --runs times each (median, min, max):

  demo      the season's own adjustments (its committee decisions)
  stress    1,000 reasons of 60 characters each (none naming a graduate)

With --before REV, the same with the check as it was at git revision REV (its module
`employment_eval/ingest/crossfile.py` loaded from `git show`), interleaved with the current one.

False positives: ORDINARY below (reasons the centre might write, none naming anyone) against
the demo season's names, against every two-character name the generator can make (each
surname × each given-name character), and against every pair of those surnames with a common
given-name character of real names (COMMON_GIVEN: the worst case of a cohort holding them all):
how many reasons would be refused, and by which names.
Results: printed, and written to bench/results/personal_text.json (git-ignored)."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(ROOT))

from employment_eval.generate import generate  # noqa: E402
from employment_eval.generate.cohort import GIVEN, SURNAMES  # noqa: E402
from employment_eval.ingest.api import ingest  # noqa: E402
from employment_eval.ingest.personal import normalise, personal_data_problems  # noqa: E402

ORDINARY = (
    "经学指委复核，该投诉不属于合理投诉，恢复该项得分",
    "与同组另一单位总分、时间节点得分及十二月十五日就业率完全相同，并列于名额线上，经学指委审议评为先进单位",
    "该单位按时提交了未就业学生排摸报告，材料齐全，予以认定",
    "补交的职业咨询记录表经核实有效，补足所需份数",
    "就业动员会因疫情改为线上举行，经审核予以认可",
    "成长成才典型材料逾期三天提交，按规定扣减一分",
    "经核查，该单位毕业生就业数据统计口径有误，已更正",
    "学指委会议决定：该单位优秀毕业生评选程序合规",
    "时间节点就业率统计中两名学生的去向鉴证延误，责任不在单位",
    "根据学校2021年第3号通知，特殊情况予以考虑",
    "经学生工作指导委员会审议，同意该单位的申诉",
    "该单位积极开展就业引导工作，基层就业人数明显增加",
    "投诉经调查属实，扣除该项全部得分",
    "学院组织了三次专场招聘会，效果良好",
    "附属医院规培学员不计入毕业生人数，重新核定基数",
    "材料中个别数据前后不一致，经单位说明后予以采信",
    "按照评估办法第五条的规定，本项不予加分",
    "单位提交的证明文件真实有效，同意恢复得分",
    "经与单位负责老师核实，情况属实",
    "教务处出具说明，该生延期毕业不计入当年毕业生",
    "疫情期间线上签约手续延迟，准予延长鉴证期限",
    "学指委主任签批，维持原评分",
    "该单位的就业工作组织机构健全，制度完善",
    "经复核，特定群体就业率计算有误，已按正确名单重新计算",
    "其他单位无异议，维持评选结果",
    "十二月一日数据中就业引导单位名单更新后重新计算",
    "专业学位硕士研究生就业情况良好，符合要求",
    "博士毕业生全部落实去向，予以表扬",
    "考虑到该院系毕业生人数较少，按小单位标准计算",
    "请各单位高度重视就业工作，明年继续加强",
)
# Frequent given-name characters of real Chinese names (beyond the generator's sixty), for the
# worst case: a cohort holding every surname × character pair.
COMMON_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华玉萍红建文辉斌宇浩凯晨欣怡佳琪梦雪婷颖慧"
    "雅思涵轩博睿哲鸣昊嘉诚俊逸彤萱诗悦曦馨国志海兰春金云鹏飞峰林亮成坤新德永健生龙元全胜学祥"
    "才发武东利清彬富顺信子昌进有坚和彪先敬震振壮会群豪心邦承乐绍功松善厚庆民友裕河江政谦亨奇"
    "固之翰朗伯宏言若朋梁栋维启克伦翔旭泽辰士以家致树炎行时泰盛"
)
APPROVERS = ("学指委主任", "学生工作指导委员会", "学指委办公室", "就业指导中心主任")


def _check_at(rev: str):
    """`personal_data_problems` as it was at git revision `rev` (in crossfile.py then)."""
    source = subprocess.run(
        ["git", "show", f"{rev}:employment_eval/ingest/crossfile.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "crossfile_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("crossfile_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.personal_data_problems


def setup(place: Path) -> duckdb.DuckDBPyConnection:
    raw = place / "raw"
    generate(raw, year=2021, seed=2021)
    con = duckdb.connect(str(place / "work.duckdb"))
    ingest(raw, con, as_of=dt.date(2021, 12, 20), run_id="bench")
    con.execute(
        "create temp table ingest_cur_registrations as select * from raw.registrations;"
        "create temp table ingest_cur_special_groups as select * from raw.special_groups;"
        "create temp table demo_adjustments as "
        "select source_file, source_row, reason, approved_by from raw.adjustments"
    )
    return con


def use_adjustments(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    con.execute(
        "create or replace temp table ingest_cur_adjustments "
        "(source_file varchar, source_row integer, reason varchar, approved_by varchar)"
    )
    con.executemany("insert into ingest_cur_adjustments values (?, ?, ?, ?)", rows)


def stress_rows() -> list[tuple]:
    reasons = [(ORDINARY[i % len(ORDINARY)] * 3)[:60] for i in range(1000)]
    return [("adjustments/a.csv", i + 2, r, "学指委主任") for i, r in enumerate(reasons)]


def timed(check, con: duckdb.DuckDBPyConnection) -> float:
    started = time.perf_counter()
    check(con)
    return time.perf_counter() - started


def false_positives(names: set[str]) -> dict[str, list[str]]:
    """Reason → the names found in it (the normal form of both, as the check compares)."""
    found: dict[str, list[str]] = {}
    keys = {normalise(n)[0] for n in names}
    keys = {k for k in keys if len(k) >= 2}
    for text in (*ORDINARY, *APPROVERS):
        norm = normalise(text)[0]
        hits = sorted({norm[i : i + n] for n in {len(k) for k in keys}
                       for i in range(len(norm) - n + 1)} & keys)  # fmt: skip
        if hits:
            found[text] = hits
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", metavar="REV", help="also time the check of this revision")
    args = parser.parse_args()
    checks = {"now": personal_data_problems}
    if args.before:
        checks[f"at {args.before}"] = _check_at(args.before)
    with tempfile.TemporaryDirectory() as tmp:
        con = setup(Path(tmp))
        demo = con.execute("select * from demo_adjustments").fetchall()
        names = {
            r[0] for r in con.execute("select distinct name from raw.registrations").fetchall()
        }
        ids = con.execute("select count(distinct student_id) from raw.registrations").fetchone()[0]
        results: dict[str, dict] = {}
        for scenario, rows in (("demo", demo), ("stress", stress_rows())):
            use_adjustments(con, rows)
            for check in checks.values():
                assert check(con) == [], "the bench's reasons must pass"  # warm-up, and sane
            times: dict[str, list[float]] = {label: [] for label in checks}
            for _ in range(args.runs):
                for label, check in checks.items():
                    times[label].append(timed(check, con))
            results[scenario] = {
                label: {
                    "median_s": round(statistics.median(t), 4),
                    "min_s": round(min(t), 4),
                    "max_s": round(max(t), 4),
                }
                for label, t in times.items()
            }
            results[scenario]["cells"] = len(rows) * 2
        con.close()
    every_pair = {s + g for s in SURNAMES for g in GIVEN}
    common_pair = {s + g for s in SURNAMES for g in COMMON_GIVEN}
    two_char_demo = {n for n in names if len(n) == 2}
    report = {
        "graduates_names": len(names),
        "graduates_ids": ids,
        "two_character_names": len(two_char_demo),
        "timings": results,
        "false_positives_demo": false_positives(names),
        "false_positives_every_generated_pair": false_positives(every_pair),
        "false_positives_every_common_pair": false_positives(common_pair),
        "reasons": len(ORDINARY) + len(APPROVERS),
        "generated_pairs": len(every_pair),
        "common_pairs": len(common_pair),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "personal_text.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
