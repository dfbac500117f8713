-- The verification backlog of every export: per unit and degree, the graduates whose
-- registration names a destination that counts toward the employment rate (reference
-- destination table) but who are not counted as employed on the export's date (D2), because
-- the record is not 已鉴证, or is 已鉴证 with a verification date after the export's as-of
-- date. Each of them counts once verified on or before a node date. Zero when the year's rules
-- do not require verification (such graduates already count). One row per year, unit, degree
-- and export date.
-- grain: year, unit_code, degree, as_of_date
with

graduates as (
    select * from intermediate.int_graduates
),

rule_years as (
    select * from reference.rule_years
),

classified as (
    select
        graduates.year,
        graduates.unit_code,
        graduates.degree,
        graduates.as_of_date,
        graduates.is_employed_destination,
        rule_years.require_verification,
        coalesce(graduates.is_verified, false) as is_verified,
        coalesce(
            graduates.is_verified and graduates.verification_date <= graduates.as_of_date, false
        ) as is_verified_by_export
    from graduates
    inner join rule_years on graduates.year = rule_years.year
),

counts as (
    select
        year,
        unit_code,
        degree,
        as_of_date,
        count(*) as graduates,
        count(*) filter (where is_employed_destination) as registered_employed,
        count(*) filter (
            where is_employed_destination and (not require_verification or is_verified_by_export)
        ) as employed,
        count(*) filter (
            where is_employed_destination and require_verification and not is_verified
        ) as not_verified,
        count(*) filter (
            where is_employed_destination and require_verification and is_verified
            and not is_verified_by_export
        ) as verified_after_export
    from classified
    group by year, unit_code, degree, as_of_date
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit code (reference.units)
        degree,  -- bachelor / master / doctor
        as_of_date,  -- export date
        graduates,  -- cohort graduates in that export
        registered_employed,  -- of whom with a destination that counts toward the rate
        employed,  -- of whom counted as employed on the export's date (D2)
        not_verified,  -- destination counts, record not 已鉴证
        verified_after_export,  -- destination counts, 已鉴证 dated after the export's date
        not_verified + verified_after_export as pending_verification  -- would count once verified
    from counts
)

select * from final
