-- Whether each unit's row of the submissions ledger (单位材料登记表) is complete (D11: the six
-- numeric cells), and which cells are missing, in the centre's words.
-- grain: year, unit_code
with

unit_years as (
    select * from intermediate.int_unit_years
),

submissions as (
    select * from staging.stg_submissions
),

cells as (
    select
        unit_years.year,
        unit_years.unit_code,
        submissions.unit_code is not null as has_ledger_row,
        concat_ws(
            '、',
            case when submissions.i1_review_score is null then '就业工作组织得分' end,
            case when submissions.i2_complaints is null then '优秀毕业生评选合理投诉次数' end,
            case when submissions.i4_review_score is null then '未就业学生排摸得分' end,
            case when submissions.i5_talks is null then '职业导师校友座谈次数' end,
            case when submissions.i7_forms is null then '职业咨询登记表份数' end,
            case when submissions.i8_stories is null then '成长成才故事篇数' end
        ) as missing_cells
    from unit_years
    left join submissions
        on unit_years.year = submissions.year and unit_years.unit_code = submissions.unit_code
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit
        has_ledger_row,  -- the ledger has a row for the unit
        missing_cells = '' as is_complete,  -- all six numeric cells filled (D11)
        case
            when not has_ledger_row then '材料登记表中没有该单位'
            when missing_cells <> '' then '材料登记表缺：' || missing_cells
        end as missing_note  -- what is missing, in Chinese (null when complete)
    from cells
)

select * from final
