"""Where the project's own resources live (the repository is installed in editable mode)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
REFERENCE_DIR = PROJECT_ROOT / "reference"
RULES_DIR = REFERENCE_DIR / "rules"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
TEMPLATES_DIR = PROJECT_ROOT / "templates"  # the HTML reports' Jinja2 templates and stylesheets
TEMPLATES_ENV = "EMPLOYMENT_EVAL_TEMPLATES"  # names another folder of templates (restyled)

# selfcheck: the units' returned self-check packs (自评表, employment_eval.selfcheck)
RAW_KINDS = ("registrations", "special_groups", "submissions", "adjustments", "selfcheck")


def templates_dir() -> Path:
    """The folder the HTML reports are rendered from: the one EMPLOYMENT_EVAL_TEMPLATES names,
    else the repository's templates/."""
    override = os.environ.get(TEMPLATES_ENV, "").strip()
    return Path(override).expanduser().resolve() if override else TEMPLATES_DIR
