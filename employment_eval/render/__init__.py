"""Everything a person reads: the year-end files (`render.yearend`), the morning report
(`render.morning`) and the console scoreboard (`render.console`), with the number and date
formatting they share (`render.formats`). The HTML pages are written by the Jinja2 templates of
the repository's templates/ folder (`render.templates`); Python computes the figures and the
charts' geometry (`render.charts`), the templates write every tag."""
