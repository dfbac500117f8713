"""Signing a year (三、评估程序, stage 3: the committee's result, approved and signed by the
school's leader): the year's published results are recorded as signed and from then on no run
changes them.

- `store`: the record in the working database (schema `signed`): the signatures, the signed
  rows of every published table with a `year` column, the input files of the year and the
  history of sign and unsign events;
- `snapshot`: taking the signed rows from the published file (`sign`) and putting them back
  into every build (`pin`, called by `build.build_models` after the reference tables are
  loaded and after each model is built, before its dependants);
- `drift`: the warnings of a run whose inputs of a signed year differ from the signed ones;
- `record`: `sign` and `unsign` themselves (checks, record, the published file rewritten with
  the signature tables — no rebuild and no Prefect);
- `published`: what the readers of the published file say about a signed year."""
