"""Each graduate's story through the season: when they register and get verified (some change
destination or cancel and register again), and where they go; and the snapshot of the
employment database on a given day. Vectorised (numpy + polars): no per-row Python loop."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from employment_eval.generate.season import NEVER, Season, day
from employment_eval.reference import Reference
from employment_eval.rules import DEGREES

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


# --- timeline -------------------------------------------------------------------------------


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
    edges = [day(dt.date(season.year, 3, 1)) - 1, *map(day, season.nodes)]
    edges.append(day(dt.date(season.year, 12, 31)))
    lo_day = np.array(edges[:-1]) + 1
    span = np.diff(edges)
    clipped = np.minimum(band, bands - 1)
    when = lo_day[clipped] + np.minimum(frac * span[clipped], span[clipped] - 1).astype(np.int64)
    return np.where(band < bands, when, NEVER), band


def timeline(rng: np.random.Generator, season: Season, cohort: pl.DataFrame) -> dict:
    """Per graduate: registration r1, verification v1, cancellation/change c, second
    registration r2 and verification v2 (day numbers, NEVER when it does not happen)."""
    n = cohort.height
    v1, band = _first_verification(rng, season, cohort)
    employed = v1 < NEVER
    r1 = np.where(employed, v1 - lags(rng, n, 6, 30), NEVER)
    nodes = np.array([day(d) for d in season.nodes])
    # Cancellations: employed at the 1st or 2nd node, back to 70 some weeks later.
    which = rng.integers(0, min(2, len(nodes)), n)
    cancel = employed & (band <= which) & (rng.random(n) < 0.02)
    c = np.where(cancel, nodes[which] + rng.integers(1, 41, n), NEVER)
    again = cancel & (rng.random(n) < 0.75)
    r2 = np.where(again, c + rng.integers(7, 61, n), NEVER)
    # Changes of destination: a new registration that needs verifying again.
    ch = v1 + rng.integers(15, 151, n)
    change = employed & ~cancel & (rng.random(n) < 0.05) & (ch < day(season.end))
    c = np.where(change, ch, c)
    r2 = np.where(change, ch, r2)
    v2 = np.where(r2 < NEVER, r2 + lags(rng, n, 5, 20), NEVER)
    return {"r1": r1, "v1": v1, "c": c, "r2": r2, "v2": v2}


def lags(rng: np.random.Generator, n: int, mean: float, cap: int) -> np.ndarray:
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


def build_story(
    rng: np.random.Generator,
    ref: Reference,
    season: Season,
    cohort: pl.DataFrame,
    guided_units: frozenset[int] = frozenset(),
) -> pl.DataFrame:
    """The cohort with each graduate's timeline and two destinations as strings. In the units of
    `guided_units` every job is with a guided employer (docs/评估规则.md D6: I9 scores its base)."""
    cat = _catalog(ref)
    n_units = len(ref.units)
    guided_p = rng.permutation(np.linspace(0.40, 0.66, n_units))
    guided_p[list(guided_units)] = 1.0
    times = timeline(rng, season, cohort)
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


def _present(on: int) -> pl.Expr:
    return (pl.col("enter") <= on) & (pl.col("leave") > on) & (pl.col("gap") != on)


def placement(story: pl.DataFrame, on: int) -> pl.DataFrame:
    """Unit, degree and 结业 flag of every record the database holds on day `on` (what
    `snapshot` shows, without the rest)."""
    moved = pl.col("move") > on
    return story.filter(_present(on)).select(
        pl.when(moved).then(pl.col("unit_before")).otherwise(pl.col("unit_idx")).alias("unit_idx"),
        pl.when(moved).then(pl.col("deg_before")).otherwise(pl.col("deg_idx")).alias("deg_idx"),
        "completion",
    )


def snapshot(story: pl.DataFrame, on: int, ref: Reference) -> pl.DataFrame:
    """Every record the database holds on day `on`, as it shows it then: graduates not yet
    added, already removed, or missing from that day's export are left out, and a graduate
    moved to another unit or degree shows the earlier one before the move."""
    state = (
        pl.when(pl.col("r1") > on)
        .then(0)
        .when(pl.col("c") > on)
        .then(1)
        .when(pl.col("r2") > on)
        .then(2)
        .otherwise(3)
    )
    labels = {r["destination_code"]: r["destination_label"] for r in ref.seeds["destination_codes"]}
    pre_label = pl.col("pre_code").replace_strict(labels, return_dtype=pl.String)
    s = pl.col("_state")
    verified = ((s == 1) & (pl.col("v1") <= on)) | ((s == 3) & (pl.col("v2") <= on))

    def pick(name: str, idle: pl.Expr | None = None) -> pl.Expr:
        expr = pl.when(s == 1).then(pl.col(f"{name}1")).when(s == 3).then(pl.col(f"{name}2"))
        return expr.otherwise(idle) if idle is not None else expr.otherwise(None)

    moved = pl.col("move") > on
    return (
        story.filter(_present(on))
        .with_columns(_state=state)
        .with_columns(
            unit_idx=pl.when(moved).then(pl.col("unit_before")).otherwise(pl.col("unit_idx")),
            deg_idx=pl.when(moved).then(pl.col("deg_before")).otherwise(pl.col("deg_idx")),
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
    )
