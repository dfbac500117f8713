-- The committee's adjustments (学指委审核调整) of the files in this run: one row per unit,
-- year and indicator (or the advanced decision, indicator = 'ADVANCED').
-- grain: year, unit_code, indicator
with

current_files as (
    select distinct file_sha256
    from meta.current_files
    where kind = 'adjustments'
),

adjustments as (
    select * from raw.adjustments
),

final as (
    select
        adjustments.adjustment_year as year,  -- evaluation year
        adjustments.unit_code,  -- unit
        adjustments.indicator_code as indicator,  -- I1..I9 or ADVANCED
        adjustments.new_points,  -- adjusted points (I1..I9)
        adjustments.advanced_decision,  -- 先进单位 是/否 (ADVANCED)
        adjustments.reason,  -- 理由
        adjustments.approved_by,  -- 审批人
        adjustments.decided_on as decided_date,  -- 日期
        adjustments.source_file,  -- adjustments file
        adjustments.source_row  -- row in it
    from adjustments
    inner join current_files on adjustments.file_sha256 = current_files.file_sha256
)

select * from final
