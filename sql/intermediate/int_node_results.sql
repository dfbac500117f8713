-- I3 arithmetic per unit, degree and node (D3), exact: required count, bonus, deduction.
-- grain: year, unit_code, degree, milestone_date
with

status as (
    select * from intermediate.int_status_at_dates
),

evaluation_dates as (
    select * from intermediate.int_evaluation_dates
),

rule_targets as (
    select * from reference.rule_targets
),

rule_years as (
    select * from reference.rule_years
),

counts as (
    select
        year,
        evaluation_date,
        unit_code,
        degree,
        count(*) as graduates,
        count(*) filter (where is_employed) as employed
    from status
    group by year, evaluation_date, unit_code, degree
),

with_targets as (
    select
        counts.*,
        evaluation_dates.base_points,
        evaluation_dates.snapshot_date,
        evaluation_dates.is_reconstructed,
        evaluation_dates.is_provisional,
        rule_targets.target_bp,
        rule_years.i3_step_bp,
        rule_years.i3_bonus_per_person,
        rule_years.deduction_rounding,
        (cast(rule_targets.target_bp as bigint) * counts.graduates + 9999) // 10000
            as required_employed
    from counts
    inner join evaluation_dates
        on
            counts.year = evaluation_dates.year
            and counts.evaluation_date = evaluation_dates.evaluation_date
    inner join rule_targets
        on
            counts.year = rule_targets.year
            and counts.evaluation_date = rule_targets.milestone_date
            and counts.degree = rule_targets.degree
    inner join rule_years on counts.year = rule_years.year
    where evaluation_dates.is_milestone
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit
        degree,  -- degree
        evaluation_date as milestone_date,  -- node
        base_points,  -- node base points
        graduates,  -- N in the node's snapshot
        employed,  -- E employed on the node date
        target_bp,  -- target, basis points of a percent
        required_employed,  -- R = ceil(t·N/100)
        employed >= required_employed as is_met,  -- E >= R
        case
            when employed >= required_employed
                then (employed - required_employed) * i3_bonus_per_person
            else 0
        end as bonus,  -- points above the target, one per person
        case
            when employed >= required_employed then cast(0 as decimal(18, 2))
            else exact_deduction(
                cast(target_bp as bigint) * graduates - 10000 * cast(employed as bigint),
                cast(i3_step_bp as bigint) * graduates,
                deduction_rounding
            )
        end as deduction,  -- points short: one per 0.5 pp, rounding knob
        case
            when employed >= required_employed then 0
            else
                (
                    2 * (cast(target_bp as bigint) * graduates - 10000 * cast(employed as bigint))
                    + graduates
                )
                // (2 * graduates)
        end as shortfall_bp,  -- how far below target, basis points (rounded, display only)
        snapshot_date,  -- export counted on
        is_reconstructed,  -- counted on a later export (D2)
        is_provisional  -- node after the latest export (D11)
    from with_targets
)

select * from final
