-- The season against last year: per unit and degree (and school-wide, unit_code 'all'), the
-- employment rate of the season at each of its exports (marts.rate_history) beside last year's
-- rate at the same calendar date. Last year's rate at a date is the rate of last year's latest
-- export dated on or before that date one year earlier (what was known then, as D2 takes a
-- node's snapshot). The dates of a year's curve are its own export dates and last year's export
-- dates moved one year on, so that last year's curve runs through the whole season even before
-- this season's exports reach it; the rate of this season is null on a date without an export
-- of its own. Without last year's data (the first year of the file, a unit or degree new this
-- year) last year's columns are null. One row per year, unit (or 'all'), degree and date.
-- grain: year, unit_code, degree, curve_date
with

rate_history as (
    select * from marts.rate_history
),

unit_series as (
    select
        year,
        unit_code,
        degree,
        as_of_date,
        graduates,
        employed
    from rate_history
),

school_series as (
    select
        year,
        'all' as unit_code,
        degree,
        as_of_date,
        sum(graduates) as graduates,
        sum(employed) as employed
    from rate_history
    group by year, degree, as_of_date
),

series as (
    select * from unit_series
    union all
    select * from school_series
),

exports as (
    select distinct
        year,
        as_of_date
    from rate_history
),

years as (
    select distinct year from exports
),

curve_dates as (
    select
        year,
        as_of_date as curve_date
    from exports
    union
    select
        later.year,
        cast(earlier.as_of_date + interval 1 year as date) as curve_date
    from exports as earlier
    inner join years as later on earlier.year = later.year - 1
),

cells as (
    select distinct
        year,
        unit_code,
        degree
    from series
    union
    select distinct
        years.year,
        series.unit_code,
        series.degree
    from series
    inner join years on series.year = years.year - 1
),

grid as (
    select
        cells.year,
        cells.unit_code,
        cells.degree,
        curve_dates.curve_date
    from cells
    inner join curve_dates on cells.year = curve_dates.year
),

last_year_exports as (
    select
        grid.year,
        grid.unit_code,
        grid.degree,
        grid.curve_date,
        max(exports.as_of_date) as last_year_export_date
    from grid
    inner join exports
        on
            exports.year = grid.year - 1
            and exports.as_of_date <= cast(grid.curve_date - interval 1 year as date)
    group by grid.year, grid.unit_code, grid.degree, grid.curve_date
),

joined as (
    select
        grid.*,
        this_year.graduates,
        this_year.employed,
        last_year_exports.last_year_export_date,
        last_year.graduates as last_year_graduates,
        last_year.employed as last_year_employed,
        own_exports.as_of_date is not null as is_export
    from grid
    left join exports as own_exports
        on grid.year = own_exports.year and grid.curve_date = own_exports.as_of_date
    left join series as this_year
        on
            grid.year = this_year.year
            and grid.unit_code = this_year.unit_code
            and grid.degree = this_year.degree
            and grid.curve_date = this_year.as_of_date
    left join last_year_exports
        on
            grid.year = last_year_exports.year
            and grid.unit_code = last_year_exports.unit_code
            and grid.degree = last_year_exports.degree
            and grid.curve_date = last_year_exports.curve_date
    left join series as last_year
        on
            last_year.year = grid.year - 1
            and grid.unit_code = last_year.unit_code
            and grid.degree = last_year.degree
            and last_year_exports.last_year_export_date = last_year.as_of_date
),

final as (
    select
        year,  -- evaluation year (this season)
        unit_code,  -- unit code (reference.units), or 'all' for the whole school
        degree,  -- bachelor / master / doctor
        curve_date,  -- calendar date of this season
        is_export,  -- this season has an export dated curve_date
        cast(graduates as bigint) as graduates,  -- this season: cohort graduates in that export
        cast(employed as bigint) as employed,  -- this season: employed (and verified) by that date
        exact_ratio(employed, graduates) as employment_rate,  -- this season's rate (null: no export)
        last_year_export_date,  -- last year's latest export on or before the same date a year earlier
        coalesce(cast(last_year_export_date + interval 1 year as date) = curve_date, false)
            as is_last_year_export,  -- last year had an export on this date a year earlier
        cast(last_year_graduates as bigint) as last_year_graduates,  -- its cohort graduates
        cast(last_year_employed as bigint) as last_year_employed,  -- its employed (and verified)
        exact_ratio(last_year_employed, last_year_graduates) as last_year_rate,  -- last year's rate then
        cast(
            exact_ratio(employed, graduates) - exact_ratio(last_year_employed, last_year_graduates)
            as decimal(9, 6)
        ) as rate_change_last_year  -- this season's rate minus last year's (fraction; null: either missing)
    from joined
)

select * from final
