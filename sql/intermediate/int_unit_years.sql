-- Every unit in every evaluated year (a year with at least one export of its cohort): the
-- frame of the per-unit indicators and of the ledger's completeness.
-- grain: year, unit_code
with

evaluation_dates as (
    select * from intermediate.int_evaluation_dates
),

units as (
    select * from reference.units
),

evaluation_years as (
    select distinct year
    from evaluation_dates
),

final as (
    select
        evaluation_years.year,  -- evaluation year
        units.unit_code  -- unit
    from evaluation_years
    cross join units
)

select * from final
