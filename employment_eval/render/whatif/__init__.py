"""What a person reads of a what-if (employment_eval.whatif): the console table (console), how
values are written (text), and whatif_<year>.xlsx and .html (files; the page from the template
templates/whatif.html.j2)."""
