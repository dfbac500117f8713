"""Where the project's own resources live (the repository is installed in editable mode)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
REFERENCE_DIR = PROJECT_ROOT / "reference"
RULES_DIR = REFERENCE_DIR / "rules"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

# selfcheck: the units' returned self-check packs (自评表, employment_eval.selfcheck)
RAW_KINDS = ("registrations", "special_groups", "submissions", "adjustments", "selfcheck")
