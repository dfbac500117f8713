-- I9: the share of graduates placed with guided employers on 1 December (D6).
-- One row per year and unit.
-- grain: year, unit_code
with

guided_counts as (
    select * from intermediate.int_guided_counts
),

indicator_points as (
    select * from intermediate.int_indicator_points
    where indicator = 'I9'
),

final as (
    select
        guided_counts.year,  -- evaluation year
        guided_counts.unit_code,  -- unit code
        guided_counts.denominator,  -- graduates employed in a job (knob: or all graduates)
        guided_counts.guided,  -- of whom placed with guided employers
        exact_ratio(guided_counts.guided, guided_counts.denominator) as ratio,  -- guided ÷ denominator
        indicator_points.computed_points as points,  -- I9 points before adjustments
        indicator_points.needs_review,  -- zero denominator: scored in full, to be reviewed
        guided_counts.snapshot_date,  -- as-of date of the export counted
        guided_counts.is_reconstructed as reconstructed,  -- counted on a later export
        case when guided_counts.is_provisional then 'provisional' else 'final' end as status  -- D11
    from guided_counts
    inner join indicator_points
        on
            guided_counts.year = indicator_points.year
            and guided_counts.unit_code = indicator_points.unit_code
)

select * from final
