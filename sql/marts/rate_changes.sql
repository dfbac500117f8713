-- How each unit's rate moved: per unit, degree and export, the employed count and the rate
-- against the previous export of the run and against the export of a week before (the latest
-- export dated 7 to 10 days before this one; none when no export falls in that window, so a
-- week's change is never a longer interval's). A change is null when the unit has no graduate
-- of that degree in the earlier export, or there is no earlier export. One row per year, unit,
-- degree and export date.
-- grain: year, unit_code, degree, as_of_date
with

rate_history as (
    select * from marts.rate_history
),

exports as (
    select distinct
        year,
        as_of_date
    from rate_history
),

previous_exports as (
    select
        year,
        as_of_date,
        lag(as_of_date) over (partition by year order by as_of_date) as previous_export_date
    from exports
),

week_ago_exports as (
    select
        later.year,
        later.as_of_date,
        max(earlier.as_of_date) as week_ago_export_date
    from exports as later
    inner join exports as earlier
        on
            later.year = earlier.year
            and earlier.as_of_date between later.as_of_date - 10 and later.as_of_date - 7
    group by later.year, later.as_of_date
),

baselines as (
    select
        previous_exports.year,
        previous_exports.as_of_date,
        previous_exports.previous_export_date,
        week_ago_exports.week_ago_export_date
    from previous_exports
    left join week_ago_exports
        on
            previous_exports.year = week_ago_exports.year
            and previous_exports.as_of_date = week_ago_exports.as_of_date
),

compared as (
    select
        rate_history.*,
        baselines.previous_export_date,
        baselines.week_ago_export_date,
        previous.graduates as previous_graduates,
        previous.employed as previous_employed,
        previous.employment_rate as previous_rate,
        week_ago.graduates as week_ago_graduates,
        week_ago.employed as week_ago_employed,
        week_ago.employment_rate as week_ago_rate
    from rate_history
    inner join baselines
        on rate_history.year = baselines.year and rate_history.as_of_date = baselines.as_of_date
    left join rate_history as previous
        on
            rate_history.year = previous.year
            and rate_history.unit_code = previous.unit_code
            and rate_history.degree = previous.degree
            and baselines.previous_export_date = previous.as_of_date
    left join rate_history as week_ago
        on
            rate_history.year = week_ago.year
            and rate_history.unit_code = week_ago.unit_code
            and rate_history.degree = week_ago.degree
            and baselines.week_ago_export_date = week_ago.as_of_date
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit code (reference.units)
        degree,  -- bachelor / master / doctor
        as_of_date,  -- export date
        graduates,  -- cohort graduates in that export
        employed,  -- employed (and verified) as of that date (D2)
        employment_rate,  -- employed ÷ graduates
        previous_export_date,  -- the run's export before this one (null for the first)
        graduates - previous_graduates as graduates_change_previous,  -- cohort change since then
        employed - previous_employed as employed_change_previous,  -- employed change since then
        cast(employment_rate - previous_rate as decimal(9, 6))
            as rate_change_previous,  -- rate change (fraction) since then
        week_ago_export_date,  -- latest export dated 7 to 10 days before this one (null: none)
        graduates - week_ago_graduates as graduates_change_week,  -- cohort change since then
        employed - week_ago_employed as employed_change_week,  -- employed change since then
        cast(employment_rate - week_ago_rate as decimal(9, 6))
            as rate_change_week  -- rate change (fraction) since then
    from compared
)

select * from final
