"""Reference lookups prepared once per run for vectorised resolution (polars replace/regex)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cached_property

from employment_eval.reference import Reference

# Bump when a change to ingestion changes what is stored for the same file (cache key part).
# 2: strict 学号, length limits, header-only exports; 3: score bounds from the year's rules;
# 4: records counted twice (lone CRs are line breaks), file shape, the file-name date warning
PARSER_VERSION = "ingest-4"


@dataclass
class Lookups:
    reference: Reference

    @cached_property
    def parser_fingerprint(self) -> str:
        return f"{self.reference.fingerprint}:{PARSER_VERSION}"

    @cached_property
    def unit_codes(self) -> list[str]:
        return list(self.reference.unit_codes)

    @cached_property
    def unit_by_name(self) -> dict[str, str]:
        names = dict(self.reference.unit_by_name)
        for name, code in self.reference.unit_by_name.items():
            if name.isascii():
                names.setdefault(name.lower(), code)
        return names

    @cached_property
    def unit_names(self) -> dict[str, str]:
        """Unit code → official full name."""
        return {u.code: u.name for u in self.reference.units}

    def closest_units(self, text: str, n: int = 3) -> list[str]:
        """The spellings of the n distinct units closest to an unknown unit name."""
        scored = sorted(
            self.reference.unit_by_name.items(),
            key=lambda kv: (-SequenceMatcher(None, text, kv[0]).ratio(), len(kv[0])),
        )
        out: list[str] = []
        seen: set[str] = set()
        for name, code in scored:
            if code in seen or name == code:
                continue
            seen.add(code)
            out.append(name)
            if len(out) == n:
                break
        return out

    def unknown_unit_reason(self, text: str | None) -> str:
        close = "、".join(f"「{name}」" for name in self.closest_units(text or ""))
        return f"未知的单位「{text}」，最接近的已知单位：{close}"

    @cached_property
    def ethnicity_by_name(self) -> dict[str, str]:
        return dict(self.reference.ethnicity_by_name)

    @cached_property
    def degree_code(self) -> dict[str, str]:
        return {label: d for label, (d, _) in self.reference.degree_by_label.items()}

    @cached_property
    def degree_completion(self) -> dict[str, bool]:
        return {label: c for label, (_, c) in self.reference.degree_by_label.items()}

    @cached_property
    def degree_labels_hint(self) -> str:
        labels = [k for k, (_, c) in self.reference.degree_by_label.items() if not c]
        return "、".join(labels[:12])

    @cached_property
    def destination_families(self) -> list[str]:
        return sorted(self.reference.destinations)

    @cached_property
    def employer_type_by_name(self) -> dict[str, str]:
        return dict(self.reference.employer_type_by_name)

    @cached_property
    def province_by_name(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in self.reference.provinces:
            out[r["province"]] = r["province"]
            out[r["province_full_name"]] = r["province"]
        return out

    @cached_property
    def province_prefix_pattern(self) -> str:
        """Regex matching the longest province name (short or full) at the start of a text."""
        names = sorted(self.province_by_name, key=len, reverse=True)
        return "^(" + "|".join(re.escape(n) for n in names) + ")"
