-- In season: how far each unit and degree is from its next node, on the latest export of the
-- run. One row per year, unit and degree while a node lies ahead of --as-of.
-- grain: year, unit_code, degree
with

rate_history as (
    select * from marts.rate_history
),

rule_targets as (
    select * from reference.rule_targets
),

run_context as (
    select * from meta.run_context
),

next_node as (
    select
        rule_targets.year,
        min(rule_targets.milestone_date) as next_milestone
    from rule_targets
    cross join run_context
    where rule_targets.milestone_date >= run_context.as_of_date
    group by rule_targets.year
),

latest as (
    select
        year,
        max(as_of_date) as as_of_date
    from rate_history
    group by year
),

current_rates as (
    select rate_history.*
    from rate_history
    inner join latest
        on rate_history.year = latest.year and rate_history.as_of_date = latest.as_of_date
),

final as (
    select
        current_rates.year,  -- evaluation year
        current_rates.unit_code,  -- unit code
        current_rates.degree,  -- bachelor / master / doctor
        next_node.next_milestone,  -- the next node date
        cast(cast(rule_targets.target_bp as decimal(9, 0)) * 0.0001 as decimal(7, 4))
            as target_rate,  -- its target
        current_rates.graduates,  -- graduates in the latest export
        current_rates.employed as employed_now,  -- employed as of the latest export
        (cast(rule_targets.target_bp as bigint) * current_rates.graduates + 9999) // 10000
            as required_employed,  -- needed at the node, ⌈t·N⌉
        greatest(
            0,
            (cast(rule_targets.target_bp as bigint) * current_rates.graduates + 9999) // 10000
            - current_rates.employed
        ) as gap_persons,  -- graduates still to place
        current_rates.as_of_date  -- the export this is measured on
    from current_rates
    inner join next_node on current_rates.year = next_node.year
    inner join rule_targets
        on
            current_rates.year = rule_targets.year
            and next_node.next_milestone = rule_targets.milestone_date
            and current_rates.degree = rule_targets.degree
)

select * from final
