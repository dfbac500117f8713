"""`sign` and `unsign`: the checks, the record in the working database and the published file
rewritten with the signature tables.

A year is signed from the published file as it is — the results the committee reviewed and
the leader approved — never from a rebuild: its rows are copied from that file, the run that
published it gives the input files (meta.run_log_files) and the file itself the rules file
and its sha256. Refused (SignRefused, exit 1) when the year's scoreboard is not final or a tie
at a quota line is undecided, or when the published file is not one the working database
knows it published; a usage error (exit 2) when the year is already signed, or not signed
(unsign), or absent from the file, or a name or reason cannot be published.

Neither command rebuilds nor runs the Prefect flow: the published file is copied table by
table into a new file with the signature tables (marts.signatures, marts.signature_events,
marts.signed_files) built from the record, then renamed over it (republish.py); every other
table keeps its values byte for byte."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from employment_eval import publish
from employment_eval.failures import UsageError
from employment_eval.ingest.discover import sha256_of
from employment_eval.ingest.schema import APPROVER_LIMIT, REASON_LIMIT
from employment_eval.ingest.text import first_bad_char
from employment_eval.signing import drift, republish, snapshot, store

SOURCE = "signing_source"


class SignRefused(Exception):
    """The year cannot be signed (or unsigned) now; the message is one Chinese paragraph."""


@dataclass(frozen=True)
class Outcome:
    year: int
    signature_id: str
    run_id: str
    signed_rows: int
    input_files: int
    marts_sha256: str


def published_run(con: duckdb.DuckDBPyConnection, marts_path: Path) -> str | None:
    """The run whose results the published file holds: the last run that published exactly
    this file, or the run of the sign/unsign that last rewrote it."""
    sha = sha256_of(marts_path)
    row = con.execute(
        "select run_id from meta.run_log where outcome = 'published' and marts_path = ? "
        "and published_sha256 = ? order by finished_at desc limit 1",
        [str(marts_path), sha],
    ).fetchone()
    if row is None:
        row = con.execute(
            f"select run_id from {store.SCHEMA}.events where marts_sha256 = ? "
            "order by recorded_at desc limit 1",
            [sha],
        ).fetchone()
    return row[0] if row else None


def _now() -> dt.datetime:
    from employment_eval.options import now_in_shanghai

    return now_in_shanghai()


def check_public_text(
    con: duckdb.DuckDBPyConnection, text: str, what: str, limit: int, whole: bool = False
) -> str:
    """A name or a reason that is published: not blank, not too long, no control character,
    no graduate's 学号 or 姓名 in it (as the whole text, or anywhere in it unless `whole`)."""
    value = text.strip()
    if not value:
        raise UsageError(f"{what}不能为空。")
    if len(value) > limit:
        raise UsageError(f"{what}过长（{len(value)} 个字符，最多 {limit} 个）。")
    bad = first_bad_char(value, allowed_whitespace=True)
    if bad is not None:
        raise UsageError(f"{what}的第 {bad[0]} 个字符是 {bad[1]}，是看不见的控制或格式字符。")
    test = "? = v" if whole else "contains(?, v)"
    found = con.execute(
        f"""select count(*) from (
                select student_id as v from raw.registrations where length(student_id) >= 6
                union select name from raw.registrations where length(name) >= 2
                union select student_id from raw.special_groups where length(student_id) >= 6
            ) where {test}""",
        [value],
    ).fetchone()[0]
    if found:
        raise UsageError(
            f"{what}含有一名毕业生的学号或姓名（此处不重复该内容）：{what}会公开发布，不得包含"
            "个人信息。签发人请写职务（如「分管副院长」），理由中请用「该生」等说法指代。"
        )
    return value


def _attach(con: duckdb.DuckDBPyConnection, marts_path: Path) -> None:
    con.execute(f"attach ? as {SOURCE} (read_only)", [str(marts_path)])


def _detach(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"detach {SOURCE}")


def _run_of_file(con: duckdb.DuckDBPyConnection, marts_path: Path) -> str:
    run_id = published_run(con, marts_path)
    if run_id is None:
        raise SignRefused(
            f"发布数据库 {marts_path} 不是本工作数据库记录的最近一次发布（可能已被替换，或由另一个"
            "工作数据库发布），无法确定它来自哪些输入文件，未签发。请先运行 employment-eval run "
            "重新发布，核对结果后再签发。"
        )
    return run_id


def _check_signable(con: duckdb.DuckDBPyConnection, year: int) -> None:
    rows = con.execute(
        f"select unit_name, status, tie_at_cutoff, is_decided_by_committee "
        f"from {SOURCE}.marts.scoreboard where year = ? order by unit_group, rank_in_group",
        [year],
    ).fetchall()
    if not rows:
        raise UsageError(f"发布数据库中没有 {year} 年度的记分板（没有该年度的数据），无法签发。")
    ties = [name for name, _s, tie, decided in rows if tie and not decided]
    if ties:
        raise SignRefused(
            f"{year} 年度的记分板上名额线并列尚未经学指委决定（{'、'.join(ties)}），未签发。"
            "请把学指委的决定录入调整文件（先进单位：是/否），运行 employment-eval scoreboard "
            "后再签发。"
        )
    if any(status != "final" for _n, status, _t, _d in rows):
        raise SignRefused(
            f"{year} 年度的记分板是「暂定」（尚有时间节点未到或按后续数据补算、单位材料登记表"
            "不完整），未签发：只有最终结果才能审定签发。请补齐数据，运行 employment-eval "
            "scoreboard，记分板显示「最终」后再签发。"
        )


def sign(
    con: duckdb.DuckDBPyConnection, marts_path: Path, year: int, by: str, on: dt.date
) -> Outcome:
    """Sign `year` of the published file (the caller holds both locks)."""
    existing = store.signatures(con).get(year)
    if existing is not None:
        raise UsageError(
            f"{year} 年度已于 {existing['signed_date']} 由 {existing['signed_by']} 签发"
            f"（签发编号 {existing['signature_id']}）。如需重新签发，请先撤销："
            f"employment-eval unsign --year {year} --by 姓名 --reason 理由"
        )
    by = check_public_text(con, by, "签发人", APPROVER_LIMIT, whole=True)
    run_id = _run_of_file(con, marts_path)
    marts_sha = sha256_of(marts_path)
    _attach(con, marts_path)
    try:
        _check_signable(con, year)
        run = con.execute(
            f"select as_of_date, code_version from {SOURCE}.marts.run_info limit 1"
        ).fetchone()
        rules = con.execute(
            f"select rules_file, rules_sha256, policy_number from {SOURCE}.reference.rule_years "
            "where year = ?",
            [year],
        ).fetchone()
        files = drift.year_files(
            con,
            "select kind, source_file, file_sha256, coalesce(is_included, true) as is_included "
            "from meta.run_log_files where run_id = $run_id",
            {"run_id": run_id},
        ).get(year, set())
        signature_id = f"{year}-{_now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
        con.execute("begin transaction")
        try:
            rows, digest = snapshot.take(con, SOURCE, year)
            con.execute(
                f"insert into {store.SCHEMA}.signatures values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    year,
                    signature_id,
                    by,
                    on,
                    _now(),
                    run_id,
                    run[0],
                    rules[0],
                    rules[1],
                    rules[2],
                    run[1],
                    marts_sha,
                    rows,
                    digest,
                ],
            )
            if files:
                con.executemany(
                    f"insert into {store.SCHEMA}.signed_files values (?, ?, ?, ?)",
                    [(year, *f) for f in sorted(files)],
                )
            _event(con, year, "sign", by, on, None, signature_id, run_id)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        _detach(con)
    try:
        new_sha = republish.republish(con, marts_path, f"sign-{signature_id}")
    except BaseException:
        _forget(con, year, signature_id)  # nothing published: the record goes too
        raise
    _published_with(con, signature_id, "sign", new_sha)
    return Outcome(year, signature_id, run_id, rows, len(files), new_sha)


def unsign(
    con: duckdb.DuckDBPyConnection,
    marts_path: Path,
    year: int,
    by: str,
    reason: str,
    on: dt.date,
) -> Outcome:
    """Withdraw `year`'s signature (kept in the history with its reason); the next run
    computes the year from the inputs and rules it then finds."""
    existing = store.signatures(con).get(year)
    if existing is None:
        raise UsageError(f"{year} 年度没有签发，无需撤销。")
    by = check_public_text(con, by, "撤销人", APPROVER_LIMIT, whole=True)
    reason = check_public_text(con, reason, "撤销理由", REASON_LIMIT)
    run_id = _run_of_file(con, marts_path)
    signature_id = existing["signature_id"]
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {store.SCHEMA}.signatures where year = ?", [year])
        con.execute(f"delete from {store.SCHEMA}.signed_files where year = ?", [year])
        snapshot.drop(con, year)
        event = _event(con, year, "unsign", by, on, reason, signature_id, run_id)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    new_sha = republish.republish(con, marts_path, f"unsign-{event}")
    _published_with(con, signature_id, "unsign", new_sha)
    return Outcome(year, signature_id, run_id, 0, 0, new_sha)


def changes_since(
    con: duckdb.DuckDBPyConnection, raw_dir: Path, rules_path: Path | None, year: int
) -> list[str]:
    """What differs now from what the signed year was computed from: the files under the raw
    folder that the signed run did not read as they are (new, changed or gone, any year), and
    the year's rules file. Said when signing: the signature holds the published results, and
    the next run will warn about these files."""
    from employment_eval.ingest.discover import discover

    sig = store.signatures(con)[year]
    found, _ = discover(raw_dir)
    now = {(f.kind, f.rel): sha256_of(f.path) for f in found}
    then = {
        (kind, file): sha
        for kind, file, sha in con.execute(
            "select kind, source_file, file_sha256 from meta.run_log_files where run_id = ?",
            [sig["run_id"]],
        ).fetchall()
    }
    notes = [
        f"{file}（签发的结果读取之后新放入或已修改）"
        for (k, file), sha in sorted(now.items())
        if then.get((k, file)) != sha
    ]
    notes += [
        f"{file}（签发的结果读取过，现已不在）"
        for (k, file) in sorted(then)
        if (k, file) not in now
    ]
    if rules_path is None:
        notes.append(f"{year} 年度的规则文件（现已找不到）")
    elif sha256_of(rules_path) != sig["rules_sha256"]:
        notes.append(f"{rules_path}（签发的结果计算之后被修改）")
    return notes


def _event(con, year, action, by, on, reason, signature_id, run_id) -> str:
    event_id = f"{_now():%Y%m%dT%H%M%S}-{action}-{uuid.uuid4().hex[:6]}"
    con.execute(
        f"insert into {store.SCHEMA}.events values (?, ?, ?, ?, ?, ?, ?, ?, ?, null)",
        [event_id, year, action, by, on, _now(), reason, signature_id, run_id],
    )
    return event_id


def _published_with(con, signature_id: str, action: str, sha: str) -> None:
    con.execute(
        f"update {store.SCHEMA}.events set marts_sha256 = ? "
        "where signature_id = ? and action = ? and marts_sha256 is null",
        [sha, signature_id, action],
    )


def _forget(con: duckdb.DuckDBPyConnection, year: int, signature_id: str) -> None:
    con.execute(f"delete from {store.SCHEMA}.signatures where year = ?", [year])
    con.execute(f"delete from {store.SCHEMA}.signed_files where year = ?", [year])
    con.execute(f"delete from {store.SCHEMA}.events where signature_id = ?", [signature_id])
    snapshot.drop(con, year)


_ = publish  # the published file's helpers are used by republish
