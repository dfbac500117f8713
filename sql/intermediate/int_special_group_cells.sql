-- I6 cells (D4) at the last node: members of each special group (roster + 民族) by unit and
-- degree, or, with special_group_scope = pooled_by_degree, all groups pooled per degree.
-- grain: year, unit_code, special_group, degree
with

status as (
    select * from intermediate.int_status_at_dates
),

evaluation_dates as (
    select * from intermediate.int_evaluation_dates
),

roster as (
    select * from staging.stg_special_groups
),

rule_years as (
    select * from reference.rule_years
),

rule_targets as (
    select * from reference.rule_targets
),

last_node as (
    select
        year,
        max(evaluation_date) as milestone_date
    from evaluation_dates
    where is_milestone
    group by year
),

at_last_node as (
    select status.*
    from status
    inner join last_node
        on status.year = last_node.year and status.evaluation_date = last_node.milestone_date
),

memberships as (
    select
        at_last_node.year,
        at_last_node.student_id,
        at_last_node.unit_code,
        at_last_node.degree,
        at_last_node.is_employed,
        roster.special_group
    from at_last_node
    inner join roster
        on at_last_node.year = roster.graduation_year and at_last_node.student_id = roster.student_id
    union all
    select
        year,
        student_id,
        unit_code,
        degree,
        is_employed,
        'ethnic_minority' as special_group
    from at_last_node
    where is_ethnic_minority
),

scoped as (
    select distinct
        memberships.year,
        memberships.student_id,
        memberships.unit_code,
        memberships.degree,
        memberships.is_employed,
        case
            when rule_years.special_group_scope = 'pooled_by_degree' then 'pooled'
            else memberships.special_group
        end as special_group
    from memberships
    inner join rule_years on memberships.year = rule_years.year
),

counts as (
    select
        year,
        unit_code,
        special_group,
        degree,
        count(*) as graduates,
        count(*) filter (where is_employed) as employed
    from scoped
    group by year, unit_code, special_group, degree
),

final as (
    select
        counts.year,  -- evaluation year
        counts.unit_code,  -- unit
        counts.special_group,  -- economic_hardship / academic_difficulty / ethnic_minority / pooled
        counts.degree,  -- degree
        last_node.milestone_date,  -- the last node (15 Dec)
        counts.graduates,  -- members in the unit and degree
        counts.employed,  -- of whom employed on the last node
        rule_targets.target_bp,  -- that degree's last-node target
        10000 * cast(counts.employed as bigint)
        >= cast(rule_targets.target_bp as bigint) * counts.graduates as meets_target  -- rate >= target
    from counts
    inner join last_node on counts.year = last_node.year
    inner join rule_targets
        on
            counts.year = rule_targets.year
            and last_node.milestone_date = rule_targets.milestone_date
            and counts.degree = rule_targets.degree
)

select * from final
