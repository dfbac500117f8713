"""Synthetic input data: one realistic evaluation year, written as the centre's files would be.

`generate(out)` writes registrations/ (the season's employment-database exports),
special_groups/ (the roster), submissions/ (the ledger of unit materials) and an empty
adjustments/ folder, following INPUTS.md. Everything is decided by the seed: the same
arguments give byte-identical files. The cohort and every graduate's story (unemployed →
registered → verified, some changes and cancellations) depend only on (year, seed, scale);
`exports` and `fmt` only decide which snapshots are written and how.

Large scales are vectorised (numpy + polars); no per-row Python loop runs except when
writing .xlsx cells.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from employment_eval.ingest.schema import (
    REGISTRATION_COLUMNS,
    SPECIAL_GROUP_COLUMNS,
    SUBMISSION_COLUMNS,
)
from employment_eval.reference import Reference
from employment_eval.rules import DEGREES, RulesError, load_rules

KINDS = ("registrations", "special_groups", "submissions", "adjustments")
EPOCH = dt.date(1970, 1, 1)
NEVER = 10_000_000  # a day number later than any export
DEFAULT_EXPORTS = 12
FORMATS = ("mixed", "csv")

# Cohort per unit at scale 1: (bachelor, master, doctor). ipmch is the one unit of exactly 20.
COHORTS: dict[str, tuple[int, int, int]] = {
    "ug_branch": (420, 0, 0),
    "basic": (60, 110, 45),
    "nursing": (150, 40, 6),
    "public_health": (90, 80, 20),
    "ruijin": (35, 250, 160),
    "renji": (30, 220, 140),
    "xinhua": (28, 200, 110),
    "ninth": (40, 190, 100),
    "first": (0, 150, 70),
    "sixth": (0, 160, 80),
    "scmc": (0, 45, 25),
    "childrens": (0, 30, 8),
    "chest": (0, 12, 6),
    "ipmch": (0, 14, 6),
    "smhc": (0, 10, 4),
}
# 结业 rows (outside the cohort) at scale 1: (unit, degree index) → rows.
COMPLETIONS: dict[tuple[str, int], int] = {
    ("ug_branch", 0): 4,
    ("nursing", 0): 1,
    ("basic", 1): 2,
    ("ruijin", 2): 1,
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉斌"
    "宇浩凯晨欣怡佳琪梦雪婷颖慧雅思涵轩博睿哲鸣昊嘉诚俊逸彤萱诗悦曦馨"
)
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

# Places of employers: (province short name, city or district).
PLACES = (
    ("上海", "浦东新区"),
    ("上海", "徐汇区"),
    ("上海", "闵行区"),
    ("上海", "黄浦区"),
    ("上海", "静安区"),
    ("上海", "长宁区"),
    ("上海", "杨浦区"),
    ("上海", "松江区"),
    ("上海", "嘉定区"),
    ("上海", "崇明区"),
    ("北京", "海淀区"),
    ("天津", "和平区"),
    ("江苏", "南京市"),
    ("江苏", "苏州市"),
    ("浙江", "杭州市"),
    ("浙江", "宁波市"),
    ("广东", "广州市"),
    ("广东", "深圳市"),
    ("山东", "济南市"),
    ("福建", "厦门市"),
    ("辽宁", "沈阳市"),
    ("海南", "海口市"),
    ("安徽", "合肥市"),
    ("江西", "南昌市"),
    ("河南", "郑州市"),
    ("湖北", "武汉市"),
    ("湖南", "长沙市"),
    ("山西", "太原市"),
    ("四川", "成都市"),
    ("重庆", "渝中区"),
    ("贵州", "贵阳市"),
    ("云南", "昆明市"),
    ("陕西", "西安市"),
    ("甘肃", "兰州市"),
    ("新疆", "乌鲁木齐市"),
    ("广西", "南宁市"),
    ("内蒙古", "呼和浩特市"),
    ("宁夏", "银川市"),
    ("青海", "西宁市"),
    ("西藏", "拉萨市"),
)
BRANDS = ("华康", "瑞泽", "博思", "恒信", "安泰", "明德", "康宁", "泽润", "正元", "启航")
# Employer name templates by employer-type code; {p} is the place prefix, {b} a brand.
EMPLOYER_TEMPLATES: dict[str, tuple[str, ...]] = {
    "23": (
        "{p}人民医院",
        "{p}第一人民医院",
        "{p}第二人民医院",
        "{p}中心医院",
        "{p}中医医院",
        "{p}妇幼保健院",
        "{p}疾病预防控制中心",
        "{p}精神卫生中心",
        "{p}儿童医院",
        "{p}肿瘤医院",
        "{p}社区卫生服务中心",
    ),
    "21": ("{p}医学高等专科学校", "{p}卫生职业技术学院"),
    "20": ("{p}医学科学研究所", "{p}生物医药研究院"),
    "56": ("{p}新城街道社区居委会",),
    "55": ("{p}红旗村村民委员会",),
    "10": ("{p}卫生健康委员会", "{p}医疗保障局"),
    "40": ("中国人民解放军某部队",),
    "39": (
        "{p}{b}医药科技有限公司",
        "{p}{b}生物技术有限公司",
        "{p}{b}健康管理有限公司",
        "{p}{b}医疗器械有限公司",
    ),
    "32": ("{b}医药（中国）有限公司{p}分公司",),
    "31": ("{p}医药集团有限公司", "{p}{b}医药股份有限公司"),
    "29": ("{p}医学会", "{p}红十字会"),
    "22": ("{p}第三中学",),
}
GUIDED_TYPES = ("23", "21", "20", "56")
GUIDED_TYPE_WEIGHTS = (76, 8, 12, 4)
PLAIN_TYPES = ("39", "32", "31", "29", "10", "22")
PLAIN_TYPE_WEIGHTS = (45, 20, 15, 10, 5, 5)
UNIVERSITIES = (
    ("上海交通大学", "上海", "徐汇区"),
    ("复旦大学", "上海", "杨浦区"),
    ("同济大学", "上海", "杨浦区"),
    ("上海中医药大学", "上海", "浦东新区"),
    ("北京大学", "北京", "海淀区"),
    ("浙江大学", "浙江", "杭州市"),
    ("四川大学", "四川", "成都市"),
    ("华中科技大学", "湖北", "武汉市"),
)
ABROAD = (
    "约翰斯·霍普金斯大学",
    "哈佛大学",
    "伦敦大学学院",
    "香港大学",
    "新加坡国立大学",
    "墨尔本大学",
)

# Destination codes (with some three-digit variants) and their weights.
GUIDED_JOB_CODES = ("10", "11", "12", "27", "271", "46", "50", "502", "503", "51", "512", "519")
GUIDED_JOB_WEIGHTS = (42, 24, 10, 6, 2, 0.5, 1, 1, 0.5, 2, 1.5, 0.5)
PLAIN_JOB_CODES = ("10", "11", "12", "27", "75", "76", "77")
PLAIN_JOB_WEIGHTS = (35, 30, 10, 4, 3, 7, 11)
STUDY_CODES = ("80", "801", "802")
STUDY_WEIGHTS = (80, 15, 5)
STUDY_SHARE = (0.34, 0.11, 0.01)  # domestic further study by degree
ABROAD_SHARE = (0.05, 0.03, 0.03)
REMARKS = ("已核实", "待补材料", "已电话联系", "协议书已回收")


@dataclass(frozen=True)
class Season:
    """The year's calendar: node dates and targets (from the rules file when there is one)."""

    year: int
    nodes: tuple[dt.date, ...]
    targets: np.ndarray  # (node, degree) as fractions
    guided: dt.date
    start: dt.date
    end: dt.date

    @property
    def key_dates(self) -> tuple[dt.date, ...]:
        return tuple(sorted({*self.nodes, self.guided}))


@dataclass
class FileStyle:
    """How one registration export is written."""

    date: dt.date
    kind: str  # xlsx | gb18030 | utf-8 | utf-8-sig
    filename: str
    export_col: bool
    unit_names: list[str]
    degree_labels: list[str]
    year_style: str  # plain | jie | mixed
    type_style: str  # code | label | mixed
    date_style: str  # iso | slash | compact | mixed
    drop: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    remark: bool = False
    padded_unit: int | None = None


# --- calendar -------------------------------------------------------------------------------


def load_season(year: int) -> Season:
    """Node dates and targets from the year's rules file, else the 2021 pattern."""
    try:
        rules = load_rules(year)
        nodes = tuple(m.date for m in rules.milestones)
        targets = np.array([[m.target_bp[d] / 10000 for d in DEGREES] for m in rules.milestones])
        guided, end = rules.guided_date, rules.evaluation_start
    except RulesError:
        nodes = (dt.date(year, 6, 15), dt.date(year, 8, 15), dt.date(year, 12, 15))
        targets = np.array([[0.80, 0.80, 0.80], [0.90, 0.94, 0.95], [0.94, 0.97, 0.98]])
        guided, end = dt.date(year, 12, 1), dt.date(year, 12, 20)
    return Season(year, nodes, targets, guided, dt.date(year, 6, 1), end)


def export_dates(season: Season, n: int) -> list[dt.date]:
    """The season's export dates: the node dates and 1 Dec, then nightly ones spread evenly."""
    if n < 1:
        raise ValueError(f"exports 必须至少为 1，收到 {n}")
    key = season.key_dates
    if n <= len(key):
        return sorted(sorted(key, reverse=True)[:n])
    span = (season.end - season.start).days + 1
    others = [season.start + dt.timedelta(days=i) for i in range(span)]
    others = [d for d in others if d not in key]
    k = n - len(key)
    if k > len(others):
        raise ValueError(f"exports = {n} 超过了 {season.start} 至 {season.end} 之间的天数")
    picks = [len(others) - 1] if k == 1 else np.round(np.linspace(0, len(others) - 1, k))
    return sorted({*key, *(others[int(i)] for i in picks)})


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


# --- cohort ---------------------------------------------------------------------------------


def _cells(ref: Reference, scale: float) -> list[tuple[int, int, int, int]]:
    """(unit index, degree index, cohort size, 结业 rows) for every unit/degree cell."""
    cells = []
    for ui, unit in enumerate(ref.units):
        for di, base in enumerate(COHORTS[unit.code]):
            extra = COMPLETIONS.get((unit.code, di), 0)
            if base == 0 and extra == 0:
                continue
            n = max(1, round(base * scale)) if base else 0
            cells.append((ui, di, n, round(extra * scale)))
    return cells


def _cohort(ref: Reference, year: int, scale: float, rng: np.random.Generator) -> pl.DataFrame:
    """One row per graduate (and per 结业 student): identity and the static random draws."""
    cells = _cells(ref, scale)
    sizes = np.array([n + k for _, _, n, k in cells])
    unit_idx = np.repeat([c[0] for c in cells], sizes).astype(np.int16)
    deg_idx = np.repeat([c[1] for c in cells], sizes).astype(np.int8)
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    seq = np.arange(sizes.sum()) - starts + 1
    completion = seq > np.repeat([c[2] for c in cells], sizes)
    cell = np.repeat(np.arange(len(cells)), sizes)
    width = max(4, len(str(int(sizes.max()))))
    sort_order = np.array([u.sort_order for u in ref.units])[unit_idx]
    n = len(seq)
    df = pl.DataFrame(
        {
            "unit_idx": unit_idx,
            "deg_idx": deg_idx,
            "completion": completion,
            "cell": cell.astype(np.int32),
            "sort": sort_order,
            "seq": seq,
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
        name=_names(rng, n),
        gender=_genders(rng, ref, unit_idx),
        ethnicity=_ethnicities(rng, n),
        completion_label=_completion_labels(rng, ref, deg_idx),
    ).drop("sort", "seq")


def _names(rng: np.random.Generator, n: int) -> pl.Series:
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
    names = ["汉族", "汉"]
    for full, _ in MINORITIES:
        names += [full, full.removesuffix("族")]
    weights = np.array([w for _, w in MINORITIES], dtype=float)
    minority = rng.random(n) < 0.08
    which = rng.choice(len(MINORITIES), n, p=weights / weights.sum())
    short = rng.random(n) < np.where(minority, 0.3, 0.15)
    idx = np.where(minority, 2 + 2 * which, 0) + short
    return pl.Series(names).gather(idx)


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


# --- stories --------------------------------------------------------------------------------


def _rates(rng: np.random.Generator, season: Season, n_units: int) -> np.ndarray:
    """Verified-employment rate per (unit, degree, node), plus a final year-end rate."""
    quality = rng.permutation(np.linspace(-1.0, 1.0, n_units))[:, None, None]
    targets = season.targets.T[None, :, :]  # (1, degree, node)
    spread = 0.25 * (1 - targets) + 0.01
    noise = rng.normal(0.0, 1.0, (n_units, len(DEGREES), len(season.nodes))) * spread / 3
    rates = np.clip(targets + spread * quality + noise, 0.5, 1.0)
    for j in range(1, rates.shape[2]):
        rates[:, :, j] = np.minimum(1.0, np.maximum(rates[:, :, j], rates[:, :, j - 1] + 0.005))
    final = np.minimum(1.0, rates[:, :, -1] + rng.uniform(0.003, 0.015, rates.shape[:2]))
    return np.concatenate([rates, final[:, :, None]], axis=2)


def _stratified_u(rng: np.random.Generator, cell: np.ndarray) -> np.ndarray:
    """A uniform draw per graduate, stratified within its cell so node counts hit the rates."""
    n = len(cell)
    order = np.lexsort((rng.random(n), cell))
    sizes = np.bincount(cell)
    starts = np.cumsum(sizes) - sizes
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[cell[order]]
    return (rank + rng.random(n)) / sizes[cell]


def _first_verification(
    rng: np.random.Generator, season: Season, cohort: pl.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Day of the first verification (NEVER for graduates who stay without a destination)."""
    unit = cohort["unit_idx"].to_numpy()
    deg = cohort["deg_idx"].to_numpy()
    cell = cohort["cell"].to_numpy()
    done = cohort["completion"].to_numpy()
    rates = _rates(rng, season, int(unit.max()) + 1)[unit, deg]  # (n, nodes + 1)
    rates[done] = np.linspace(0.1, 0.35, rates.shape[1])
    u = _stratified_u(rng, cell)
    n, bands = len(u), rates.shape[1]
    band = (u[:, None] >= rates).sum(axis=1)
    bounds = np.concatenate([np.zeros((n, 1)), rates, np.ones((n, 1))], axis=1)
    lo, hi = bounds[np.arange(n), band], bounds[np.arange(n), band + 1]
    frac = np.where(hi > lo, (u - lo) / np.where(hi > lo, hi - lo, 1), 0.0)
    edges = [_day(dt.date(season.year, 3, 1)) - 1, *map(_day, season.nodes)]
    edges.append(_day(dt.date(season.year, 12, 31)))
    lo_day = np.array(edges[:-1]) + 1
    span = np.diff(edges)
    clipped = np.minimum(band, bands - 1)
    day = lo_day[clipped] + np.minimum(frac * span[clipped], span[clipped] - 1).astype(np.int64)
    return np.where(band < bands, day, NEVER), band


def _timeline(rng: np.random.Generator, season: Season, cohort: pl.DataFrame) -> dict:
    """Per graduate: registration r1, verification v1, cancellation/change c, second
    registration r2 and verification v2 (day numbers, NEVER when it does not happen)."""
    n = cohort.height
    v1, band = _first_verification(rng, season, cohort)
    employed = v1 < NEVER
    r1 = np.where(employed, v1 - _lags(rng, n, 6, 30), NEVER)
    nodes = np.array([_day(d) for d in season.nodes])
    # Cancellations: employed at the 1st or 2nd node, back to 70 some weeks later.
    which = rng.integers(0, min(2, len(nodes)), n)
    cancel = employed & (band <= which) & (rng.random(n) < 0.02)
    c = np.where(cancel, nodes[which] + rng.integers(1, 41, n), NEVER)
    again = cancel & (rng.random(n) < 0.75)
    r2 = np.where(again, c + rng.integers(7, 61, n), NEVER)
    # Changes of destination: a new registration that needs verifying again.
    ch = v1 + rng.integers(15, 151, n)
    change = employed & ~cancel & (rng.random(n) < 0.05) & (ch < _day(season.end))
    c = np.where(change, ch, c)
    r2 = np.where(change, ch, r2)
    v2 = np.where(r2 < NEVER, r2 + _lags(rng, n, 5, 20), NEVER)
    return {"r1": r1, "v1": v1, "c": c, "r2": r2, "v2": v2}


def _lags(rng: np.random.Generator, n: int, mean: float, cap: int) -> np.ndarray:
    return np.minimum(rng.geometric(1 / mean, n) - 1, cap)


# --- destinations ---------------------------------------------------------------------------


@dataclass
class Catalog:
    """Lookup tables the destination draws index into (entry 0 is blank)."""

    codes: list[str]
    code_labels: list[str | None]
    employers: list[str | None]
    employer_type: list[str]  # type code per employer ("" for none)
    employer_place: list[int]  # place index per employer (-1 for none)
    provinces: list[str | None]  # place × form (short, full, full + city)
    type_codes: list[str | None]
    type_labels: list[str | None]


def _catalog(ref: Reference) -> Catalog:
    codes = sorted({*GUIDED_JOB_CODES, *PLAIN_JOB_CODES, *STUDY_CODES, "85", "70", "71", "72"})
    labels = [ref.destinations[c[:2]]["destination_label"] for c in codes]
    full = {p["province"]: p["province_full_name"] for p in ref.provinces}
    provinces: list[str | None] = [None]
    for short, city in PLACES:
        provinces += [short, full[short], full[short] + city]
    employers: list[str | None] = [None]
    types, places = [""], [-1]
    for code, templates in EMPLOYER_TEMPLATES.items():
        for pi, (short, city) in enumerate(PLACES):
            prefix = full[short] + city if full[short].endswith("市") else city
            for t in templates:
                for b in BRANDS[pi % 3 :: 3] if "{b}" in t else ("",):
                    employers.append(t.format(p=prefix, b=b))
                    types.append(code)
                    places.append(pi)
    place_of = {(s, c): i for i, (s, c) in enumerate(PLACES)}
    for name, short, city in UNIVERSITIES:
        employers.append(name)
        types.append("U")
        places.append(place_of[(short, city)])
    for name in ABROAD:
        employers.append(name)
        types.append("A")
        places.append(-1)
    etypes = ref.seeds["employer_types"]
    return Catalog(
        codes=codes,
        code_labels=labels,
        employers=employers,
        employer_type=types,
        employer_place=places,
        provinces=provinces,
        type_codes=[None] + [r["employer_type_code"] for r in etypes],
        type_labels=[None] + [r["employer_type_label"] for r in etypes],
    )


def _pick(rng: np.random.Generator, options: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    if n == 0 or len(options) == 0:
        return np.zeros(n, dtype=np.int64)
    return options[rng.choice(len(options), n, p=weights / weights.sum())]


def _draw_destinations(
    rng: np.random.Generator,
    cat: Catalog,
    ref: Reference,
    cohort: pl.DataFrame,
    guided_p: np.ndarray,
) -> dict[str, np.ndarray]:
    """One destination per graduate (a job, further study or study abroad), as table indices."""
    n = cohort.height
    deg = cohort["deg_idx"].to_numpy()
    unit = cohort["unit_idx"].to_numpy()
    roll = rng.random(n)
    study = roll < np.array(STUDY_SHARE)[deg]
    abroad = ~study & (roll < np.array(STUDY_SHARE)[deg] + np.array(ABROAD_SHARE)[deg])
    guided = ~study & ~abroad & (rng.random(n) < guided_p[unit])
    plain = ~study & ~abroad & ~guided
    code_ix = {c: i for i, c in enumerate(cat.codes)}
    code = np.zeros(n, dtype=np.int64)
    for mask, codes, weights in (
        (guided, GUIDED_JOB_CODES, GUIDED_JOB_WEIGHTS),
        (plain, PLAIN_JOB_CODES, PLAIN_JOB_WEIGHTS),
        (study, STUDY_CODES, STUDY_WEIGHTS),
        (abroad, ("85",), (1,)),
    ):
        opts = np.array([code_ix[c] for c in codes])
        code[mask] = _pick(rng, opts, np.array(weights, dtype=float), int(mask.sum()))
    family = np.array([c[:2] for c in cat.codes])[code]
    employer = _draw_employers(rng, cat, ref, family, guided, plain, study, abroad)
    return {"code": code, **employer}


def _draw_employers(
    rng: np.random.Generator,
    cat: Catalog,
    ref: Reference,
    family: np.ndarray,
    guided: np.ndarray,
    plain: np.ndarray,
    study: np.ndarray,
    abroad: np.ndarray,
) -> dict[str, np.ndarray]:
    n = len(family)
    etype = np.array(cat.employer_type)
    place = np.array(cat.employer_place)
    cw = {p["province"] for p in ref.provinces if _cw(p)}
    place_cw = np.array([s in cw for s, _ in PLACES] + [False])[place]
    weight = np.where(np.array([s == "上海" for s, _ in PLACES] + [False])[place], 4.0, 1.0)
    grassroots_code = np.isin(family, ("50", "51"))
    no_employer = plain & np.isin(family, ("76", "77")) & (rng.random(n) < 0.8)
    in_cw = guided & ~grassroots_code & (family != "46") & (rng.random(n) < 0.15)
    by_type = guided & ~grassroots_code & (family != "46") & ~in_cw
    classes = [
        (by_type, None, GUIDED_TYPES, GUIDED_TYPE_WEIGHTS),
        (in_cw, place_cw, PLAIN_TYPES, PLAIN_TYPE_WEIGHTS),
        (guided & (family == "46"), None, ("40",), (1,)),
        (grassroots_code, None, ("10", "55", "56"), (3, 4, 3)),
        (plain & ~no_employer, ~place_cw, PLAIN_TYPES, PLAIN_TYPE_WEIGHTS),
        (study, None, ("U",), (1,)),
        (abroad, None, ("A",), (1,)),
    ]
    emp = np.zeros(n, dtype=np.int64)
    for mask, where, types, type_weights in classes:
        chosen = _pick(rng, np.arange(len(types)), np.array(type_weights, float), int(mask.sum()))
        rows = np.flatnonzero(mask)
        for ti, t in enumerate(types):
            ok = (etype == t) & (where if where is not None else True)
            options = np.flatnonzero(ok)
            sel = rows[chosen == ti]
            emp[sel] = _pick(rng, options, weight[options], len(sel))
    return _employer_fields(rng, cat, emp, grassroots_code, guided, plain, study, abroad)


def _cw(province: dict[str, str]) -> bool:
    return province["is_central_western"].strip().lower() == "true"


def _employer_fields(
    rng: np.random.Generator,
    cat: Catalog,
    emp: np.ndarray,
    grassroots_code: np.ndarray,
    guided: np.ndarray,
    plain: np.ndarray,
    study: np.ndarray,
    abroad: np.ndarray,
) -> dict[str, np.ndarray]:
    n = len(emp)
    type_ix = {c: i for i, c in enumerate(cat.type_codes)}
    etype = np.array([type_ix.get(t, 0) for t in cat.employer_type])[emp]
    etype[study | abroad] = 0
    place = np.array(cat.employer_place)[emp]
    form = rng.choice(3, n, p=[0.4, 0.35, 0.25])
    province = np.where(place >= 0, 1 + 3 * place + form, 0)
    loose = plain & (emp == 0)  # 自由职业 / 灵活就业 without an employer
    province[loose] = np.where(rng.random(int(loose.sum())) < 0.5, 1 + form[loose], 0)
    grass = np.where(guided | plain, 1, 0)  # 1 = 否, 2 = 是
    extra = guided & ~grassroots_code & (rng.random(n) < 0.03)
    grass[grassroots_code | extra] = 2
    return {"employer": emp, "etype": etype, "province": province, "grass": grass}


# --- the story frame ------------------------------------------------------------------------


def _story(
    rng: np.random.Generator, ref: Reference, season: Season, cohort: pl.DataFrame
) -> pl.DataFrame:
    """The cohort with each graduate's timeline and two destinations as strings."""
    cat = _catalog(ref)
    n_units = len(ref.units)
    guided_p = rng.permutation(np.linspace(0.40, 0.66, n_units))
    times = _timeline(rng, season, cohort)
    first = _draw_destinations(rng, cat, ref, cohort, guided_p)
    second = _draw_destinations(rng, cat, ref, cohort, guided_p)
    study_first = np.isin(np.array([c[:2] for c in cat.codes])[first["code"]], ("80", "85"))
    roll = rng.random(cohort.height)
    pre = np.where(roll < np.where(study_first, 0.35, 0.08), "71", "70")
    pre = np.where(roll > 0.93, "72", pre)
    columns: dict[str, object] = {k: pl.Series(k, v, dtype=pl.Int32) for k, v in times.items()}
    columns["pre_code"] = pl.Series(pre, dtype=pl.String)
    for suffix, dest in (("1", first), ("2", second)):
        columns |= _dest_columns(cat, dest, suffix)
    return cohort.with_columns(**columns)


def _dest_columns(cat: Catalog, dest: dict[str, np.ndarray], suffix: str) -> dict[str, pl.Series]:
    grass = pl.Series([None, "否", "是"])
    return {
        f"code{suffix}": pl.Series(cat.codes).gather(dest["code"]),
        f"label{suffix}": pl.Series(cat.code_labels).gather(dest["code"]),
        f"employer{suffix}": pl.Series(cat.employers, dtype=pl.String).gather(dest["employer"]),
        f"tcode{suffix}": pl.Series(cat.type_codes).gather(dest["etype"]),
        f"tlabel{suffix}": pl.Series(cat.type_labels).gather(dest["etype"]),
        f"province{suffix}": pl.Series(cat.provinces).gather(dest["province"]),
        f"grass{suffix}": grass.gather(dest["grass"]),
    }


def _snapshot(story: pl.DataFrame, day: int, ref: Reference) -> pl.DataFrame:
    """Every graduate's record as the database shows it on `day`."""
    state = (
        pl.when(pl.col("r1") > day)
        .then(0)
        .when(pl.col("c") > day)
        .then(1)
        .when(pl.col("r2") > day)
        .then(2)
        .otherwise(3)
    )
    labels = {r["destination_code"]: r["destination_label"] for r in ref.seeds["destination_codes"]}
    pre_label = pl.col("pre_code").replace_strict(labels, return_dtype=pl.String)
    s = pl.col("_state")
    verified = ((s == 1) & (pl.col("v1") <= day)) | ((s == 3) & (pl.col("v2") <= day))

    def pick(name: str, idle: pl.Expr | None = None) -> pl.Expr:
        expr = pl.when(s == 1).then(pl.col(f"{name}1")).when(s == 3).then(pl.col(f"{name}2"))
        return expr.otherwise(idle) if idle is not None else expr.otherwise(None)

    return story.with_columns(_state=state).with_columns(
        code=pick("code", pl.when(s == 2).then(pl.lit("70")).otherwise(pl.col("pre_code"))),
        label=pick("label", pl.when(s == 2).then(pl.lit(labels["70"])).otherwise(pre_label)),
        employer=pick("employer"),
        tcode=pick("tcode"),
        tlabel=pick("tlabel"),
        province=pick("province"),
        grass=pick("grass"),
        verified=verified,
        vdate=pl.when(verified)
        .then(pl.when(s == 1).then(pl.col("v1")).otherwise(pl.col("v2")))
        .cast(pl.Date),
    )


# --- file styles ----------------------------------------------------------------------------


def _unit_spellings(ref: Reference) -> list[list[str]]:
    """Per unit: full name, short name, then the aliases."""
    out = [[u.name, u.short_name] for u in ref.units]
    index = {u.code: i for i, u in enumerate(ref.units)}
    for r in ref.seeds["unit_aliases"]:
        if r["alias"] not in out[index[r["unit_code"]]]:
            out[index[r["unit_code"]]].append(r["alias"])
    return out


def _degree_labels(ref: Reference) -> list[list[str]]:
    return [
        [k for k, (deg, done) in ref.degree_by_label.items() if deg == d and not done and k != d]
        for d in DEGREES
    ]


def _kinds(n: int, rng: np.random.Generator, fmt: str) -> list[str]:
    """File kind per export: a cycle of all four in mixed mode (fewer xlsx for long seasons)."""
    if fmt == "csv":
        return ["utf-8"] * n
    cycle = ["xlsx", "gb18030", "utf-8", "utf-8-sig"]
    off = int(rng.integers(0, 4))
    kinds = [cycle[(i + off) % 4] for i in range(n)]
    if n > 16:  # xlsx is slow to write: keep about one in ten
        csvs = cycle[1:]
        kinds = ["xlsx" if (i + off) % 10 == 0 else csvs[(i + off) % 3] for i in range(n)]
    return kinds


def _file_styles(
    rng: np.random.Generator, ref: Reference, dates: list[dt.date], fmt: str
) -> list[FileStyle]:
    spellings = _unit_spellings(ref)
    degree_labels = _degree_labels(ref)
    kinds = _kinds(len(dates), rng, fmt)
    return [
        _file_style(rng, i, d, kind, fmt, spellings, degree_labels)
        for i, (d, kind) in enumerate(zip(dates, kinds, strict=True))
    ]


def _file_style(
    rng: np.random.Generator,
    i: int,
    date: dt.date,
    kind: str,
    fmt: str,
    spellings: list[list[str]],
    degree_labels: list[list[str]],
) -> FileStyle:
    mode = rng.choice(["full", "short", "mixed"], p=[0.4, 0.2, 0.4])
    if mode == "full":
        units = [s[0] for s in spellings]
    elif mode == "short":
        units = [s[1] for s in spellings]
    else:
        units = [s[int(rng.integers(0, len(s)))] for s in spellings]
    style = FileStyle(
        date=date,
        kind=kind,
        filename="",
        export_col=True,
        unit_names=units,
        degree_labels=[str(rng.choice(options)) for options in degree_labels],
        year_style=str(rng.choice(["plain", "jie", "mixed"], p=[0.5, 0.25, 0.25])),
        type_style=str(rng.choice(["code", "label", "mixed"])),
        date_style="iso",
        headers={c.name: c.header for c in REGISTRATION_COLUMNS},
    )
    iso, compact = date.isoformat(), date.strftime("%Y%m%d")
    if fmt == "csv":
        style.filename = f"就业登记导出_{iso}.csv"
        return style
    _quirks(rng, style)
    ext = "xlsx" if kind == "xlsx" else "csv"
    if style.export_col:
        names = [f"就业登记鉴证导出_第{i + 1:03d}批", f"就业登记导出_{iso}", f"export_{compact}"]
    else:
        names = [f"就业登记导出_{iso}", f"export_{compact}", f"就业登记鉴证导出_{compact}"]
    style.filename = f"{names[int(rng.integers(0, 3))]}.{ext}"
    return style


def _quirks(rng: np.random.Generator, style: FileStyle) -> None:
    """The irregularities of real exports (mixed mode only)."""
    style.export_col = bool(rng.random() < 0.5)
    style.date_style = str(rng.choice(["iso", "slash", "compact", "mixed"]))
    optional = ("gender", "destination")
    style.drop = tuple(c for c in optional if rng.random() < 0.15)
    if rng.random() < 0.25:
        col = REGISTRATION_COLUMNS[int(rng.integers(0, len(REGISTRATION_COLUMNS) - 1))]
        style.headers[col.name] = col.name
    if rng.random() < 0.3:
        for col in rng.choice(["student_id", "verification_status", "unit"], 2, replace=False):
            style.headers[str(col)] = f" {style.headers[str(col)]} "
    style.remark = bool(rng.random() < 0.2)
    if rng.random() < 0.15:
        style.padded_unit = int(rng.integers(0, len(style.unit_names)))
        style.unit_names[style.padded_unit] += " "


# --- rendering and writing ------------------------------------------------------------------


def _render(snap: pl.DataFrame, style: FileStyle, year: int) -> pl.DataFrame:
    """The export's columns, headers and value spellings for one file."""
    bits = pl.col("bits")
    xlsx = style.kind == "xlsx"
    unit_map = dict(enumerate(style.unit_names))
    deg_map = dict(enumerate(style.degree_labels))
    years = {"plain": pl.lit(str(year)), "jie": pl.lit(f"{year}届")}
    years["mixed"] = pl.when(bits < 30).then(years["jie"]).otherwise(years["plain"])
    types = {"code": pl.col("tcode"), "label": pl.col("tlabel")}
    types["mixed"] = pl.when(bits % 2 == 0).then(types["code"]).otherwise(types["label"])
    values = {
        "student_id": pl.col("student_id"),
        "name": pl.col("name"),
        "gender": pl.col("gender"),
        "ethnicity": pl.col("ethnicity"),
        "unit": pl.col("unit_idx").replace_strict(unit_map, return_dtype=pl.String),
        "degree": pl.when(pl.col("completion"))
        .then(pl.col("completion_label"))
        .otherwise(pl.col("deg_idx").replace_strict(deg_map, return_dtype=pl.String)),
        "graduation_year": years[style.year_style],
        "destination_code": pl.col("code"),
        "destination": pl.col("label"),
        "employer": pl.col("employer"),
        "employer_type": types[style.type_style],
        "employer_province": pl.col("province"),
        "grassroots": pl.col("grass"),
        "verification_status": pl.when(pl.col("verified"))
        .then(pl.lit("已鉴证"))
        .otherwise(pl.lit("未鉴证")),
        "verification_date": pl.col("vdate") if xlsx else _date_text(style.date_style),
        "export_date": pl.lit(style.date) if xlsx else pl.lit(style.date.isoformat()),
    }
    exprs = []
    for col in REGISTRATION_COLUMNS:
        if col.name in style.drop or (col.name == "export_date" and not style.export_col):
            continue
        exprs.append(values[col.name].alias(style.headers[col.name]))
    if style.remark:
        remark = pl.lit(pl.Series(REMARKS)).gather(bits % len(REMARKS))
        exprs.append(pl.when(bits < 6).then(remark).otherwise(None).alias("备注"))
    return snap.select(exprs)


def _date_text(style: str) -> pl.Expr:
    d = pl.col("vdate")
    forms = {
        "iso": d.dt.strftime("%Y-%m-%d"),
        "slash": d.dt.strftime("%Y/%-m/%-d"),
        "compact": d.dt.strftime("%Y%m%d"),
    }
    if style != "mixed":
        return forms[style]
    bits = pl.col("bits")
    return (
        pl.when(bits < 50)
        .then(forms["iso"])
        .when(bits < 80)
        .then(forms["slash"])
        .otherwise(forms["compact"])
    )


def _write_csv(df: pl.DataFrame, path: Path, kind: str) -> None:
    if kind == "utf-8":
        df.write_csv(path)
        return
    text = df.write_csv(line_terminator="\r\n" if kind == "gb18030" else "\n")
    if kind == "gb18030":
        path.write_bytes(text.encode("gb18030"))
    else:
        path.write_bytes(text.encode("utf-8-sig"))


def _write_xlsx(df: pl.DataFrame, path: Path, created: dt.datetime, sheet: str) -> None:
    """Strings as text cells (学号 keeps its zeros), dates as Excel dates, numbers as numbers."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": created, "author": "就业指导中心"})
    ws = wb.add_worksheet(sheet)
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for c, name in enumerate(df.columns):
        ws.write_string(0, c, name)
        series = df[name]
        if series.dtype == pl.Date:
            write = ws.write_datetime
            for r, v in enumerate(series.to_list(), start=1):
                if v is not None:
                    write(r, c, v, date_fmt)
            continue
        write = ws.write_number if series.dtype.is_numeric() else ws.write_string
        for r, v in enumerate(series.to_list(), start=1):
            if v is not None:
                write(r, c, v)
    wb.close()


def _write_table(df: pl.DataFrame, path: Path, kind: str, created: dt.datetime, sheet: str) -> None:
    if kind == "xlsx":
        _write_xlsx(df, path, created, sheet)
    else:
        _write_csv(df, path, kind)


def _write_registrations(
    out: Path, story: pl.DataFrame, styles: list[FileStyle], ref: Reference, year: int
) -> list[str]:
    names = []
    for style in styles:
        snap = _snapshot(story, _day(style.date), ref)
        frame = _render(snap, style, year)
        created = dt.datetime.combine(style.date, dt.time(2, 0))
        _write_table(frame, out / "registrations" / style.filename, style.kind, created, "就业登记")
        names.append(style.filename)
    return names


# --- roster and ledger ----------------------------------------------------------------------


def _roster(
    rng: np.random.Generator, story: pl.DataFrame, season: Season, year: int
) -> pl.DataFrame:
    """~5 % of the cohort: economic hardship, academic difficulty, some in both. Units help
    these students, so members are mostly placed by the last node (I6 passes in most units)."""
    cohort = story.filter(~pl.col("completion"))
    n = cohort.height
    late = (cohort["v1"] > _day(season.nodes[-1])).to_numpy()
    econ = rng.random(n) < np.where(late, 0.01, 0.04)
    academic = rng.random(n) < np.where(late, 0.02, 0.012) + np.where(econ, 0.1, 0.0)
    ids = cohort["student_id"]
    frame = pl.concat(
        [
            pl.DataFrame({"学号": ids.filter(pl.Series(econ))}).with_columns(
                群体=pl.lit("经济困难")
            ),
            pl.DataFrame({"学号": ids.filter(pl.Series(academic))}).with_columns(
                群体=pl.lit("学业困难")
            ),
        ]
    )
    return frame.with_columns(毕业年份=pl.lit(str(year))).select(
        [c.header for c in SPECIAL_GROUP_COLUMNS]
    )


def _ledger(rng: np.random.Generator, ref: Reference, year: int, xlsx: bool) -> pl.DataFrame:
    """The centre's ledger of unit materials: complete, within bounds, a few odd rows."""
    n = len(ref.units)
    spellings = _unit_spellings(ref)
    odd = rng.choice(n, 4, replace=False)  # complaint, April report, blank report, September
    units = [s[0] if rng.random() < 0.6 else s[int(rng.integers(1, len(s)))] for s in spellings]
    i1 = rng.choice([3.5, 4.0, 4.5, 5.0, 5.0], n)
    i4 = rng.integers(24, 41, n) / 2
    report = [dt.date(year, 3, int(d)) for d in rng.integers(5, 32, n)]
    report[odd[1]] = dt.date(year, 4, int(rng.integers(1, 16)))
    report[odd[2]] = None
    meeting = [dt.date(year, 10, int(d)) for d in rng.integers(8, 31, n)]
    meeting[odd[3]] = dt.date(year, 9, int(rng.integers(20, 31)))
    complaints = np.zeros(n, dtype=np.int64)
    complaints[odd[0]] = 1
    columns = [
        pl.Series(units),
        pl.Series([year] * n),
        pl.Series(i1),
        pl.Series(complaints),
        pl.Series(i4),
        pl.Series(report, dtype=pl.Date),
        pl.Series(meeting, dtype=pl.Date),
        pl.Series(rng.choice([0, 1, 1, 2, 2, 3, 4], n)),
        pl.Series(rng.choice([1, 2, 3, 3, 4, 5], n)),
        pl.Series(rng.choice([0, 1, 2, 3, 3, 4, 5, 6], n)),
    ]
    frame = pl.DataFrame({c.header: s for c, s in zip(SUBMISSION_COLUMNS, columns, strict=True)})
    if xlsx:
        return frame
    half = pl.col(pl.Float64)
    return frame.with_columns(
        pl.when(half == half.floor())
        .then(half.cast(pl.Int64).cast(pl.String))
        .otherwise(half.cast(pl.String)),
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
    )


# --- entry point ----------------------------------------------------------------------------


def _prepare(out: Path) -> None:
    for kind in KINDS:
        folder = out / kind
        folder.mkdir(parents=True, exist_ok=True)
        present = [p.name for p in folder.iterdir() if not p.name.startswith(".")]
        if present:
            raise FileExistsError(f"{folder} 不是空目录（{present[0]} 等），不会覆盖已有输入文件")


def generate(
    out: Path,
    year: int = 2021,
    seed: int = 2021,
    scale: float = 1.0,
    exports: int | None = None,
    fmt: str = "mixed",
) -> dict:
    """Write a synthetic year under `out` (registrations/, special_groups/, submissions/,
    adjustments/ left empty) and return a summary. Same arguments → byte-identical files."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt 必须是 {' / '.join(FORMATS)}，收到 {fmt!r}")
    if not scale > 0:
        raise ValueError(f"scale 必须大于 0，收到 {scale}")
    out = Path(out)
    ref = Reference()
    season = load_season(year)
    dates = export_dates(season, DEFAULT_EXPORTS if exports is None else exports)
    _prepare(out)
    cohort = _cohort(ref, year, scale, np.random.default_rng([seed, year, 1]))
    story = _story(np.random.default_rng([seed, year, 2]), ref, season, cohort)
    styles = _file_styles(np.random.default_rng([seed, year, 3, len(dates)]), ref, dates, fmt)
    registrations = _write_registrations(out, story, styles, ref, year)
    kind = "xlsx" if fmt == "mixed" else "utf-8"
    ext = "xlsx" if fmt == "mixed" else "csv"
    created = dt.datetime(year, 12, 20, 9, 0)
    roster = _roster(np.random.default_rng([seed, year, 4]), story, season, year)
    roster_name = f"特定群体名单_{year}.{ext}"
    _write_table(roster, out / "special_groups" / roster_name, kind, created, "特定群体")
    ledger = _ledger(np.random.default_rng([seed, year, 5]), ref, year, fmt == "mixed")
    ledger_name = f"submissions_{year}.{ext}"
    _write_table(ledger, out / "submissions" / ledger_name, kind, created, "单位材料登记")
    return _summary(out, ref, story, styles, registrations, roster, roster_name, ledger_name)


def _summary(
    out: Path,
    ref: Reference,
    story: pl.DataFrame,
    styles: list[FileStyle],
    registrations: list[str],
    roster: pl.DataFrame,
    roster_name: str,
    ledger_name: str,
) -> dict:
    counts = (
        story.filter(~pl.col("completion"))
        .group_by("unit_idx", "deg_idx")
        .len()
        .sort("unit_idx", "deg_idx")
    )
    by_degree: dict[str, dict[str, int]] = {u.code: {} for u in ref.units}
    for ui, di, n in counts.iter_rows():
        by_degree[ref.units[ui].code][DEGREES[di]] = n
    graduates = {code: sum(d.values()) for code, d in by_degree.items()}
    return {
        "out": str(out),
        "export_dates": [s.date.isoformat() for s in styles],
        "files": {
            "registrations": registrations,
            "special_groups": [roster_name],
            "submissions": [ledger_name],
            "adjustments": [],
        },
        "file_kinds": {s.filename: s.kind for s in styles},
        "graduates": graduates,
        "graduates_by_degree": by_degree,
        "total_graduates": sum(graduates.values()),
        "completion_rows": int(story["completion"].sum()),
        "special_group_rows": roster.height,
    }
