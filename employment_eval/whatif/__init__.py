"""What-if: the working database's current data scored under draft rules, beside the official
scoring, in a scratch in-memory database (`employment-eval whatif`).

Nothing is written to the working database or the published marts: the inputs the models read
(the current run's files in the raw layer, its manifest) are copied, under the working
database's run lock and through a read-only attachment, into an in-memory DuckDB; there the
models are built once with the official rules and once per draft. No quality gate, no Prefect.

Modules: scratch (the in-memory copy), score (one build, read back), compare (official against
each draft, and what the draft changes in the rules), run (the three as one call). What a
person reads of it — the console table, whatif_<year>.xlsx and .html — is rendered by
employment_eval.render.whatif."""

from employment_eval.whatif.compare import Comparison, compare
from employment_eval.whatif.run import WhatIf, run_whatif
from employment_eval.whatif.score import Scoring, score
from employment_eval.whatif.scratch import Scratch, WhatIfError, open_scratch

__all__ = [
    "Comparison",
    "Scoring",
    "Scratch",
    "WhatIf",
    "WhatIfError",
    "compare",
    "open_scratch",
    "run_whatif",
    "score",
]
