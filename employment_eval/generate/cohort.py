"""The cohort: one row per graduate (and per 结业 row and per graduate who is later removed from
the database), with identity and the static random draws. Depends on (year, seed, scale) only."""

from __future__ import annotations

import numpy as np
import polars as pl

from employment_eval.reference import Reference
from employment_eval.rules import DEGREES

# Cohort per unit at scale 1 in 2021: (bachelor, master, doctor). ipmch is the one unit of
# exactly 20 (docs/评估规则.md D5). chest and smhc have equal cohorts (the tie at the quota
# line of the demo season), so have first and sixth (the rank decided by the exact 15 Dec rate).
COHORTS: dict[str, tuple[int, int, int]] = {
    "ug_branch": (420, 0, 0),
    "basic": (60, 110, 45),
    "nursing": (150, 40, 6),
    "public_health": (90, 80, 20),
    "ruijin": (35, 250, 160),
    "renji": (30, 220, 140),
    "xinhua": (28, 200, 110),
    "ninth": (40, 190, 100),
    "first": (0, 180, 80),
    "sixth": (0, 180, 80),
    "scmc": (0, 45, 25),
    "childrens": (0, 30, 8),
    "chest": (0, 12, 6),
    "ipmch": (0, 14, 6),
    "smhc": (0, 12, 6),
}
# 结业 rows (outside the cohort) at scale 1: (unit, degree index) → rows.
COMPLETIONS: dict[tuple[str, int], int] = {
    ("ug_branch", 0): 4,
    ("nursing", 0): 1,
    ("basic", 1): 2,
    ("ruijin", 2): 1,
}
# Graduates listed in the early exports and later removed from the database (a cohort change),
# at scale 1 (at least one each at any scale): (unit, degree index) → rows.
GHOSTS: dict[tuple[str, int], int] = {
    ("ruijin", 1): 3,
    ("nursing", 0): 2,
    ("basic", 1): 2,
    ("renji", 2): 1,
    ("xinhua", 1): 2,
}
YEAR_GROWTH = 0.04  # cohorts grow by 4 % a year around 2021

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉斌"
    "宇浩凯晨欣怡佳琪梦雪婷颖慧雅思涵轩博睿哲鸣昊嘉诚俊逸彤萱诗悦曦馨"
)
HAN = ("汉族", "汉")
MINORITIES = (
    ("回族", 14),
    ("满族", 10),
    ("壮族", 10),
    ("土家族", 8),
    ("苗族", 6),
    ("蒙古族", 6),
    ("维吾尔族", 5),
    ("藏族", 4),
    ("彝族", 4),
    ("朝鲜族", 4),
    ("布依族", 3),
    ("侗族", 3),
    ("白族", 3),
    ("哈萨克族", 2),
    ("瑶族", 2),
)


def year_factor(year: int) -> float:
    return 1.0 + YEAR_GROWTH * (year - 2021)


def cell_size(base: int, scale: float, year: int) -> int:
    """Graduates of one unit/degree cell: at least one when the cell exists at scale 1."""
    return max(1, round(base * scale * year_factor(year))) if base else 0


def design_sizes(ref: Reference, scale: float, year: int) -> dict[tuple[int, int], int]:
    """(unit index, degree index) → cohort size as designed (the 15 Dec snapshot of every unit
    without cohort changes)."""
    return {
        (ui, di): cell_size(base, scale, year)
        for ui, unit in enumerate(ref.units)
        for di, base in enumerate(COHORTS[unit.code])
        if base
    }


def _cells(ref: Reference, scale: float, year: int) -> list[tuple[int, int, int, int, int]]:
    """(unit, degree, cohort size, 结业 rows, removed rows) for every unit/degree cell."""
    cells = []
    f = scale * year_factor(year)
    for ui, unit in enumerate(ref.units):
        for di, base in enumerate(COHORTS[unit.code]):
            extra = COMPLETIONS.get((unit.code, di), 0)
            ghosts = GHOSTS.get((unit.code, di), 0)
            if base == 0 and extra == 0:
                continue
            n = cell_size(base, scale, year)
            cells.append((ui, di, n, round(extra * f), max(1, round(ghosts * f)) if ghosts else 0))
    return cells


def cohort(ref: Reference, year: int, scale: float, rng: np.random.Generator) -> pl.DataFrame:
    """One row per graduate, 结业 student and removed graduate, ordered by cell then seq."""
    cells = _cells(ref, scale, year)
    sizes = np.array([n + k + g for _, _, n, k, g in cells])
    unit_idx = np.repeat([c[0] for c in cells], sizes).astype(np.int16)
    deg_idx = np.repeat([c[1] for c in cells], sizes).astype(np.int8)
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    seq = np.arange(sizes.sum()) - starts + 1
    design = np.repeat([c[2] for c in cells], sizes)
    completion = (seq > design) & (seq <= design + np.repeat([c[3] for c in cells], sizes))
    ghost = seq > design + np.repeat([c[3] for c in cells], sizes)
    cell = np.repeat(np.arange(len(cells)), sizes)
    width = max(4, len(str(int(sizes.max()))))
    sort_order = np.array([u.sort_order for u in ref.units])[unit_idx]
    n = len(seq)
    df = pl.DataFrame(
        {
            "unit_idx": unit_idx,
            "deg_idx": deg_idx,
            "completion": completion,
            "ghost": ghost,
            "cell": cell.astype(np.int32),
            "sort": sort_order,
            "seq": seq.astype(np.int32),
            "bits": rng.integers(0, 100, n).astype(np.int8),
        }
    )
    sid = pl.concat_str(
        pl.lit(f"0{year % 100:02d}"),
        pl.col("sort").cast(pl.String).str.zfill(2),
        (pl.col("deg_idx") + 1).cast(pl.String),
        pl.col("seq").cast(pl.String).str.zfill(width),
    )
    return df.with_columns(
        student_id=sid,
        name=names(rng, n),
        gender=_genders(rng, ref, unit_idx),
        ethnicity=_ethnicities(rng, n),
        completion_label=_completion_labels(rng, ref, deg_idx),
    ).drop("sort")


def names(rng: np.random.Generator, n: int) -> pl.Series:
    surnames = pl.Series(list(SURNAMES)).gather(rng.integers(0, len(SURNAMES), n))
    given = pl.Series(list(GIVEN))
    first = given.gather(rng.integers(0, len(GIVEN), n))
    second = given.gather(rng.integers(0, len(GIVEN), n))
    frame = pl.DataFrame({"a": surnames, "b": first, "c": second, "two": rng.random(n) < 0.72})
    third = pl.when(pl.col("two")).then(pl.col("c"))
    return frame.select(pl.concat_str("a", "b", third, ignore_nulls=True)).to_series()


def _genders(rng: np.random.Generator, ref: Reference, unit_idx: np.ndarray) -> pl.Series:
    female_share = np.array([0.88 if u.code == "nursing" else 0.6 for u in ref.units])
    female = rng.random(len(unit_idx)) < female_share[unit_idx]
    return pl.Series(["男", "女"]).gather(female.astype(np.int8))


def _ethnicities(rng: np.random.Generator, n: int) -> pl.Series:
    """汉族 (as 汉族 or 汉) for ~92 %, a minority with or without 族 for the rest."""
    options = list(HAN)
    for full, _ in MINORITIES:
        options += [full, full.removesuffix("族")]
    weights = np.array([w for _, w in MINORITIES], dtype=float)
    minority = rng.random(n) < 0.08
    which = rng.choice(len(MINORITIES), n, p=weights / weights.sum())
    short = rng.random(n) < np.where(minority, 0.3, 0.15)
    idx = np.where(minority, 2 + 2 * which, 0) + short
    return pl.Series(options).gather(idx)


def _completion_labels(rng: np.random.Generator, ref: Reference, deg: np.ndarray) -> pl.Series:
    labels: list[str] = []
    offsets = []
    for d in DEGREES:
        options = [
            k for k, (deg_code, done) in ref.degree_by_label.items() if done and deg_code == d
        ]
        offsets.append((len(labels), len(options)))
        labels += options
    start = np.array([o[0] for o in offsets])[deg]
    count = np.array([o[1] for o in offsets])[deg]
    return pl.Series(labels).gather(start + (rng.random(len(deg)) * count).astype(np.int64))
