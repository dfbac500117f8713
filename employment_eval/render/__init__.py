"""Everything a person reads: the year-end files (`render.yearend`), the morning report
(`render.morning`) and the console scoreboard (`render.console`)."""
