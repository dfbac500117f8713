-- The next I3 node of each year on the run's as-of date: the first node on or after --as-of (a
-- node on the as-of date itself is still ahead). A year whose last node is past has no row.
-- grain: year
with

rule_milestones as (
    select * from reference.rule_milestones
),

run_context as (
    select * from meta.run_context
),

final as (
    select
        rule_milestones.year,  -- evaluation year
        min(rule_milestones.milestone_date) as next_milestone  -- the next node
    from rule_milestones
    cross join run_context
    where rule_milestones.milestone_date >= run_context.as_of_date
    group by rule_milestones.year
)

select * from final
