"""Reference data (seeds): the editable CSVs under reference/, read once per run.

The same files are loaded into the DuckDB schema `reference` by the model runner, so the SQL
and the ingestion code read one source of truth."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from employment_eval.paths import REFERENCE_DIR

SEED_FILES = (
    "units",
    "unit_groups",
    "unit_aliases",
    "destination_codes",
    "employer_types",
    "guided_employers",
    "degree_labels",
    "provinces",
    "ethnicities",
    "degrees",
    "special_groups",
    "ledger_items",
)


def read_seed(name: str, directory: Path = REFERENCE_DIR) -> list[dict[str, str]]:
    with open(directory / f"{name}.csv", encoding="utf-8-sig", newline="") as fh:
        return [
            {k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)
        ]


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"true", "1", "yes", "是"}


@dataclass(frozen=True)
class Unit:
    code: str
    group: str
    name: str
    short_name: str
    sort_order: int


@dataclass
class Reference:
    """Lookup tables used by ingestion and the generator."""

    directory: Path = REFERENCE_DIR
    seeds: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.seeds:
            self.seeds = {name: read_seed(name, self.directory) for name in SEED_FILES}

    # --- units -----------------------------------------------------------------------
    @cached_property
    def units(self) -> list[Unit]:
        return [
            Unit(
                r["unit_code"],
                r["unit_group"],
                r["unit_name"],
                r["short_name"],
                int(r["sort_order"]),
            )
            for r in self.seeds["units"]
        ]

    @cached_property
    def unit_codes(self) -> list[str]:
        return [u.code for u in self.units]

    @cached_property
    def unit_by_name(self) -> dict[str, str]:
        """Every accepted spelling (code, full name, short name, alias) → unit code."""
        names: dict[str, str] = {}
        for u in self.units:
            names[u.code] = u.code
            names[u.name] = u.code
            names[u.short_name] = u.code
        for r in self.seeds["unit_aliases"]:
            names[r["alias"]] = r["unit_code"]
        return names

    # --- codes -----------------------------------------------------------------------
    @cached_property
    def degree_by_label(self) -> dict[str, tuple[str, bool]]:
        """Degree label → (degree, is_completion). The codes themselves are accepted too."""
        labels = {
            r["degree_label"]: (r["degree"], _truthy(r["is_completion"]))
            for r in self.seeds["degree_labels"]
        }
        for d in ("bachelor", "master", "doctor"):
            labels.setdefault(d, (d, False))
        return labels

    @cached_property
    def destinations(self) -> dict[str, dict[str, str]]:
        return {r["destination_code"]: r for r in self.seeds["destination_codes"]}

    @cached_property
    def employer_type_by_name(self) -> dict[str, str]:
        """Employer type code or label → code."""
        out: dict[str, str] = {}
        for r in self.seeds["employer_types"]:
            out[r["employer_type_code"]] = r["employer_type_code"]
            out[r["employer_type_label"]] = r["employer_type_code"]
        return out

    @cached_property
    def provinces(self) -> list[dict[str, str]]:
        return self.seeds["provinces"]

    @cached_property
    def ethnicity_by_name(self) -> dict[str, str]:
        """Ethnicity, with or without 族 → official name (汉 → 汉族)."""
        out: dict[str, str] = {}
        for r in self.seeds["ethnicities"]:
            out[r["ethnicity"]] = r["ethnicity"]
            out[r["short_name"]] = r["ethnicity"]
        return out

    @cached_property
    def fingerprint(self) -> str:
        """Hash of every seed file: a parsed-file cache entry is valid only for the same seeds."""
        h = hashlib.sha256()
        for name in SEED_FILES:
            h.update(name.encode())
            h.update((self.directory / f"{name}.csv").read_bytes())
        return h.hexdigest()[:16]


def destination_family(code: str, known: dict[str, dict[str, str]]) -> str | None:
    """A two-digit code is its own family; a three-digit one takes its first two digits.
    Returns None when the family is not in the table (an input error, never 'not employed')."""
    code = code.strip()
    if not code.isdigit() or len(code) not in (2, 3):
        return None
    family = code[:2]
    return family if family in known else None
