"""Bounds on a rules file, checked before it is parsed: its size, and how deeply its values nest.

A rules file is a few kilobytes (the bundled one: 3 KB; `rules new` writes about 10 KB with its
comments) and nests three levels at most (`[[milestones]]` → `targets = { … }`). TOML's parser
recurses once per level and holds the whole document in memory: a value nested 5,000 deep
exhausts Python's recursion limit, a 50 MB file takes more than a gigabyte. Both are refused
first, as a rules problem with its line, by `size_problem` (a `stat` and a bounded read) and
`depth_problem` (one pass over the text that follows strings, comments, keys and brackets;
it counts every table, array, inline table and dotted-key part that encloses a value)."""

from __future__ import annotations

import re
from typing import NamedTuple

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 16

_INTERESTING = re.compile(r"""[\n#"'\[\]{},.=]""")


class Limit(NamedTuple):
    key: str  # what the problem is about (in the place of a rules key)
    line: int
    message: str


def size_problem(size: int, head: bytes) -> Limit | None:
    """`size`: the file's size in bytes; `head`: its first MAX_BYTES bytes (to find the line
    where the limit is passed)."""
    if size <= MAX_BYTES:
        return None
    line = head[:MAX_BYTES].count(b"\n") + 1
    return Limit(
        "文件大小",
        line,
        f"文件有 {_size(size)}，超过规则文件的上限 {_size(MAX_BYTES)}（正常的规则文件只有几 KB，"
        "此行起超出上限），可能选错了文件；文件未读取，其余检查未进行",
    )


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{n / 1024:.0f} KB"


def depth_problem(text: str) -> Limit | None:
    """The first place where a value is nested deeper than MAX_DEPTH, or None."""
    line = 1
    stack: list[tuple[str, int]] = []  # open brackets: ("[" or "{", depth inside)
    table_depth = 0  # levels of the current [table] / [[array]] header
    in_key = True  # reading a key (line start at top level, after "{" or "," in a table)
    dots = 0  # dots of the key being read
    depth = 0  # depth of the value being read
    i, n = 0, len(text)
    while i < n:
        match = _INTERESTING.search(text, i)
        if match is None:
            break
        i = match.start()
        ch = text[i]
        if ch == "\n":
            line += 1
            if not stack:
                in_key, dots = True, 0
            i += 1
        elif ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif ch in "\"'":
            i, line = _skip_string(text, i, line)
        elif (
            not stack and in_key and ch == "[" and not text[text.rfind("\n", 0, i) + 1 : i].strip()
        ):
            end = text.find("\n", i)
            header = text[i : n if end < 0 else end]
            table_depth = _header_parts(header) + (1 if header.startswith("[[") else 0)
            if table_depth > MAX_DEPTH:
                return _too_deep(line)
            in_key = False  # the rest of the line is the header (and a comment)
            i = n if end < 0 else end
        elif in_key:
            if ch == ".":
                dots += 1
            elif ch == "=":
                enclosing = stack[-1][1] if stack else table_depth
                depth = enclosing + dots + 1
                if depth > MAX_DEPTH:
                    return _too_deep(line)
                in_key, dots = False, 0
            elif ch == "}" and stack:  # an empty inline table, or a trailing comma
                stack.pop()
                in_key = False
            i += 1
        else:
            if ch in "[{":
                depth = (stack[-1][1] if stack else depth) + 1
                if depth > MAX_DEPTH:
                    return _too_deep(line)
                stack.append((ch, depth))
                if ch == "{":
                    in_key, dots = True, 0
            elif ch in "]}" and stack:
                stack.pop()
            elif ch == "," and stack and stack[-1][0] == "{":
                in_key, dots = True, 0
            i += 1
    return None


def _skip_string(text: str, i: int, line: int) -> tuple[int, int]:
    """Past the string starting at `i` (basic or literal, single or multi-line)."""
    quote = text[i]
    if text.startswith(quote * 3, i):
        end = text.find(quote * 3, i + 3)
        while quote == '"' and end > 0 and _escaped(text, end):
            end = text.find(quote * 3, end + 1)
        end = len(text) if end < 0 else end + 3
        return end, line + text.count("\n", i, end)
    j = i + 1
    while j < len(text) and text[j] not in (quote, "\n"):
        j += 2 if quote == '"' and text[j] == "\\" else 1
    return min(j + 1, len(text)) if j < len(text) and text[j] == quote else j, line


def _escaped(text: str, at: int) -> bool:
    backslashes = 0
    while at - backslashes - 1 >= 0 and text[at - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _header_parts(header: str) -> int:
    """Dotted parts of a `[a.b]` / `[[a.b]]` header, dots inside quotes not counted."""
    inside = header.strip().lstrip("[").split("]")[0]
    return len(re.findall(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^.\"']+", inside)) or 1


def _too_deep(line: int) -> Limit:
    return Limit(
        "嵌套层数",
        line,
        f"值嵌套超过 {MAX_DEPTH} 层（表、数组、行内表层层相套）；"
        "规则文件最多只有三层（如 [[milestones]] 中的 targets = { … }），"
        "文件无法读取，其余检查未进行",
    )
