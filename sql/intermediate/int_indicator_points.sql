-- The nine indicators' computed points per unit (before committee adjustments), each with a
-- short Chinese sentence showing its arithmetic. Every number comes from the rules tables.
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

degrees as (
    select * from reference.degrees
),

special_group_names as (
    select * from reference.special_groups
),

submissions as (
    select * from staging.stg_submissions
),

node_results as (
    select * from intermediate.int_node_results
),

final_counts as (
    select * from intermediate.int_unit_final_counts
),

special_group_cells as (
    select * from intermediate.int_special_group_cells
),

guided_counts as (
    select * from intermediate.int_guided_counts
),

evaluation_years as (
    select distinct year from intermediate.int_evaluation_dates
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
        submissions.unit_code is not null as has_ledger_row,
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
        max(base_points) filter (where indicator = 'I6') as i6_base,
        max(base_points) filter (where indicator = 'I7') as i7_base,
        max(base_points) filter (where indicator = 'I8') as i8_base,
        max(base_points) filter (where indicator = 'I9') as i9_base
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

node_degree_text as (
    select
        node_results.year,
        node_results.unit_code,
        node_results.milestone_date,
        node_results.base_points,
        sum(node_results.bonus) as bonus,
        sum(node_results.deduction) as deduction,
        string_agg(
            degrees.degree_name || ' ' || node_results.employed || '/' || node_results.graduates
            || '=' || fmt_rate(node_results.employed, node_results.graduates)
            || case
                when node_results.is_met
                    then
                        '，达到' || fmt_bp(node_results.target_bp) || '%目标（需'
                        || node_results.required_employed || '人），超出'
                        || (node_results.employed - node_results.required_employed) || '人，加'
                        || node_results.bonus || '分'
                else
                    '，低于' || fmt_bp(node_results.target_bp) || '%目标'
                    || fmt_bp(node_results.shortfall_bp) || '个百分点，扣'
                    || fmt_points(node_results.deduction) || '分'
            end,
            '；' order by degrees.sort_order
        ) as degree_text,
        bool_or(node_results.is_provisional) as is_provisional,
        bool_or(node_results.is_reconstructed) as is_reconstructed
    from node_results
    inner join degrees on node_results.degree = degrees.degree
    group by
        node_results.year, node_results.unit_code, node_results.milestone_date,
        node_results.base_points
),

node_points as (
    select
        *,
        greatest(cast(0 as decimal(18, 2)), base_points - deduction) + bonus as node_points
    from node_degree_text
),

i3 as (
    select
        year,
        unit_code,
        'I3' as indicator,
        sum(node_points) as computed_points,
        false as needs_review,
        string_agg(
            fmt_md(milestone_date) || ' ' || degree_text || '；节点得分 max(0, '
            || base_points || '−' || fmt_points(deduction) || ')+' || bonus || '='
            || fmt_points(node_points) || '分'
            || case when is_provisional then '（暂定，按最新导出预估）' else '' end
            || case when is_reconstructed then '（节点前无导出，按其后最早导出推算）' else '' end,
            '。' order by milestone_date
        ) as detail
    from node_points
    group by year, unit_code
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

special_group_text as (
    select
        special_group_cells.year,
        special_group_cells.unit_code,
        bool_and(special_group_cells.meets_target) as all_cells_meet,
        string_agg(
            special_group_names.special_group_name || degrees.degree_name || ' '
            || special_group_cells.employed || '/' || special_group_cells.graduates || '='
            || fmt_rate(special_group_cells.employed, special_group_cells.graduates)
            || case when special_group_cells.meets_target then '达标' else '未达标' end,
            '；' order by special_group_names.sort_order, degrees.sort_order
        ) as cells_text
    from special_group_cells
    inner join degrees on special_group_cells.degree = degrees.degree
    inner join special_group_names
        on special_group_cells.special_group = special_group_names.special_group
    group by special_group_cells.year, special_group_cells.unit_code
),

i6 as (
    select
        base.year,
        base.unit_code,
        'I6' as indicator,
        case
            when coalesce(special_group_text.all_cells_meet, true) then points_base.i6_base
            else 0
        end as computed_points,
        false as needs_review,
        case
            when special_group_text.unit_code is null
                then '无特定群体毕业生，得' || points_base.i6_base || '分'
            when special_group_text.all_cells_meet
                then
                    '12月15日特定群体就业率（目标同该学历节点目标）：' || special_group_text.cells_text
                    || '；全部达标，得' || points_base.i6_base || '分'
            else
                '12月15日特定群体就业率（目标同该学历节点目标）：' || special_group_text.cells_text
                || '；有群体低于目标，0分'
        end as detail
    from base
    inner join points_base on base.year = points_base.year
    left join special_group_text
        on base.year = special_group_text.year and base.unit_code = special_group_text.unit_code
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

i7_i8 as (
    select
        year,
        unit_code,
        indicator,
        case
            when partial_credit = 'none'
                then cast(case when submitted >= required then base_points else 0 end as decimal(18, 2))
            else exact_share_points(base_points, submitted, required)
        end as computed_points,
        false as needs_review,
        '毕业生' || graduates || '人（'
        || case when is_large then '多于' else '不多于' end || large_unit_threshold || '人），需'
        || item || required || measure || '，'
        || case when is_missing then '材料登记表未填，暂按0' else '提交' || submitted end || measure
        || case
            when partial_credit = 'none' then '（不按比例计分）'
            else ''
        end || '，得'
        || fmt_points(
            case
                when partial_credit = 'none'
                    then cast(case when submitted >= required then base_points else 0 end as decimal(18, 2))
                else exact_share_points(base_points, submitted, required)
            end
        ) || '分' as detail
    from development
),

i9 as (
    select
        base.year,
        base.unit_code,
        'I9' as indicator,
        case
            when guided_counts.denominator is null or guided_counts.denominator = 0
                then cast(points_base.i9_base as decimal(18, 2))
            when
                10000 * cast(guided_counts.guided as bigint)
                >= cast(guided_counts.i9_target_bp as bigint) * guided_counts.denominator
                then cast(points_base.i9_base as decimal(18, 2))
            else greatest(
                cast(0 as decimal(18, 2)),
                points_base.i9_base - exact_deduction(
                    cast(guided_counts.i9_target_bp as bigint) * guided_counts.denominator
                    - 10000 * cast(guided_counts.guided as bigint),
                    cast(guided_counts.i9_step_bp as bigint) * guided_counts.denominator,
                    guided_counts.deduction_rounding
                )
            )
        end as computed_points,
        coalesce(guided_counts.denominator, 0) = 0 as needs_review,
        fmt_md(guided_counts.guided_date) || '就业引导单位就业 '
        || guided_counts.guided || '/' || guided_counts.denominator
        || case
            when guided_counts.denominator = 0
                then '，分母为0，按满分' || points_base.i9_base || '分记，需复核'
            when
                10000 * cast(guided_counts.guided as bigint)
                >= cast(guided_counts.i9_target_bp as bigint) * guided_counts.denominator
                then
                    '=' || fmt_rate(guided_counts.guided, guided_counts.denominator) || '，达到'
                    || fmt_bp(guided_counts.i9_target_bp) || '%，得' || points_base.i9_base || '分'
            else
                '=' || fmt_rate(guided_counts.guided, guided_counts.denominator) || '，低于'
                || fmt_bp(guided_counts.i9_target_bp) || '%目标，扣'
                || fmt_points(
                    exact_deduction(
                        cast(guided_counts.i9_target_bp as bigint) * guided_counts.denominator
                        - 10000 * cast(guided_counts.guided as bigint),
                        cast(guided_counts.i9_step_bp as bigint) * guided_counts.denominator,
                        guided_counts.deduction_rounding
                    )
                ) || '分'
        end
        || case when guided_counts.is_provisional then '（暂定）' else '' end
        || case when guided_counts.is_reconstructed then '（按其后最早导出推算）' else '' end
            as detail
    from base
    inner join points_base on base.year = points_base.year
    left join guided_counts
        on base.year = guided_counts.year and base.unit_code = guided_counts.unit_code
),

all_indicators as (
    select * from i1
    union all
    select * from i2
    union all
    select * from i3
    union all
    select * from i4
    union all
    select * from i5
    union all
    select * from i6
    union all
    select * from i7_i8
    union all
    select * from i9
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit
        indicator,  -- I1..I9
        cast(computed_points as decimal(18, 2)) as computed_points,  -- points before adjustments
        needs_review,  -- a figure the centre should look at (I9 zero denominator)
        detail  -- how the points came about (Chinese)
    from all_indicators
)

select * from final
