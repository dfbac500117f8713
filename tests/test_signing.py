"""Signing a year (三、评估程序, stage 3) and what comes after it, on a generated two-year
season through the real nightly refresh: `sign` records the published 2021 results; editing
2021.toml, adding a late 2021 export and archiving the 2021 raw files each leave every
published 2021 row byte for byte as signed (with a warning naming the files) while 2022 keeps
moving; `unsign` with a reason lets a run recompute the year. Refusals (provisional, an
undecided tie) on hand-built seasons. The notice and the certificates of the signed year: the
Word file opens in LibreOffice (skipped without soffice), the PDF shows the unit's name in its
embedded Chinese font, and no pack, notice or certificate holds a graduate's 学号 or 姓名."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest

from employment_eval import failures, publish, warehouse
from employment_eval.cli.outcome import explain
from employment_eval.generate import generate
from employment_eval.signing import record, store
from employment_eval.signing.snapshot import published_digest
from flows.nightly_refresh import nightly_refresh
from tests.cli_helpers import cli
from tests.warehouse_factory import D, build_scenario, one_export, season

D21 = dt.date(2022, 12, 20)


def refresh(env: dict, as_of: dt.date = D21) -> list[str]:
    """One nightly refresh of both years; returns the run's warnings."""
    with failures.unwrapped():
        run_id = nightly_refresh(
            str(env["raw"]), str(env["marts"]), str(env["work"]), 2022, as_of,
            rules_dir=str(env["rules"]), allow_older=True,
        )  # fmt: skip
    return failures.recall_warnings(run_id)


def rows(marts: Path, year: int) -> dict[str, list[tuple]]:
    """Every published row of the year, of every table a signature holds."""
    con = publish.open_published(marts)
    try:
        tables = con.execute(
            "select distinct schema_name, table_name from duckdb_columns() "
            "where database_name = 'published' and column_name = 'year' "
            "and schema_name in ('marts', 'reference') order by 1, 2"
        ).fetchall()
        return {
            f"{s}.{t}": con.execute(
                f"select * from {s}.{t} where year = ? order by all", [year]
            ).fetchall()
            for s, t in tables
            if (s, t) not in store.NOT_PINNED
        }
    finally:
        con.close()


def digest(marts: Path, year: int) -> str:
    con = publish.open_published(marts)
    try:
        return published_digest(con, "published", year)
    finally:
        con.close()


def sign(env: dict, year: int = 2021) -> None:
    done = cli("sign", "--raw", str(env["raw"]), "--marts", str(env["marts"]),
               "--work", str(env["work"]), "--year", str(year), "--by", "分管副院长",
               "--date", "2022-12-28")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "已审定签发" in done.stdout


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("signing")
    summary = generate(root / "raw", years="2021-2022", seed=9, scale=0.3, exports=5)
    env = {
        "root": root,
        "raw": root / "raw",
        "rules": root / "rules",  # generate wrote 2022.toml there; 2021 is the bundled file
        "marts": root / "marts" / "employment.duckdb",
        "work": root / "work" / "warehouse.duckdb",
        "files_2021": summary["years"][2021]["files"],
    }
    refresh(env)
    con = publish.open_published(env["marts"])
    status = con.execute(
        "select distinct status from marts.scoreboard where year = 2021"
    ).fetchall()
    con.close()
    assert status == [("final",)], "the generated 2021 season must be final to be signed"
    sign(env)
    env["signed"] = rows(env["marts"], 2021)
    return env


@pytest.mark.cli
def test_sign_records_the_published_year(env: dict) -> None:
    con = publish.open_published(env["marts"])
    try:
        sig = con.execute(
            "select signed_by, signed_date, rules_sha256, input_files, signed_rows, rows_sha256 "
            "from marts.signatures where year = 2021"
        ).fetchone()
        files = con.execute("select count(*) from marts.signed_files where year = 2021").fetchone()[
            0
        ]
        events = con.execute("select action, by_name from marts.signature_events").fetchall()
    finally:
        con.close()
    assert sig[:2] == ("分管副院长", dt.date(2022, 12, 28))
    contents = {  # a resent copy of an export (same content) is one input
        (kind, publish.sha256_file(env["raw"] / kind / name))
        for kind, names in env["files_2021"].items()
        for name in names
    }
    assert sig[3] == files == len(contents)
    assert sig[4] == sum(len(v) for v in env["signed"].values())
    assert sig[5] == digest(env["marts"], 2021)  # the published rows are the signed ones
    assert events == [("sign", "分管副院长")]
    again = cli("sign", "--raw", str(env["raw"]), "--marts", str(env["marts"]),
                "--work", str(env["work"]), "--year", "2021", "--by", "分管副院长")  # fmt: skip
    assert again.returncode == 2 and "已于 2022-12-28 由 分管副院长 签发" in again.stderr
    summary = (env["marts"].parent / "scoreboard_2021.xlsx").exists()
    assert summary  # sign rewrote the year-end files beside the marts
    html = (env["marts"].parent / "report_2021.html").read_text(encoding="utf-8")
    assert "已审定签发（签发人 分管副院长，日期 2022-12-28）" in html


@pytest.mark.cli
def test_notice_and_certificates(env: dict) -> None:
    out = env["root"] / "notice"
    done = cli("notice", "--raw", str(env["raw"]), "--marts", str(env["marts"]), "--year", "2021",
               "--rules", str(env["rules"]), "--date", "2022-12-30", "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    con = publish.open_published(env["marts"])
    advanced = con.execute(
        "select unit_code, unit_name from marts.scoreboard where year = 2021 and is_advanced"
    ).fetchall()
    con.close()
    pdfs = sorted(out.glob("荣誉证书_2021_*.pdf"))
    assert len(pdfs) == len(advanced) > 0
    code, name = advanced[0]
    (pdf,) = [p for p in pdfs if f"_{code}_" in p.name]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert name in text.replace("\n", "") and "荣誉证书" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk)  # emb = yes
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "签发编号 2021-" in info and "运行编号" in info
    docx = out / "评估结果通知_2021.docx"
    with zipfile.ZipFile(docx) as z:
        core = z.read("docProps/core.xml").decode()
        body = z.read("word/document.xml").decode()
    assert "2021-" in core and "评估结果通知" in core
    assert all(n in body for _, n in advanced) and "公示期为2022年12月30日至2023年1月3日" in body
    unsigned = cli("notice", "--raw", str(env["raw"]), "--marts", str(env["marts"]),
                   "--year", "2022", "--out", str(out))  # fmt: skip
    assert unsigned.returncode == 2 and "尚未审定签发" in unsigned.stderr
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) 不在本机：跳过用 LibreOffice 打开通知的检查")
    lo = env["root"] / "lo"
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(lo), str(docx)],
        capture_output=True, timeout=180, env={"HOME": str(lo), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    text = subprocess.run(
        ["pdftotext", str(lo / "评估结果通知_2021.pdf"), "-"], capture_output=True, text=True
    ).stdout.replace("\n", "")
    assert "先进单位" in text and name in text


def _personal(work: Path) -> tuple[set[str], set[str]]:
    con = duckdb.connect(str(work), read_only=True)
    try:
        ids = {
            r[0]
            for r in con.execute(
                "select student_id from raw.registrations "
                "union select student_id from raw.special_groups"
            ).fetchall()
        }
        names = {
            r[0] for r in con.execute("select distinct name from raw.registrations").fetchall()
        }
    finally:
        con.close()
    return ids, names


def _texts(path: Path) -> str:
    if path.suffix == ".pdf":
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    with zipfile.ZipFile(path) as z:  # xlsx and docx: every XML part (cells, properties, footer)
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


@pytest.mark.cli
def test_no_pack_notice_or_certificate_holds_personal_data(env: dict) -> None:
    packs = env["root"] / "packs"
    done = cli("selfcheck", "--raw", str(env["raw"]), "--marts", str(env["marts"]),
               "--year", "2021", "--out", str(packs))  # fmt: skip
    assert done.returncode == 0, done.stderr
    files = sorted(packs.glob("*.xlsx")) + sorted((env["root"] / "notice").glob("*.*"))
    assert len(files) > 15
    ids, names = _personal(env["work"])
    assert ids and names
    for path in files:
        text = _texts(path)
        tokens = set(re.split(r"[\s<>\"'=/:;，。、：；（）()·]+", text))
        assert not [i for i in ids if i in text], path.name  # 学号 anywhere
        # 姓名: anywhere when 3 characters or more; a 2-character name as a whole token
        assert not [n for n in names if (len(n) > 2 and n in text) or n in tokens], path.name


@pytest.mark.cli
def test_signed_year_stays_as_signed_while_2022_moves(env: dict) -> None:
    raw, rules, marts = env["raw"], env["rules"], env["marts"]
    before_2022 = rows(marts, 2022)
    # 1. the centre edits 2021.toml (and 2022.toml): 2021 stays, 2022 moves
    for year, source in ((2021, Path("reference/rules/2021.toml")), (2022, rules / "2022.toml")):
        text = source.read_text(encoding="utf-8")
        quota = re.search(r"(?m)^school\s*=\s*(\d+)", text)
        assert quota is not None
        other = "1" if quota.group(1) != "1" else "2"  # another 院本部 quota
        edited = text[: quota.start(1)] + other + text[quota.end(1) :]
        (rules / f"{year}.toml").write_text(edited, "utf-8")
    warnings = refresh(env)
    assert rows(marts, 2021) == env["signed"]
    assert rows(marts, 2022) != before_2022
    assert any(str(rules / "2021.toml") in w and "签发后被修改" in w for w in warnings)
    # 2. a late 2021 export (the last one again, re-encoded, dated after the signature)
    last = raw / "registrations" / "export_20211220.csv"
    data = last.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    late = raw / "registrations" / "export_20211228.csv"  # other bytes, the same rows
    bom = b"" if data.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf"
    late.write_bytes(bom + text.encode("utf-8"))
    warnings = refresh(env)
    assert rows(marts, 2021) == env["signed"]
    assert any("registrations/export_20211228.csv" in w and "签发后放入" in w for w in warnings)
    # 3. unsign with a reason: the next run computes 2021 from the files and rules it finds
    done = cli(
        "unsign", "--raw", str(raw), "--marts", str(marts), "--work", str(env["work"]),
        "--year", "2021", "--by", "学指委主任", "--reason", "院本部名额更正为 1 个",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    refresh(env)
    recomputed = rows(marts, 2021)
    assert recomputed != env["signed"]
    assert recomputed["reference.rule_quotas"] != env["signed"]["reference.rule_quotas"]
    con = publish.open_published(marts)
    assert con.execute("select count(*) from marts.signatures").fetchone()[0] == 0
    assert con.execute(
        "select action, reason from marts.signature_events order by recorded_at"
    ).fetchall() == [("sign", None), ("unsign", "院本部名额更正为 1 个")]
    con.close()
    # 4. signed again, then the 2021 raw files archived: 2021 stays, in unit_trends too
    sign(env)
    signed = rows(marts, 2021)
    for kind, names in env["files_2021"].items():
        for name in names:
            (raw / kind / name).unlink()
    late.unlink()
    warnings = refresh(env)
    assert rows(marts, 2021) == signed
    assert any(
        "submissions/submissions_2021.xlsx" in w and "已不在原始数据文件夹中" in w for w in warnings
    )
    con = publish.open_published(marts)
    years = con.execute("select distinct year from marts.unit_trends order by 1").fetchall()
    con.close()
    assert years == [(2021,), (2022,)]


def _published_from(con: duckdb.DuckDBPyConnection, root: Path) -> Path:
    """The factory's build as a published file the working database knows it published."""
    marts = root / "marts.duckdb"
    candidate = publish.export_candidate(con, marts, "test")
    publish.publish(candidate, marts)
    warehouse.log_run_start(con, run_id="test", flow="nightly_refresh", as_of=D(2021, 12, 20),
                            raw_dir=root, marts_path=marts)  # fmt: skip
    warehouse.log_run_output(con, "test", "marts", marts, publish.sha256_file(marts), 1)
    con.execute("update meta.run_log set outcome = 'published' where run_id = 'test'")
    return marts


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (lambda: one_export([], as_of=D(2021, 8, 1)), "暂定"),
        (lambda: season([], identical=True), "名额线并列尚未经学指委决定"),
    ],
    ids=["provisional", "undecided-tie"],
)
def test_sign_refuses_what_is_not_final(tmp_path: Path, scenario, expected: str) -> None:
    con = build_scenario(scenario())
    marts = _published_from(con, tmp_path)
    with pytest.raises(record.SignRefused) as refused:
        record.sign(con, marts, 2021, "分管副院长", D(2021, 12, 28))
    text, code = explain(refused.value, None)
    assert expected in text and code == 1
    assert store.signatures(con) == {}


def test_sign_refuses_a_graduates_name_as_signer(tmp_path: Path) -> None:
    con = build_scenario(season([]))
    marts = _published_from(con, tmp_path)
    with pytest.raises(failures.UsageError, match="学号或姓名"):
        record.sign(con, marts, 2021, "某某", D(2021, 12, 28))  # the factory's graduates' name
    done = record.sign(con, marts, 2021, "分管副院长", D(2021, 12, 28))
    assert done.signed_rows > 0
