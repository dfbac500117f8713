-- The six indicators scored from the submissions ledger (单位材料登记表), per unit: I1 and I4
-- the centre's reviewed scores (D7, with I4's survey-report flag), I2 complaints and I5
-- meeting and talks (D8), I7 counselling forms and I8 stories against the unit's size (D5).
-- A blank ledger cell scores 0 and the detail says so.
-- grain: year, unit_code, indicator
with

units as (
    select * from reference.units
),

rule_years as (
    select * from reference.rule_years
),

rule_indicators as (
    select * from reference.rule_indicators
),

submissions as (
    select * from staging.stg_submissions
),

evaluation_years as (
    select distinct year from intermediate.int_evaluation_dates
),

node_results as (
    select * from intermediate.int_node_results
),

final_counts as (
    select * from intermediate.int_unit_final_counts
),

base as (
    select
        evaluation_years.year,
        units.unit_code,
        rule_years.i5_meeting_month,
        rule_years.i4_report_deadline,
        rule_years.large_unit_threshold,
        rule_years.partial_credit,
        rule_years.i7_required_large,
        rule_years.i7_required_small,
        rule_years.i8_required_large,
        rule_years.i8_required_small,
        submissions.i1_review_score,
        submissions.i2_complaints,
        submissions.i4_review_score,
        submissions.i4_report_date,
        submissions.i5_meeting_date,
        submissions.i5_talks,
        submissions.i7_forms,
        submissions.i8_stories
    from evaluation_years
    cross join units
    inner join rule_years on evaluation_years.year = rule_years.year
    left join submissions
        on evaluation_years.year = submissions.year and units.unit_code = submissions.unit_code
),

points_base as (
    select
        year,
        max(base_points) filter (where indicator = 'I2') as i2_base,
        max(base_points) filter (where indicator = 'I5') as i5_base,
        max(base_points) filter (where indicator = 'I7') as i7_base,
        max(base_points) filter (where indicator = 'I8') as i8_base
    from rule_indicators
    group by year
),

i1 as (
    select
        year,
        unit_code,
        'I1' as indicator,
        coalesce(i1_review_score, 0) as computed_points,
        false as needs_review,
        case
            when i1_review_score is null then '材料登记表缺少就业工作组织得分，暂记0分'
            else '就业中心审核得分' || fmt_points(i1_review_score) || '分'
        end as detail
    from base
),

i2 as (
    select
        base.year,
        base.unit_code,
        'I2' as indicator,
        case
            when base.i2_complaints = 0 then points_base.i2_base
            else 0
        end as computed_points,
        false as needs_review,
        case
            when base.i2_complaints is null then '材料登记表缺少合理投诉次数，暂记0分'
            when base.i2_complaints = 0 then '评优工作无合理投诉，得' || points_base.i2_base || '分'
            else '评优工作合理投诉' || base.i2_complaints || '次，记0分'
        end as detail
    from base
    inner join points_base on base.year = points_base.year
),

bachelor_units as (
    select distinct
        node_results.year,
        node_results.unit_code
    from node_results
    inner join final_counts
        on
            node_results.year = final_counts.year
            and node_results.unit_code = final_counts.unit_code
            and node_results.milestone_date = final_counts.milestone_date
    where node_results.degree = 'bachelor' and node_results.graduates > 0
),

i4 as (
    select
        base.year,
        base.unit_code,
        'I4' as indicator,
        coalesce(base.i4_review_score, 0) as computed_points,
        false as needs_review,
        case
            when base.i4_review_score is null then '材料登记表缺少未就业学生排摸得分，暂记0分'
            else '就业中心审核得分' || fmt_points(base.i4_review_score) || '分'
        end
        || case
            when bachelor_units.unit_code is null then ''
            when base.i4_report_date is null then '；注意：有本科毕业生，未登记《未就业学生调研报告》提交日期'
            when base.i4_report_date > base.i4_report_deadline
                then
                    '；注意：《未就业学生调研报告》于' || strftime(base.i4_report_date, '%Y-%m-%d')
                    || '提交，晚于' || fmt_md(base.i4_report_deadline)
            else ''
        end as detail
    from base
    left join bachelor_units
        on base.year = bachelor_units.year and base.unit_code = bachelor_units.unit_code
),

i5 as (
    select
        base.year,
        base.unit_code,
        'I5' as indicator,
        cast(
            case
                when
                    year(base.i5_meeting_date) = base.year
                    and month(base.i5_meeting_date) = base.i5_meeting_month
                    then points_base.i5_base // 2
                else 0
            end
            + case when base.i5_talks >= 1 then points_base.i5_base - points_base.i5_base // 2 else 0 end
            as decimal(18, 2)
        ) as computed_points,
        false as needs_review,
        case
            when base.i5_meeting_date is null then '未登记就业动员会，0分'
            when
                year(base.i5_meeting_date) = base.year
                and month(base.i5_meeting_date) = base.i5_meeting_month
                then
                    '就业动员会' || strftime(base.i5_meeting_date, '%Y-%m-%d') || '召开，得'
                    || (points_base.i5_base // 2) || '分'
            else
                '就业动员会' || strftime(base.i5_meeting_date, '%Y-%m-%d') || '召开，不在'
                || base.i5_meeting_month || '月，0分'
        end
        || '；'
        || case
            when base.i5_talks is null then '材料登记表缺少座谈次数，暂记0分'
            when base.i5_talks >= 1
                then
                    '职业导师/校友座谈' || base.i5_talks || '次，得'
                    || (points_base.i5_base - points_base.i5_base // 2) || '分'
            else '未组织职业导师/校友座谈，0分'
        end as detail
    from base
    inner join points_base on base.year = points_base.year
),

sizes as (
    select
        base.*,
        points_base.i7_base,
        points_base.i8_base,
        coalesce(final_counts.graduates, 0) as graduates,
        coalesce(final_counts.graduates, 0) > base.large_unit_threshold as is_large
    from base
    inner join points_base on base.year = points_base.year
    left join final_counts
        on base.year = final_counts.year and base.unit_code = final_counts.unit_code
),

development as (
    select
        year,
        unit_code,
        'I7' as indicator,
        i7_base as base_points,
        coalesce(i7_forms, 0) as submitted,
        case when is_large then i7_required_large else i7_required_small end as required,
        i7_forms is null as is_missing,
        '《职业咨询与辅导信息登记表》' as item,
        '份' as measure,
        graduates,
        is_large,
        large_unit_threshold,
        partial_credit
    from sizes
    union all
    select
        year,
        unit_code,
        'I8' as indicator,
        i8_base as base_points,
        coalesce(i8_stories, 0) as submitted,
        case when is_large then i8_required_large else i8_required_small end as required,
        i8_stories is null as is_missing,
        '成长成才故事' as item,
        '篇' as measure,
        graduates,
        is_large,
        large_unit_threshold,
        partial_credit
    from sizes
),

development_points as (
    select
        *,
        case
            when partial_credit = 'none'
                then cast(case when submitted >= required then base_points else 0 end as decimal(18, 2))
            else exact_share_points(base_points, submitted, required)
        end as points
    from development
),

i7_i8 as (
    select
        year,
        unit_code,
        indicator,
        points as computed_points,
        false as needs_review,
        '毕业生' || graduates || '人（'
        || case when is_large then '多于' else '不多于' end || large_unit_threshold || '人），需'
        || item || required || measure || '，'
        || case when is_missing then '材料登记表未填，暂按0' else '提交' || submitted end || measure
        || case
            when partial_credit = 'none' then '（不按比例计分）'
            else ''
        end || '，得' || fmt_points(points) || '分' as detail
    from development_points
),

ledger_indicators as (
    select * from i1
    union all
    select * from i2
    union all
    select * from i4
    union all
    select * from i5
    union all
    select * from i7_i8
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit
        indicator,  -- I1, I2, I4, I5, I7 or I8
        cast(computed_points as decimal(18, 2)) as computed_points,  -- points from the ledger's cells
        needs_review,  -- always false for these indicators
        detail  -- the ledger cell(s) read and how they scored (Chinese)
    from ledger_indicators
)

select * from final
