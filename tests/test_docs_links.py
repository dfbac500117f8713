"""The repository documents itself: every Markdown link, and every repository path named in the
docs, the reference data, the SQL and the TOML files, points at a file inside the repository
that exists; and no file mentions the specification folder kept outside the repository, nor
cites one of its documents by name (a centre adopting the product has only the repository: a
message or comment points to docs/评估规则.md, docs/输入文件格式.md or README.md instead).

Links may be relative paths (resolved from the Markdown file's folder, optionally with a
`#heading` anchor that must exist in the target), same-page anchors, or web addresses. Paths in
text (code spans and code blocks included) that start with one of the repository's top-level
names are resolved from the repository root; placeholders (`<year>`, `*`, `…`) and the
folders the product creates at run time (`data/`, `bench/results/`, `.venv/`) are not checked."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

from employment_eval.paths import PROJECT_ROOT

# Built from parts so that this file does not itself mention them.
OUTSIDE_SPEC = ("../" + "shared", "/work/" + "shared")
SPEC_DOCUMENTS = tuple(
    name + ".md" for name in ("RULES", "INPUTS", "OUTPUTS", "DESTINATIONS", "GLOSSARY")
)
# Files allowed to cite a specification document: none (the set stays for a transition).
SPEC_CITATIONS_PENDING: frozenset[str] = frozenset()
SKIPPED_DIR_NAMES = {
    ".git",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "node_modules",
}
SKIPPED_TOP = {"data"}  # inputs and outputs of the centre's runs, never part of the repository
RUNTIME_PREFIXES = ("data/", "bench/results/", ".venv/", "bench/.venv-dbt")  # made by runs, make
PLACEHOLDER = re.compile(r"[<>{}*…~]")
WEB = ("http://", "https://", "mailto:")

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
PATH_TOKEN = re.compile(r"[\w.\-/<>{}*…~]+")


def repo_files(root: Path) -> Iterator[Path]:
    """Every file of the repository (build, cache and run-time folders left out)."""
    for path in sorted(root.iterdir()):
        if path.name in SKIPPED_DIR_NAMES or path.name in SKIPPED_TOP:
            continue
        if path.is_dir():
            if path.name.endswith(".egg-info"):
                continue
            yield from _walk(path)
        elif path.is_file():
            yield path


def _walk(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.iterdir()):
        if path.is_dir():
            if path.name not in SKIPPED_DIR_NAMES and not path.name.endswith(".egg-info"):
                yield from _walk(path)
        elif path.is_file():
            yield path


def read_text(path: Path) -> str | None:
    """The file as UTF-8 text, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


# --- headings and anchors --------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case; letters, marks, numbers, '_', '-' and spaces
    kept (CJK characters are letters); spaces become '-'."""
    text = CODE_SPAN.sub(lambda m: m.group(2), heading).lower()
    kept = "".join(
        ch
        for ch in text
        if ch in " -" or unicodedata.category(ch)[0] in "LMN" or unicodedata.category(ch) == "Pc"
    )
    return kept.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for match in HEADING.finditer(FENCE.sub("", markdown)):
        base = slug(match.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


# --- checks (each returns readable problems; tests assert there are none) ---------------------


def spec_mentions(root: Path) -> list[str]:
    problems = []
    for path in repo_files(root):
        text = read_text(path)
        if text is None:
            continue
        for needle in OUTSIDE_SPEC:
            if needle in text:
                line = text[: text.index(needle)].count("\n") + 1
                problems.append(f"{rel(path, root)}:{line}: mentions {needle}")
    return problems


def spec_citations(root: Path, pending: frozenset[str] = frozenset()) -> list[str]:
    """Files that cite a specification document by name (run-time output left out)."""
    problems = []
    for path in repo_files(root):
        name = rel(path, root)
        if name in pending or name.startswith(RUNTIME_PREFIXES):
            continue
        text = read_text(path)
        if text is None:
            continue
        for needle in SPEC_DOCUMENTS:
            if needle in text:
                line = text[: text.index(needle)].count("\n") + 1
                problems.append(
                    f"{name}:{line}: cites {needle}, which the repository does not have"
                )
    return problems


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def link_problems(root: Path) -> list[str]:
    problems = []
    for md in (p for p in repo_files(root) if p.suffix.lower() == ".md"):
        text = read_text(md) or ""
        prose = CODE_SPAN.sub("", FENCE.sub("", text))
        targets = [m.group(1) for m in LINK.finditer(prose)]
        targets += [m.group(1) for m in REF_DEF.finditer(prose)]
        for target in targets:
            problem = _link_problem(md, target, root)
            if problem:
                problems.append(f"{rel(md, root)}: link ({target}) {problem}")
    return problems


def _link_problem(md: Path, target: str, root: Path) -> str | None:
    if not target:
        return "is empty"
    if target.lower().startswith(WEB):
        return None
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
        return "points outside the repository"
    path_part, _, anchor = target.partition("#")
    path_part = unquote(path_part)
    if path_part.startswith("/"):
        return "is an absolute path: points outside the repository"
    file = md if not path_part else (md.parent / path_part)
    if not _inside(file, root):
        return "points outside the repository"
    if not file.exists():
        return "points to a file that does not exist"
    is_markdown = file.is_file() and file.suffix.lower() == ".md"
    if anchor and is_markdown and unquote(anchor).lower() not in anchors(read_text(file) or ""):
        return f"names a heading #{unquote(anchor)} that {rel(file, root)} does not have"
    return None


def _checked_for_paths(path: Path, root: Path) -> bool:
    name = rel(path, root)
    return (
        path.suffix.lower() in (".md", ".toml")
        or name.startswith(("reference/", "sql/"))
        or name == "README.md"
    )


def path_problems(root: Path) -> list[str]:
    top = {p.name for p in root.iterdir() if p.name not in SKIPPED_DIR_NAMES}
    problems = []
    for path in (p for p in repo_files(root) if _checked_for_paths(p, root)):
        text = read_text(path)
        if text is None:
            continue
        for line_no, line in enumerate(text.splitlines(), start=1):
            for token in PATH_TOKEN.findall(line):
                problem = _path_problem(path, token.rstrip("."), root, top)
                if problem:
                    problems.append(f"{rel(path, root)}:{line_no}: {token} {problem}")
    return problems


def _path_problem(source: Path, token: str, root: Path, top: set[str]) -> str | None:
    if "/" not in token:
        return None
    if token.startswith("../"):
        base = source.parent if source.suffix.lower() == ".md" else root
        if not _inside(base / PLACEHOLDER.split(token)[0], root):
            return "points outside the repository"
        return None
    if token.startswith("/"):
        if token.startswith((str(root), "/work/")):
            return "is an absolute path into this machine's checkout: use a relative path"
        return None  # an example location on the centre's server (/srv/…, /etc/systemd/…)
    first = token.split("/", 1)[0]
    if first not in top or PLACEHOLDER.search(token) or token.startswith(RUNTIME_PREFIXES):
        return None
    if not (root / token).exists():
        return "does not exist in the repository"
    return None


# --- the tests --------------------------------------------------------------------------------


def test_no_file_mentions_the_specification_folder_outside_the_repository() -> None:
    problems = spec_mentions(PROJECT_ROOT)
    assert not problems, "\n".join(problems)


def test_no_file_cites_a_specification_document() -> None:
    problems = spec_citations(PROJECT_ROOT, SPEC_CITATIONS_PENDING)
    assert not problems, "\n".join(problems)


def test_every_markdown_link_points_to_a_file_of_the_repository() -> None:
    problems = link_problems(PROJECT_ROOT)
    assert not problems, "\n".join(problems)


def test_every_repository_path_named_in_docs_reference_and_sql_exists() -> None:
    problems = path_problems(PROJECT_ROOT)
    assert not problems, "\n".join(problems)


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """The three checks on a small repository with one instance of every kind of fault."""
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "reference" / "rules").mkdir(parents=True)
    (root / "data" / "raw").mkdir(parents=True)
    (root / "docs" / "指南.md").write_text(
        "# 指南\n\n## 第一节：总览（A–B）\n\n"
        "[好](#第一节总览ab) [坏锚](#没有这一节) [别处](../../outside.md) [缺](缺少.md)\n"
        "[绝对](/etc/passwd) [网页](https://example.org/x) [跨文件](../README.md#用法)\n"
        f"见 `reference/rules/2099.toml` 与 `reference/rules/<year>.toml`、`data/raw/x.csv`。\n"
        f"规格在 {OUTSIDE_SPEC[0]}/policy 中。\n"
        "```\n[代码中的](不是链接.md)\n```\n",
        encoding="utf-8",
    )
    (root / "README.md").write_text("# 项目\n\n## 用法\n\n[指南](docs/指南.md)\n", encoding="utf-8")
    (root / "reference" / "rules" / "2021.toml").write_text(
        "# read as in docs/没有的文件.md\nyear = 2021\n", encoding="utf-8"
    )
    (root / "data" / "raw" / "ignored.md").write_text(OUTSIDE_SPEC[1], encoding="utf-8")
    (root / "tool.py").write_text(
        f'"""Reads the ledger."""\nREASON = "（{SPEC_DOCUMENTS[0]} D7）"\n', encoding="utf-8"
    )
    (root / "pending.py").write_text(f"# see {SPEC_DOCUMENTS[1]}\n", encoding="utf-8")

    assert spec_mentions(root) == [f"docs/指南.md:8: mentions {OUTSIDE_SPEC[0]}"]
    assert spec_citations(root, frozenset({"pending.py"})) == [
        f"tool.py:2: cites {SPEC_DOCUMENTS[0]}, which the repository does not have"
    ]
    links = link_problems(root)
    assert any("(#没有这一节)" in p and "does not have" in p for p in links)
    assert any("(../../outside.md) points outside" in p for p in links)
    assert any("(缺少.md) points to a file that does not exist" in p for p in links)
    assert any("(/etc/passwd)" in p for p in links)
    assert not any("#第一节总览ab" in p or "example.org" in p or "不是链接" in p for p in links)
    assert not any("../README.md#用法" in p for p in links)
    assert len(links) == 4
    paths = path_problems(root)
    assert any("reference/rules/2099.toml does not exist" in p for p in paths)
    assert any("docs/没有的文件.md does not exist" in p for p in paths)
    assert any("../../outside.md points outside" in p for p in paths)
    assert not any("<year>" in p or "data/raw" in p for p in paths)
