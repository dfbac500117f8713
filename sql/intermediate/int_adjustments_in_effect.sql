-- The committee's adjustments and decisions with whether they apply on the run's as-of date:
-- one dated after --as-of did not exist that night, so a replay of that night leaves it out
-- (and says how many there are). One row per year, unit and indicator (or 'ADVANCED').
-- grain: year, unit_code, indicator
with

adjustments as (
    select * from staging.stg_adjustments
),

run_context as (
    select * from meta.run_context
),

final as (
    select
        adjustments.year,  -- evaluation year
        adjustments.unit_code,  -- unit
        adjustments.indicator,  -- I1..I9 or ADVANCED
        adjustments.new_points,  -- adjusted points (I1..I9)
        adjustments.advanced_decision,  -- 先进单位 是/否 (ADVANCED)
        adjustments.reason,  -- 理由
        adjustments.approved_by,  -- 审批人
        adjustments.decided_date,  -- 日期
        adjustments.decided_date <= run_context.as_of_date as is_in_effect,  -- dated on or before --as-of
        adjustments.source_file,  -- adjustments file
        adjustments.source_row  -- row in it
    from adjustments
    cross join run_context
)

select * from final
