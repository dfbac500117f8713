-- Every unit's points on each of the nine indicators, computed and after the committee's
-- adjustments (D12), with how they came about. One row per year, unit and indicator.
-- grain: year, unit_code, indicator
with

indicator_points as (
    select * from intermediate.int_indicator_points
),

rule_indicators as (
    select * from reference.rule_indicators
),

adjustments as (
    select * from intermediate.int_adjustments_in_effect
    where indicator <> 'ADVANCED' and is_in_effect
),

final as (
    select
        indicator_points.year,  -- evaluation year
        indicator_points.unit_code,  -- unit code
        indicator_points.indicator,  -- I1..I9
        rule_indicators.indicator_name,  -- indicator name (Chinese)
        rule_indicators.category,  -- kpi / development
        rule_indicators.base_points,  -- base points of the indicator
        indicator_points.computed_points,  -- points as computed from the data
        coalesce(adjustments.new_points, indicator_points.computed_points) as points,  -- after adjustments
        adjustments.new_points is not null as adjusted,  -- changed by the committee
        adjustments.reason as adjustment_reason,  -- 理由
        adjustments.approved_by as adjustment_approved_by,  -- 审批人
        adjustments.decided_date as adjustment_date,  -- 日期
        case
            when adjustments.new_points is not null
                then
                    '学指委调整：计算值 ' || fmt_points(indicator_points.computed_points)
                    || ' → 调整后 ' || fmt_points(adjustments.new_points)
                    || '；理由：' || adjustments.reason
                    || '；审批人：' || adjustments.approved_by
                    || '；日期：' || strftime(adjustments.decided_date, '%Y-%m-%d')
        end as adjustment_note,  -- the adjustment in one sentence (every output shows this)
        indicator_points.needs_review,  -- a figure to review (I9 zero denominator)
        indicator_points.detail  -- how the points came about (Chinese)
    from indicator_points
    inner join rule_indicators
        on
            indicator_points.year = rule_indicators.year
            and indicator_points.indicator = rule_indicators.indicator
    left join adjustments
        on
            indicator_points.year = adjustments.year
            and indicator_points.unit_code = adjustments.unit_code
            and indicator_points.indicator = adjustments.indicator
)

select * from final
