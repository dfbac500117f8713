-- The season's curve: employment rate per unit and degree at every export of the run, each
-- counted on its own as-of date. One row per year, unit, degree and export date.
-- grain: year, unit_code, degree, as_of_date
with

graduates as (
    select * from intermediate.int_graduates
),

rule_years as (
    select * from reference.rule_years
),

counts as (
    select
        graduates.year,
        graduates.unit_code,
        graduates.degree,
        graduates.as_of_date,
        count(*) as graduates,
        count(*) filter (
            where graduates.is_employed_destination
            and (
                not rule_years.require_verification
                or (graduates.is_verified and graduates.verification_date <= graduates.as_of_date)
            )
        ) as employed
    from graduates
    inner join rule_years on graduates.year = rule_years.year
    group by graduates.year, graduates.unit_code, graduates.degree, graduates.as_of_date
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit code
        degree,  -- bachelor / master / doctor
        as_of_date,  -- export date
        graduates,  -- cohort graduates in that export
        employed,  -- employed (and verified) as of that date
        exact_ratio(employed, graduates) as employment_rate  -- employed ÷ graduates
    from counts
)

select * from final
