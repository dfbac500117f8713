-- I9 counts (D6) per unit on the guided date (1 Dec): the denominator chosen by the knob and
-- the graduates of it placed with guided employers.
-- grain: year, unit_code
with

status as (
    select * from intermediate.int_status_at_dates
),

evaluation_dates as (
    select * from intermediate.int_evaluation_dates
),

rule_years as (
    select * from reference.rule_years
),

guided_date as (
    select * from evaluation_dates
    where not is_milestone
),

counts as (
    select
        status.year,
        status.unit_code,
        count(*) as graduates,
        count(*) filter (where status.is_employed_in_job) as employed_in_job,
        count(*) filter (where status.is_guided) as guided
    from status
    inner join guided_date
        on status.year = guided_date.year and status.evaluation_date = guided_date.evaluation_date
    group by status.year, status.unit_code
),

final as (
    select
        counts.year,  -- evaluation year
        counts.unit_code,  -- unit
        guided_date.evaluation_date as guided_date,  -- 1 Dec
        case rule_years.guided_denominator
            when 'all_graduates' then counts.graduates
            else counts.employed_in_job
        end as denominator,  -- knob guided_denominator
        counts.guided,  -- placed with guided employers (a subset of the denominator)
        rule_years.i9_target_bp,  -- 50 % as basis points
        rule_years.i9_step_bp,  -- 1 pp per point
        rule_years.deduction_rounding,  -- rounding knob
        guided_date.snapshot_date,  -- export counted on
        guided_date.is_reconstructed,  -- counted on a later export
        guided_date.is_provisional  -- after the latest export
    from counts
    inner join guided_date on counts.year = guided_date.year
    inner join rule_years on counts.year = rule_years.year
)

select * from final
