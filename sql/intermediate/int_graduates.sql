-- Every cohort graduate in every export of the run, with what the reference data says of
-- their destination. Cohort (D1): graduation year = an evaluation year with a rules file;
-- 结业 rows are left out. One row per export and graduate.
-- grain: as_of_date, year, student_id
with

registrations as (
    select * from staging.stg_registrations
),

rule_years as (
    select * from reference.rule_years
),

destination_codes as (
    select * from reference.destination_codes
),

employer_types as (
    select * from reference.employer_types
),

guided_employers as (
    select distinct employer_name from reference.guided_employers
),

provinces as (
    select * from reference.provinces
),

cohort as (
    select registrations.*
    from registrations
    inner join rule_years on registrations.graduation_year = rule_years.year
    where not registrations.is_completion
),

final as (
    select
        cohort.graduation_year as year,  -- evaluation year = cohort
        cohort.as_of_date,  -- the export's as-of date
        cohort.student_id,  -- 学号 (personal)
        cohort.unit_code,  -- unit
        cohort.degree,  -- bachelor / master / doctor
        cohort.ethnicity,  -- official name (personal)
        cohort.ethnicity <> '汉族' as is_ethnic_minority,  -- special group (D4)
        cohort.destination_family,  -- destination code family
        destination_codes.is_employed as is_employed_destination,  -- counts toward the rate
        destination_codes.destination_kind,  -- job / study / none
        cohort.is_verified,  -- 已鉴证
        cohort.verification_date,  -- 鉴证日期
        (
            coalesce(employer_types.is_guided, false)
            or guided_employers.employer_name is not null
            or destination_codes.is_grassroots
            or cohort.is_grassroots_flag
            or coalesce(provinces.is_central_western, false)
        ) as has_guided_attribute  -- guided type, listed employer, grassroots or 中西部 (D6)
    from cohort
    inner join destination_codes
        on cohort.destination_family = destination_codes.destination_code
    left join employer_types
        on cohort.employer_type_code = employer_types.employer_type_code
    left join guided_employers
        on cohort.employer_name = guided_employers.employer_name
    left join provinces
        on cohort.employer_province = provinces.province
)

select * from final
