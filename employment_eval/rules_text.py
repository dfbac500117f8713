"""A new year's rules file to edit: the previous year's rules written out in full, every
section and setting commented in Chinese (what it means, which values are allowed), the dates
moved to the new year (`employment-eval rules new`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from employment_eval.rules import (
    DEGREES,
    GROUPS,
    INDICATORS,
    KNOB_CHOICES,
    ExpectedDrop,
    Milestone,
    Rules,
)

GROUP_NAMES = {"school": "院本部", "general": "附属综合性医院", "specialty": "附属专科医院"}
DEGREE_NAMES = {"bachelor": "本科", "master": "硕士", "doctor": "博士"}
INDICATOR_NOTES = {
    "I1": "就业管理：工作组、生源信息台账、政策与离校手续宣传（中心审核得分，0–基准分）",
    "I2": "就业管理：优秀毕业生评选（有合理投诉即 0 分）",
    "I3": "就业管理：各时间节点就业率（见 [[milestones]] 与 [i3]）",
    "I4": "就业管理：未就业学生跟踪、《未就业学生调研报告》（中心审核得分）",
    "I5": "就业管理：就业动员会与职业导师/校友座谈（各占一半）",
    "I6": "就业指导：特定群体就业率不低于 12 月 15 日目标（否则 0 分）",
    "I7": "就业指导：职业咨询登记表（见 [i7]）",
    "I8": "就业指导：成长成才典型故事（见 [i8]）",
    "I9": "就业市场：就业引导单位就业比例（见 [i9]）",
}
KNOB_NOTES: dict[str, tuple[str, ...]] = {
    "require_verification": (
        "D2 是否只计已鉴证、且鉴证日期不晚于统计日的就业记录。",
        "可选：true（只计已鉴证，默认）、false（不看鉴证）",
    ),
    "deduction_rounding": (
        "D3 扣分的取整方式（I3 与 I9 共用）。",
        '可选："floor" 向下取整，不足一个步长不扣分（默认）；"ceil" 向上取整；',
        '"exact" 按比例扣分，四舍五入保留两位小数',
    ),
    "large_unit_threshold": (
        "D5 大小单位的分界：毕业生人数多于该数为大单位，恰好等于为小单位。",
        "非负整数，默认 20",
    ),
    "partial_credit": (
        "D5 I7、I8 提交不足所需份数时如何得分。",
        '可选："proportional" 按提交比例得分（默认）；"none" 不足即 0 分',
    ),
    "guided_denominator": (
        "D6 I9 比例的分母。",
        '可选："employed_in_job" 已就业且去向为工作的毕业生（默认）；',
        '"all_graduates" 全部毕业生',
    ),
    "special_group_scope": (
        "D4 I6 特定群体的统计口径。",
        '可选："per_group_degree" 每个群体、每个学历分别须达标（默认）；',
        '"pooled_by_degree" 三类群体合并，按学历达标（每人只计一次）',
    ),
}


def percent(bp: int) -> str:
    """Basis points as the rules file writes a percentage: 94 or "94.5" (never a float)."""
    if bp % 100 == 0:
        return str(bp // 100)
    return f'"{(Decimal(bp) / 100).normalize():f}"'


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def moved_date(day: dt.date, year: int) -> dt.date:
    """The same day in another year (29 February becomes 28 February)."""
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def for_year(rules: Rules, year: int) -> Rules:
    """The rules with every date moved to `year`; the policy (number and title) is the source
    year's until the centre writes the new year's: a policy stays in force until replaced, and a
    blank 文号 is refused (every published file names the policy it follows)."""
    return dataclasses.replace(
        rules,
        year=year,
        milestones=tuple(
            Milestone(moved_date(m.date, year), m.base_points, dict(m.target_bp))
            for m in rules.milestones
        ),
        guided_date=moved_date(rules.guided_date, year),
        i4_report_deadline=moved_date(rules.i4_report_deadline, year),
        evaluation_start=moved_date(rules.evaluation_start, year),
        sha256="",
        expected_drops=(),  # they name the old year's exports
    )


def commented_text(new: Rules, source: Rules, check_command: str) -> str:
    """The complete rules file of `new`, commented; `source` is the file it was copied from."""
    y, f = new.year, source.year
    out = [
        f"# {y} 年度毕业生就业工作质量评估规则",
        "#",
        f"# 由 employment-eval rules new 从 {f} 年度的规则复制：",
        f"#   {source.path}",
        f"#   （sha256 {source.sha256[:16]}…）",
        f"# 日期已全部移到 {y} 年；目标、分值、名额与口径设置仍与 {f} 年度相同。请按 {y} 年度的",
        "# 评估办法逐项修改，改完后检查：",
        f"#   {check_command}",
        "# 启用前可先试算（不影响已发布的数据）：employment-eval whatif --rules <本文件>",
        "#",
        "# 写法：",
        '# - 百分数写成整数（94）或带引号的小数（"94.5"）。不接受 94.5 这样不带引号的小数',
        "#   （浮点数会让临界值的比较不精确）。",
        "# - 日期写成 2022-12-15（不加引号）；文字加双引号；true、false 不加引号。",
        "# - 「#」之后是注释，程序不读。只有文件名恰为 <年度>.toml 的文件是正式规则。",
        "",
        "# 评估年度（毕业生的毕业年份）。须与文件名 <年度>.toml 一致。",
        f"year = {y}",
        "",
        "# 评估办法的文号与标题：写入发布的数据（marts.run_info）与年终报告。",
        "[policy]",
        f"# 沿用 {f} 年度所依据的办法；若 {y} 年度依据新的文件，请改为新文件的文号与标题。",
        f"number = {_literal(new.policy_number)}  # 文号（不能为空）",
        f"title = {_literal(new.policy_title)}  # 评估办法的标题",
        "",
        "# 评估用到的日期，都须在评估年度内。",
        "[dates]",
        f"guided_snapshot = {new.guided_date.isoformat()}  "
        "# I9 按该日的数据统计（须与 I3 的时间节点不同）",
        f"i4_report_deadline = {new.i4_report_deadline.isoformat()}  "
        "# I4《未就业学生调研报告》截止日：晚交或未交在说明中注明，不扣分",
        f"i5_meeting_month = {new.i5_meeting_month}  # I5 就业动员会须在该月召开（1–12）",
        f"evaluation_start = {new.evaluation_start.isoformat()}  # 年终评估开始日",
        "",
        "# I3 时间节点就业率：每个 [[milestones]] 是一个节点（至少一个，日期各不相同）。",
        "#   date         节点日期（在评估年度内）",
        "#   base_points  该节点的基准分；各节点之和须等于 [indicators] 中 I3 的基准分",
        "#   targets      各学历的目标就业率（%）：bachelor 本科、master 硕士、doctor 博士",
        "# 每个节点按学历计：每低于目标 [i3] deduction_step_pct 个百分点扣 1 分",
        "# （节点扣到 0 为止），超过目标所需人数后每多 1 人加 [i3] bonus_per_person 分。",
    ]
    for m in new.milestones:
        targets = ", ".join(f"{d} = {percent(m.target_bp[d])}" for d in DEGREES)
        out += [
            "",
            "[[milestones]]",
            f"date = {m.date.isoformat()}",
            f"base_points = {m.base_points}",
            f"targets = {{ {targets} }}",
        ]
    out += [
        "",
        "# 九项指标（代码 I1–I9 不可更改）：",
        "#   category     类别，kpi（达标指标）或 development（发展指标）",
        "#   base_points  基准分（非负整数；加分不设上限，总分可超过基准分之和）",
        "#   name         指标名称，显示在记分表与报告中",
        "[indicators]",
    ]
    for code in INDICATORS:
        category, base, name = new.indicators[code]
        out.append(f"# {code} {INDICATOR_NOTES[code]}")
        out.append(
            f"{code} = {{ category = {_literal(category)}, base_points = {base}, "
            f"name = {_literal(name)} }}"
        )
    out += [
        "",
        "# 先进单位名额：每组按总分排名，前若干名为先进单位（非负整数）。",
        "[quotas]",
        *(f"{g} = {new.quotas[g]}  # {GROUP_NAMES[g]}" for g in GROUPS),
        "",
        "# I3 的扣分与加分。",
        "[i3]",
        f"deduction_step_pct = {percent(new.i3_step_bp)}  "
        "# 每低于目标该百分点数扣 1 分（百分数，须大于 0）",
        f"bonus_per_person = {new.i3_bonus_per_person}  "
        "# 超出目标所需人数后每多 1 人加的分（非负整数）",
        "",
        "# I9 就业引导单位就业比例。",
        "[i9]",
        f"target_pct = {percent(new.i9_target_bp)}  # 目标比例（%），达到即得满分",
        f"deduction_step_pct = {percent(new.i9_step_bp)}  "
        "# 每低于目标该百分点数扣 1 分（须大于 0）",
        "",
        "# I7 职业咨询：需提交的《职业咨询与辅导信息登记表》份数（非负整数）。",
        "[i7]",
        f"required_large = {new.i7_required[0]}  "
        "# 大单位（毕业生多于 knobs.large_unit_threshold 人）",
        f"required_small = {new.i7_required[1]}  # 小单位",
        "",
        "# I8 成长成才典型：需提交的故事篇数（非负整数）。",
        "[i8]",
        f"required_large = {new.i8_required[0]}  # 大单位",
        f"required_small = {new.i8_required[1]}  # 小单位",
        "",
        "# 口径设置：评估规则（docs/评估规则.md）中可由中心决定的解读。",
        "[knobs]",
    ]
    for name in KNOB_CHOICES:
        out += [f"# {line}" for line in KNOB_NOTES[name]]
        out.append(f"{name} = {_literal(new.knobs[name])}")
    out += exports_section(new)
    return "\n".join(out) + "\n"


def exports_section(rules: Rules) -> list[str]:
    """The [exports] section, commented: the cohort-fall limit and how to record a fall the
    centre expected (docs/输入文件格式.md)."""
    y = rules.year
    return [
        "",
        "# 导出之间的核对：同一届毕业生的人数在相邻两次导出之间不应无故减少",
        "# （见 docs/输入文件格式.md「同一届人数不得无故减少」）。",
        "[exports]",
        "# 某单位某学历的毕业生人数比上一次导出减少超过该百分比（按整人向上取整，",
        "# 即至少容许减少 1 人）时报错，本次运行不发布；0 表示任何减少都报错。",
        f"max_cohort_drop_pct = {percent(rules.max_cohort_drop_bp)}",
        "# 预期之中的减少（例如一批学生转为结业）：每一处写一个 [[exports.expected_drops]]，",
        "# 去掉下面几行开头的「# 」并改成实际的单位、学历、导出日期和原因：",
        "# [[exports.expected_drops]]",
        '# unit = "上海交通大学医学院附属瑞金医院"  # 单位全称、简称或单位代码',
        '# degree = "硕士"  # 本科、硕士或博士',
        f"# export_date = {y}-12-15  # 人数减少的那次导出的导出日期",
        '# reason = "12 名硕士转为结业"  # 原因（必填）',
        *(line for drop in rules.expected_drops for line in _drop_lines(drop)),
    ]


def _drop_lines(drop: ExpectedDrop) -> list[str]:
    return [
        "",
        "[[exports.expected_drops]]",
        f"unit = {_literal(drop.unit_code)}",
        f"degree = {_literal(DEGREE_NAMES[drop.degree])}",
        f"export_date = {drop.export_date.isoformat()}",
        f"reason = {_literal(drop.reason)}",
    ]
