"""The generator's one user-facing error."""

from __future__ import annotations


class GenerateError(ValueError):
    """Bad arguments or an output folder that is not empty: one Chinese paragraph, shown by the
    command line as is (exit code 2), never a traceback."""
