-- Each graduate of the snapshot of each evaluation date, and whether they count as employed
-- on that date (D2: destination counts, and verified on or before it unless the knob says no).
-- grain: year, evaluation_date, student_id
with

evaluation_dates as (
    select * from intermediate.int_evaluation_dates
),

graduates as (
    select * from intermediate.int_graduates
),

rule_years as (
    select * from reference.rule_years
),

employment as (
    select
        evaluation_dates.year,
        evaluation_dates.evaluation_date,
        graduates.student_id,
        graduates.unit_code,
        graduates.degree,
        graduates.is_ethnic_minority,
        graduates.destination_kind,
        graduates.has_guided_attribute,
        graduates.is_employed_destination
        and (
            not rule_years.require_verification
            or (
                graduates.is_verified
                and graduates.verification_date <= evaluation_dates.evaluation_date
            )
        ) as is_employed
    from evaluation_dates
    inner join graduates
        on
            evaluation_dates.year = graduates.year
            and evaluation_dates.snapshot_date = graduates.as_of_date
    inner join rule_years on evaluation_dates.year = rule_years.year
),

final as (
    select
        year,  -- evaluation year
        evaluation_date,  -- node or I9 date
        student_id,  -- 学号 (personal)
        unit_code,  -- unit
        degree,  -- degree
        is_ethnic_minority,  -- 民族 other than 汉族
        is_employed,  -- counts as employed on the date (D2)
        is_employed and destination_kind = 'job' as is_employed_in_job,  -- I9 denominator
        is_employed and destination_kind = 'job' and has_guided_attribute
            as is_guided  -- placed with a guided employer (D6)
    from employment
)

select * from final
