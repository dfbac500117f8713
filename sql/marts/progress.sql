-- In season: how far each unit and degree is from its next node, on the latest export of the
-- run: the rate now, the graduates still to place (⌈t·N⌉ − E), the verification backlog (see
-- marts.verification_backlog), the change since the previous export and since a week before
-- (see marts.rate_changes), the node's points if it were counted on the latest export, and the
-- unit's place in its group's "furthest behind" order (the morning report's order). Rows exist
-- only while a node lies ahead: the next node is the first node on or after --as-of (a node on
-- the as-of date itself is still the next one); after the year's last node the table has no
-- row for that year (the node results are in marts.milestone_rates). One row per year, unit
-- and degree.
-- grain: year, unit_code, degree
with

rate_changes as (
    select * from marts.rate_changes
),

verification_backlog as (
    select * from marts.verification_backlog
),

milestone_rates as (
    select * from marts.milestone_rates
),

rule_targets as (
    select * from reference.rule_targets
),

rule_milestones as (
    select * from reference.rule_milestones
),

units as (
    select * from reference.units
),

next_node as (
    select * from intermediate.int_next_nodes
),

latest as (
    select
        year,
        max(as_of_date) as as_of_date
    from rate_changes
    group by year
),

current_rates as (
    select rate_changes.*
    from rate_changes
    inner join latest
        on rate_changes.year = latest.year and rate_changes.as_of_date = latest.as_of_date
),

against_node as (
    select
        current_rates.*,
        next_node.next_milestone,
        rule_targets.target_bp,
        rule_milestones.base_points as node_base_points,
        units.unit_group,
        verification_backlog.pending_verification,
        milestone_rates.bonus as projected_bonus,
        milestone_rates.deduction as projected_deduction,
        (cast(rule_targets.target_bp as bigint) * current_rates.graduates + 9999) // 10000
            as required_employed
    from current_rates
    inner join next_node on current_rates.year = next_node.year
    inner join rule_targets
        on
            current_rates.year = rule_targets.year
            and next_node.next_milestone = rule_targets.milestone_date
            and current_rates.degree = rule_targets.degree
    inner join rule_milestones
        on
            current_rates.year = rule_milestones.year
            and next_node.next_milestone = rule_milestones.milestone_date
    inner join units on current_rates.unit_code = units.unit_code
    inner join verification_backlog
        on
            current_rates.year = verification_backlog.year
            and current_rates.unit_code = verification_backlog.unit_code
            and current_rates.degree = verification_backlog.degree
            and current_rates.as_of_date = verification_backlog.as_of_date
    inner join milestone_rates
        on
            current_rates.year = milestone_rates.year
            and current_rates.unit_code = milestone_rates.unit_code
            and current_rates.degree = milestone_rates.degree
            and next_node.next_milestone = milestone_rates.milestone_date
),

gaps as (
    select
        *,
        greatest(0, required_employed - employed) as gap_persons
    from against_node
),

unit_totals as (
    select
        *,
        cast(sum(gap_persons) over unit_window as bigint) as unit_gap_persons,
        cast(sum(pending_verification) over unit_window as bigint) as unit_pending_verification,
        greatest(
            cast(0 as decimal(18, 2)), node_base_points - sum(projected_deduction) over unit_window
        ) + sum(projected_bonus) over unit_window as unit_projected_node_points
    from gaps
    window unit_window as (partition by year, unit_code)
),

unit_rows as (
    select distinct
        year,
        unit_code,
        unit_group,
        unit_gap_persons,
        unit_projected_node_points
    from unit_totals
),

unit_ranks as (
    select
        year,
        unit_code,
        rank() over (
            partition by year, unit_group
            order by unit_gap_persons desc, unit_projected_node_points asc
        ) as behind_rank_in_group
    from unit_rows
),

ranked as (
    select
        unit_totals.*,
        unit_ranks.behind_rank_in_group
    from unit_totals
    inner join unit_ranks
        on unit_totals.year = unit_ranks.year and unit_totals.unit_code = unit_ranks.unit_code
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit code (reference.units)
        degree,  -- bachelor / master / doctor
        next_milestone,  -- the next node date (first node on or after --as-of)
        cast(cast(target_bp as decimal(9, 0)) * 0.0001 as decimal(7, 4))
            as target_rate,  -- its target
        graduates,  -- graduates in the latest export
        employed as employed_now,  -- employed (and verified) as of the latest export
        required_employed,  -- needed at the node, ⌈t·N⌉ (integers)
        gap_persons,  -- graduates still to place: max(0, ⌈t·N⌉ − E)
        as_of_date,  -- the export this is measured on (the run's latest)
        employment_rate,  -- employed_now ÷ graduates
        pending_verification,  -- destination counts but not yet verified (verification_backlog)
        least(gap_persons, pending_verification)
            as verification_closes,  -- of the gap, what verifying the pending records alone would close
        greatest(0, gap_persons - pending_verification)
            as gap_after_verification,  -- still to place if every pending record were verified
        projected_bonus,  -- node bonus if counted on the latest export (milestone_rates)
        projected_deduction,  -- node deduction if counted on the latest export (milestone_rates)
        case
            when projected_deduction > node_base_points
                then
                    '扣满 ' || node_base_points || ' 分（差 ' || fmt_points(projected_deduction)
                    || ' 分）'
            when projected_deduction > 0 then '扣 ' || fmt_points(projected_deduction) || ' 分'
            when projected_bonus > 0 then '加 ' || projected_bonus || ' 分'
            else '—'
        end as projected_label,  -- the degree's projected points as shown (a deduction beyond the node's base: 扣满)
        unit_group,  -- school / general / specialty
        node_base_points,  -- the node's base points (I3)
        unit_gap_persons,  -- the unit's gap_persons summed over its degrees
        unit_pending_verification,  -- the unit's pending_verification summed over its degrees
        unit_projected_node_points,  -- max(0, base − Σ deductions) + Σ bonuses, latest export
        behind_rank_in_group,  -- 1 = furthest behind: unit gap desc, then projected points asc
        previous_export_date,  -- the export before the latest (rate_changes)
        employed_change_previous,  -- employed change since the previous export
        rate_change_previous,  -- rate change (fraction) since the previous export
        week_ago_export_date,  -- latest export dated 7 to 10 days before the latest one (null: none)
        employed_change_week,  -- employed change since that export
        rate_change_week  -- rate change (fraction) since that export
    from ranked
)

select * from final
