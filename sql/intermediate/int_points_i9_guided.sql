-- I9 (就业引导单位) per unit: full points when the share placed with guided employers on the
-- guided date (1 Dec, int_guided_counts) reaches the target, else one point off per step
-- short, with the rounding knob (D6); a zero denominator scores in full and needs review.
-- grain: year, unit_code, indicator
with

units as (
    select * from reference.units
),

rule_indicators as (
    select * from reference.rule_indicators
),

evaluation_years as (
    select distinct year from intermediate.int_evaluation_dates
),

guided_counts as (
    select * from intermediate.int_guided_counts
),

unit_years as (
    select
        evaluation_years.year,
        units.unit_code
    from evaluation_years
    cross join units
),

points_base as (
    select
        year,
        base_points as i9_base
    from rule_indicators
    where indicator = 'I9'
),

i9 as (
    select
        unit_years.year,
        unit_years.unit_code,
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
    from unit_years
    inner join points_base on unit_years.year = points_base.year
    left join guided_counts
        on unit_years.year = guided_counts.year and unit_years.unit_code = guided_counts.unit_code
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit
        indicator,  -- I9
        cast(computed_points as decimal(18, 2)) as computed_points,  -- base points less the deduction
        needs_review,  -- zero denominator: scored in full, to be reviewed
        detail  -- guided ÷ denominator against the target, and the deduction
    from i9
)

select * from final
