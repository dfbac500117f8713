"""DuckDB's memory limit on the working database: set from the machine, or by the centre."""

from __future__ import annotations

from pathlib import Path

import pytest

from employment_eval import memory


def _mb(text: str) -> int:
    assert text.endswith("MB")
    return int(text[:-2])


def test_the_limit_is_set_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(memory.ENV, raising=False)
    total = memory.machine_mb()
    assert total is not None and total > 0
    expected = max(memory.FLOOR_MB, total // memory.SHARE)
    assert _mb(memory.memory_limit()) == expected


def test_a_control_group_limit_counts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(memory.ENV, raising=False)
    limit = tmp_path / "memory.max"
    monkeypatch.setattr(memory, "CGROUP_LIMIT", limit)
    limit.write_text(f"{6 * 2**30}\n")
    assert memory.machine_mb() == min(6 * 1024, memory.machine_mb())
    assert _mb(memory.memory_limit()) == max(memory.FLOOR_MB, memory.machine_mb() // 4)
    limit.write_text(f"{2 * 2**30}\n")  # a small container: the floor
    assert memory.memory_limit() == f"{memory.FLOOR_MB}MB"
    limit.write_text("max\n")  # no limit: the machine's memory
    monkeypatch.setattr(memory, "CGROUP_LIMIT", tmp_path / "absent")
    assert memory.machine_mb() is not None


def test_the_centre_may_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(memory.ENV, "3GB")
    assert memory.memory_limit() == "3GB"
    monkeypatch.setenv(memory.ENV, "lots")  # not a size: the machine's default
    assert memory.memory_limit().endswith("MB")
