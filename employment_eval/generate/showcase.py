"""What the demo season shows on purpose, built in by construction (never left to chance).

- A tie at the quota line (docs/评估规则.md D10, D12): in the specialty group, two units with equal
  cohorts ("clones": the second is a copy of the first, graduate by graduate, with its own
  names and 学号) and equal ledger rows. The other units of the group are placed clearly above
  or below them, whatever the as-of date of the run:
  * above (quota − 1 units): every graduate verified before June, so I3 ≥ its base at every
    node, I6 full, every job guided (I9 full), and a better ledger row than the clones';
  * clones: exactly the required count at every node (no bonus, so I3 ≤ its base);
  * below: short enough at every node that each node scores 0 (I3 = 0), and a ledger row
    lower than the clones' by more than I6 + I9 can make up (no counselling form: I7 = 0).
  `design` checks these margins exactly with the year's rules; a decision (先进单位) for one of
  the clones is valid only when they hold.
- A rank decided by the exact 15 Dec rate: two general hospitals ("twins", the second a copy
  of the first) exactly at the required count at every node, except one graduate: the first
  twin places one more by the first node (a bonus there), the second one more by the last node
  (a bonus there). Same total, same I3, 15 Dec rates one graduate apart.
- A special-group cell exactly at its target: the economic-hardship bachelors of the
  undergraduate branch, a multiple of the smallest cohort whose target share is whole
  (50 for 94 %), exactly that share employed at 15 Dec.
- Cohort changes among the other units: graduates added in the course of the season, removed
  from the database (the cohort's "ghost" rows), moved to another unit or degree; and one
  roster student missing from the 15 Dec export only (when a later export exists: the roster
  must name students of the latest export of every run).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from employment_eval.generate.cohort import HAN
from employment_eval.generate.season import NEVER, Season, day
from employment_eval.generate.story import lags
from employment_eval.generate.tables import PROFILES, ledger_points
from employment_eval.reference import Reference
from employment_eval.rules import DEGREES, Rules

TIE_GROUP = "specialty"
CLONES = ("chest", "smhc")
AROUND = ("scmc", "childrens", "ipmch")  # the first quota − 1 rank above the clones
TWINS = ("first", "sixth")  # the second ranks above the first by the exact 15 Dec rate
EXACT_CELL = ("ug_branch", 0)  # economic-hardship bachelors
EXACT_SHARE = 0.12  # of the cell's cohort, rounded to a whole multiple of the smallest size
CHANGE_MIN_CELL = 10  # cohort changes only in cells of at least this many graduates
MOVE_SHARE = 0.004
ADD_SHARE = 0.003


@dataclass(frozen=True)
class Plan:
    """Employed graduates of a controlled cell by each node (cumulative). `early`: everyone
    verified before June (before any export and node)."""

    counts: tuple[int, ...]
    early: bool = False


@dataclass(frozen=True)
class Exact:
    unit: int
    degree: int
    members: int
    employed: int
    target_bp: int


@dataclass
class Design:
    """The roles of one year (unit indices), their plans, and what could not be built."""

    roles: dict[int, str] = field(default_factory=dict)  # above | clone | below | twin
    tie: tuple[int, int] | None = None  # (copied, copy)
    above: tuple[int, ...] = ()
    below: tuple[int, ...] = ()
    twins: tuple[int, int] | None = None  # (copied, copy); the copy ranks first
    twin_degree: int | None = None
    plans: dict[tuple[int, int], Plan] = field(default_factory=dict)  # source units
    copy_plans: dict[tuple[int, int], Plan] = field(default_factory=dict)  # the twin copy
    exact: Exact | None = None

    @property
    def guided_units(self) -> frozenset[int]:
        return frozenset((*self.above, *(self.twins or ())))


def _required(target_bp: int, n: int) -> int:
    return -(-target_bp * n // 10000)


def design(ref: Reference, rules: Rules, sizes: dict[tuple[int, int], int]) -> Design:
    """The year's roles, given its rules and the designed cohort sizes."""
    index = {u.code: i for i, u in enumerate(ref.units)}
    targets = [[m.target_bp[d] for d in DEGREES] for m in rules.milestones]
    out = Design()
    _design_tie(out, ref, rules, sizes, index, targets)
    _design_twins(out, sizes, index, targets)
    ui, di = index[EXACT_CELL[0]], EXACT_CELL[1]
    n, t = sizes.get((ui, di), 0), targets[-1][di]
    smallest = 10000 // math.gcd(t, 10000)
    members = smallest * max(1, round(EXACT_SHARE * n / smallest))
    if ui not in out.roles and members <= n:
        out.exact = Exact(ui, di, members, t * members // 10000, t)
    return out


def _cells_of(sizes: dict[tuple[int, int], int], ui: int) -> dict[int, int]:
    return {di: n for (u, di), n in sizes.items() if u == ui and n > 0}


def _design_tie(
    out: Design,
    ref: Reference,
    rules: Rules,
    sizes: dict[tuple[int, int], int],
    index: dict[str, int],
    targets: list[list[int]],
) -> None:
    group = [u.code for u in ref.units if u.group == TIE_GROUP]
    quota = rules.quotas.get(TIE_GROUP, 0)
    if sorted(group) != sorted((*CLONES, *AROUND)) or not 1 <= quota <= len(AROUND) + 1:
        return
    a, b = index[CLONES[0]], index[CLONES[1]]
    if _cells_of(sizes, a) != _cells_of(sizes, b):
        return
    above = tuple(index[c] for c in AROUND[: quota - 1])
    below = tuple(index[c] for c in AROUND[quota - 1 :])
    steps = [m.base_points * rules.i3_step_bp for m in rules.milestones]
    if below and any(t - s < 0 for row, s in zip(targets, steps, strict=True) for t in row):
        return  # a node could not be brought to 0 points by one short cell
    size = {ui: sum(_cells_of(sizes, ui).values()) for ui in (a, *above, *below)}
    points = {
        ui: ledger_points(PROFILES[role], size[ui], rules)
        for role, units in (("clone", (a,)), ("above", above), ("below", below))
        for ui in units
    }
    room = rules.indicators["I6"][1] + rules.indicators["I9"][1]
    if not all(points[x] > points[a] for x in above):
        return
    if not all(points[a] - points[x] > room for x in below):
        return
    out.tie, out.above, out.below = (a, b), above, below
    out.roles |= {a: "clone", b: "clone"} | dict.fromkeys(above, "above")
    out.roles |= dict.fromkeys(below, "below")
    for ui in above:
        for di, n in _cells_of(sizes, ui).items():
            out.plans[(ui, di)] = Plan((n,) * len(targets), early=True)
    for di, n in _cells_of(sizes, a).items():
        out.plans[(a, di)] = Plan(tuple(_required(row[di], n) for row in targets))
    for ui in below:
        for di, n in _cells_of(sizes, ui).items():
            caps = [
                max(0, n * (row[di] - s) // 10000) for row, s in zip(targets, steps, strict=True)
            ]
            counts = [min(caps[k:]) for k in range(len(caps))]
            out.plans[(ui, di)] = Plan(tuple(counts))


def _design_twins(
    out: Design,
    sizes: dict[tuple[int, int], int],
    index: dict[str, int],
    targets: list[list[int]],
) -> None:
    x, y = index[TWINS[0]], index[TWINS[1]]
    cells = _cells_of(sizes, x)
    if x in out.roles or y in out.roles or cells != _cells_of(sizes, y):
        return
    best: tuple[int, int, int] | None = None  # (n, degree, node of the first twin's bonus)
    for di, n in cells.items():
        req = [_required(row[di], n) for row in targets]
        node = next((k for k in range(len(req) - 1) if req[k] + 1 <= req[k + 1]), None)
        if node is not None and req[-1] + 1 <= n and (best is None or n > best[0]):
            best = (n, di, node)
    if best is None:
        return
    _, twin_degree, node = best
    out.twins, out.twin_degree = (x, y), twin_degree
    out.roles |= {x: "twin", y: "twin"}
    for di, n in cells.items():
        req = [_required(row[di], n) for row in targets]
        first, second = list(req), list(req)
        if di == twin_degree:
            first[node] += 1
            second[-1] += 1
        out.plans[(x, di)] = Plan(tuple(first))
        out.copy_plans[(y, di)] = Plan(tuple(second))


# --- applying the design to the story ---------------------------------------------------------


@dataclass
class Applied:
    """What was built, for the summary and the tests (counts only: no personal data)."""

    added: int = 0
    removed: int = 0
    moved_unit: int = 0
    moved_degree: int = 0
    missing_on_last_node: bool = False


class _Arrays:
    """The story's mutable columns as numpy arrays: timeline, roster flags, 汉族 or not."""

    TIMES = ("v1", "r1", "c", "r2", "v2")

    def __init__(self, story: pl.DataFrame) -> None:
        self.t = {k: story[k].to_numpy().astype(np.int64) for k in self.TIMES}
        self.econ = story["econ"].to_numpy().copy()
        self.academic = story["academic"].to_numpy().copy()
        self.han = story["ethnicity"].is_in(list(HAN)).to_numpy().copy()
        self.eth_changed = np.zeros(story.height, dtype=bool)

    def columns(self) -> dict[str, pl.Series]:
        cols = {k: pl.Series(k, v, dtype=pl.Int32) for k, v in self.t.items()}
        return cols | {"econ": pl.Series(self.econ), "academic": pl.Series(self.academic)}

    def member(self) -> np.ndarray:
        return self.econ | self.academic | ~self.han


def apply(
    rng: np.random.Generator,
    season: Season,
    story: pl.DataFrame,
    plan: Design,
    gap_active: bool,
) -> tuple[pl.DataFrame, Applied]:
    """The story with the design built in, roster flags (econ, academic) and the cohort-change
    columns (enter, leave, gap, move, unit_before, deg_before)."""
    n = story.height
    unit = story["unit_idx"].to_numpy()
    deg = story["deg_idx"].to_numpy()
    cell = story["cell"].to_numpy()
    in_cohort = ~story["completion"].to_numpy() & ~story["ghost"].to_numpy()
    last = int(season.node_days[-1])
    # Roster: ~5 % of the cohort. Units help these students, so members are mostly placed by
    # the last node (I6 passes in most units).
    late = story["v1"].to_numpy() > last
    econ = in_cohort & (rng.random(n) < np.where(late, 0.01, 0.04))
    academic = in_cohort & (rng.random(n) < np.where(late, 0.02, 0.012) + np.where(econ, 0.1, 0))
    story = story.with_columns(econ=pl.Series(econ), academic=pl.Series(academic))
    arr = _Arrays(story)
    if plan.exact is not None:
        _exact_cell(rng, season, arr, unit, deg, in_cohort, plan.exact)
    table = _cell_table(story)
    ctl = np.isin(unit, [ui for (ui, _) in plan.plans])
    if plan.twins is not None:
        _cap_members(rng, arr, cell, unit == plan.twins[0], plan, table)
    rank = _member_first_rank(rng, arr.member(), cell, ctl & in_cohort)
    u, after, lag = rng.random(n), rng.random(n) < 0.5, lags(rng, n, 6, 30)
    _place(season, arr, ctl & in_cohort, cell, rank, u, after, lag, plan.plans, table)
    story = story.with_columns(
        **arr.columns(),
        ethnicity=pl.when(pl.Series(arr.eth_changed))
        .then(pl.lit(HAN[0]))
        .otherwise(pl.col("ethnicity")),
        _rank=pl.Series(rank),
        _u=pl.Series(u),
        _after=pl.Series(after),
        _lag=pl.Series(lag),
    )
    if plan.tie is not None:
        story = _copy_unit(story, *plan.tie)
    if plan.twins is not None:
        story = _copy_unit(story, *plan.twins)
        arr = _Arrays(story)
        y = story["unit_idx"].to_numpy() == plan.twins[1]
        _place(
            season,
            arr,
            y,
            story["cell"].to_numpy(),
            story["_rank"].to_numpy(),
            story["_u"].to_numpy(),
            story["_after"].to_numpy(),
            story["_lag"].to_numpy(),
            plan.copy_plans,
            _cell_table(story),
        )
        story = story.with_columns(**arr.columns())
    story = story.drop("_rank", "_u", "_after", "_lag")
    return _changes(rng, season, story, plan, gap_active)


def _cell_table(story: pl.DataFrame) -> dict[tuple[int, int], tuple[int, int]]:
    """(unit, degree) → (cell id, designed cohort rows of the cell)."""
    cell = story["cell"].to_numpy()
    design = ~story["completion"].to_numpy() & ~story["ghost"].to_numpy()
    ids, first = np.unique(cell, return_index=True)
    unit = story["unit_idx"].to_numpy()[first]
    deg = story["deg_idx"].to_numpy()[first]
    size = np.bincount(cell, weights=design)[ids]
    return {
        (int(u), int(d)): (int(c), int(k)) for u, d, c, k in zip(unit, deg, ids, size, strict=True)
    }


def _member_first_rank(
    rng: np.random.Generator, member: np.ndarray, cell: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Rank within the cell among `rows` (a mask): special-group members first, in random
    order (0 elsewhere)."""
    n = len(cell)
    idx = np.flatnonzero(rows)
    c = cell[idx]
    order = np.lexsort((rng.random(len(idx)), ~member[idx], c))
    sizes = np.bincount(c, minlength=int(cell.max()) + 1)
    starts = np.cumsum(sizes) - sizes
    rank = np.zeros(n, dtype=np.int64)
    rank[idx[order]] = np.arange(len(idx)) - starts[c[order]]
    return rank


def _cap_members(
    rng: np.random.Generator,
    arr: _Arrays,
    cell: np.ndarray,
    rows: np.ndarray,
    plan: Design,
    table: dict[tuple[int, int], tuple[int, int]],
) -> None:
    """In the twin copied, no more special-group members per cell than it employs by the last
    node: every member is employed (I6 passes for both twins alike)."""
    member = arr.member() & rows
    rank = _member_first_rank(rng, member, cell, rows)  # members first, in random order
    cap = np.full(int(cell.max()) + 1, np.iinfo(np.int64).max)
    for key, p in plan.plans.items():
        if key in table and key[0] == plan.twins[0]:  # type: ignore[index]
            cap[table[key][0]] = p.counts[-1]
    drop = member & (rank >= cap[cell])
    arr.econ[drop] = False
    arr.academic[drop] = False
    arr.eth_changed |= drop & ~arr.han
    arr.han |= drop


def _place(
    season: Season,
    arr: _Arrays,
    rows_mask: np.ndarray,
    cell: np.ndarray,
    rank: np.ndarray,
    u: np.ndarray,
    after: np.ndarray,
    lag: np.ndarray,
    plans: dict[tuple[int, int], Plan],
    table: dict[tuple[int, int], tuple[int, int]],
) -> None:
    """Verification days of a controlled cell's graduates from its plan: rank < count k →
    verified by node k; the rest after the last node (half of them) or never. No cancellation,
    no change of destination."""
    nodes = season.node_days
    k = len(nodes)
    counts = np.zeros((int(cell.max()) + 1, k), dtype=np.int64)
    early = np.zeros(int(cell.max()) + 1, dtype=bool)
    for key, p in plans.items():
        if key in table:
            counts[table[key][0]] = p.counts
            early[table[key][0]] = p.early
    rows = np.flatnonzero(rows_mask)
    if len(rows) == 0:
        return
    c = cell[rows]
    band = (rank[rows][:, None] >= counts[c]).sum(axis=1)
    march = day(dt.date(season.year, 3, 1))
    lo = np.array([march, *(nodes[:-1] + 1), nodes[-1] + 1])
    hi = np.array([*nodes, day(dt.date(season.year, 12, 31))])
    early_hi = min(day(season.start), int(nodes[0])) - 1
    lo_r = np.where(early[c], march, lo[band])
    hi_r = np.where(early[c], early_hi, hi[band])
    when = lo_r + np.floor(u[rows] * (hi_r - lo_r + 1)).astype(np.int64)
    employed = early[c] | (band < k) | after[rows]
    arr.t["v1"][rows] = np.where(employed, when, NEVER)
    arr.t["r1"][rows] = np.where(employed, when - lag[rows], NEVER)
    for name in ("c", "r2", "v2"):
        arr.t[name][rows] = NEVER


def _exact_cell(
    rng: np.random.Generator,
    season: Season,
    arr: _Arrays,
    unit: np.ndarray,
    deg: np.ndarray,
    in_cohort: np.ndarray,
    exact: Exact,
) -> None:
    """Economic-hardship members of the cell: exactly `exact.members`, of whom exactly
    `exact.employed` are employed at the last node (the earliest verified)."""
    cell_rows = np.flatnonzero((unit == exact.unit) & (deg == exact.degree) & in_cohort)
    members = np.sort(rng.choice(cell_rows, exact.members, replace=False))
    arr.econ[cell_rows] = False
    arr.econ[members] = True
    nodes = season.node_days
    last = int(nodes[-1])
    v1 = arr.t["v1"]
    order = members[np.argsort(v1[members], kind="stable")]
    employed, idle = order[: exact.employed], order[exact.employed :]
    lag = lags(rng, len(members), 6, 30)
    lo = int(nodes[-2]) + 1 if len(nodes) > 1 else day(dt.date(season.year, 3, 1))
    redraw = employed[v1[employed] > last]
    v1[redraw] = rng.integers(lo, last + 1, len(redraw))
    year_end = day(dt.date(season.year, 12, 31))
    later = rng.random(len(idle)) < 0.5
    v1[idle] = np.where(later, rng.integers(last + 1, year_end + 1, len(idle)), NEVER)
    arr.t["r1"][members] = np.where(v1[members] < NEVER, v1[members] - lag, NEVER)
    for name in ("c", "r2", "v2"):
        arr.t[name][members] = NEVER


def _copy_unit(story: pl.DataFrame, source: int, target: int) -> pl.DataFrame:
    """The target unit's graduates take the source's stories, graduate by graduate (same
    degree and position), keeping their own 学号, names and genders. A unit's rows are one
    block of the story (ordered by cell, then seq), so blocks are swapped, nothing sorted."""
    identity = ["unit_idx", "cell", "student_id", "name", "gender"]
    unit = story["unit_idx"].to_numpy()
    (src_rows,), (dst_rows,) = np.nonzero(unit == source), np.nonzero(unit == target)
    s0, s1, d0, d1 = src_rows[0], src_rows[-1] + 1, dst_rows[0], dst_rows[-1] + 1
    if s1 - s0 != len(src_rows) or d1 - d0 != len(dst_rows) or len(src_rows) != len(dst_rows):
        raise AssertionError("copied units must have equal cohorts, each in one block")
    src, dst = story.slice(s0, s1 - s0), story.slice(d0, d1 - d0)
    if not src["deg_idx"].equals(dst["deg_idx"]):
        raise AssertionError("copied units must have equal cohorts")
    copy = src.drop(identity).with_columns(dst.select(identity)).select(story.columns)
    return pl.concat([story.slice(0, d0), copy, story.slice(d1)])


def _pick(rng: np.random.Generator, mask: np.ndarray, k: int) -> np.ndarray:
    """Up to k row indices of the mask, at random."""
    rows = np.flatnonzero(mask)
    return np.sort(rng.choice(rows, min(k, len(rows)), replace=False))


def _choose(rng: np.random.Generator, options: np.ndarray) -> np.ndarray:
    """Per row of a boolean matrix (each with at least one True), one True column at random."""
    if len(options) == 0:
        return np.zeros(0, dtype=np.int64)
    r = np.floor(rng.random(len(options)) * options.sum(axis=1)).astype(np.int64)
    return np.argmax(np.cumsum(options, axis=1) > r[:, None], axis=1)


def _changes(
    rng: np.random.Generator,
    season: Season,
    story: pl.DataFrame,
    plan: Design,
    gap_active: bool,
) -> tuple[pl.DataFrame, Applied]:
    """Cohort changes among the graduates of the units without a role who are in no special
    group: moved (unit or degree), added late, removed (the ghost rows); one roster student
    missing from the last node's export."""
    n = story.height
    unit = story["unit_idx"].to_numpy()
    deg = story["deg_idx"].to_numpy()
    cell = story["cell"].to_numpy()
    ghost = story["ghost"].to_numpy()
    in_cohort = ~story["completion"].to_numpy() & ~ghost
    econ = story["econ"].to_numpy().copy()
    academic = story["academic"].to_numpy().copy()
    member = econ | academic | ~story["ethnicity"].is_in(list(HAN)).to_numpy()
    free = ~np.isin(unit, list(plan.roles))
    big = np.bincount(cell, weights=in_cohort)[cell] >= CHANGE_MIN_CELL
    nodes = season.node_days
    lo, hi = int(nodes[0]) + 1, max(int(nodes[0]) + 2, day(season.guided))
    enter = np.zeros(n, dtype=np.int64)
    leave = np.full(n, NEVER, dtype=np.int64)
    gap = np.full(n, NEVER, dtype=np.int64)
    move = np.zeros(n, dtype=np.int64)
    unit_before, deg_before = unit.copy(), deg.copy()
    info = Applied()

    leave[ghost] = rng.integers(lo, hi, int(ghost.sum()))
    econ[ghost] = academic[ghost] = False
    info.removed = int(ghost.sum())

    # A graduate moves from (or is shown before the move in) a big cell of the same degree in
    # another unit, or of another degree in the same unit: never a cell the unit lacks.
    n_units = int(unit.max()) + 1
    has = np.zeros((n_units, 3), dtype=bool)
    has[unit[free & big & in_cohort], deg[free & big & in_cohort]] = True
    cand = np.flatnonzero(free & in_cohort & ~member & big)
    unit_options = has[:, deg[cand]].T & (np.arange(n_units)[None, :] != unit[cand][:, None])
    deg_options = has[unit[cand]] & (np.arange(3)[None, :] != deg[cand][:, None])
    k_unit = k_deg = max(1, round(MOVE_SHARE / 2 * len(cand)))
    k_add = max(2, round(ADD_SHARE * len(cand)))
    taken = np.zeros(len(cand), dtype=bool)
    u_pos = _pick(rng, unit_options.any(axis=1), k_unit)
    taken[u_pos] = True
    d_pos = _pick(rng, deg_options.any(axis=1) & ~taken, k_deg)
    taken[d_pos] = True
    by_unit, by_degree = cand[u_pos], cand[d_pos]
    added = cand[_pick(rng, ~taken, k_add)]
    unit_before[by_unit] = _choose(rng, unit_options[u_pos])
    deg_before[by_degree] = _choose(rng, deg_options[d_pos])
    moved = np.concatenate([by_unit, by_degree])
    move[moved] = rng.integers(lo, hi, len(moved))
    enter[added] = rng.integers(lo, hi, len(added))
    info.moved_unit, info.moved_degree, info.added = len(by_unit), len(by_degree), len(added)
    changed = (move > 0) | (enter > 0)
    if gap_active:
        exact_member = np.zeros(n, dtype=bool)
        if plan.exact is not None:
            exact_member = econ & (unit == plan.exact.unit) & (deg == plan.exact.degree)
        base = free & in_cohort & big & ~changed & ~exact_member
        options = np.flatnonzero(base & (econ | academic))
        if len(options) == 0:
            options = np.flatnonzero(base)
        if len(options):
            who = int(rng.choice(options))
            academic[who] |= not econ[who]
            gap[who] = int(nodes[-1])
            info.missing_on_last_node = True
    # Every roster file names someone (a roster present in every export, at any scale).
    steady = free & in_cohort & ~changed & (gap == NEVER)
    for flags in (econ, academic):
        if not (flags & in_cohort).any() and steady.any():
            flags[int(rng.choice(np.flatnonzero(steady)))] = True
    return (
        story.with_columns(
            econ=pl.Series(econ),
            academic=pl.Series(academic),
            enter=pl.Series(enter, dtype=pl.Int32),
            leave=pl.Series(leave, dtype=pl.Int32),
            gap=pl.Series(gap, dtype=pl.Int32),
            move=pl.Series(move, dtype=pl.Int32),
            unit_before=pl.Series(unit_before, dtype=story["unit_idx"].dtype),
            deg_before=pl.Series(deg_before, dtype=story["deg_idx"].dtype),
        ),
        info,
    )
