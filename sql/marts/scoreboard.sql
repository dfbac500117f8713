-- The ranking: each unit's total, its rank within its group (D10), the quota, the advanced
-- units and ties at the cutoff, and whether the year's figures are final (D11).
-- One row per year and unit.
-- grain: year, unit_code
with

indicator_scores as (
    select * from marts.indicator_scores
),

units as (
    select * from reference.units
),

rule_quotas as (
    select * from reference.rule_quotas
),

final_counts as (
    select * from intermediate.int_unit_final_counts
),

year_completeness as (
    select * from intermediate.int_year_completeness
),

decisions as (
    select * from intermediate.int_adjustments_in_effect
    where indicator = 'ADVANCED' and is_in_effect
),

totals as (
    select
        year,
        unit_code,
        sum(points) as total_points,
        sum(points) filter (where indicator = 'I3') as i3_points,
        bool_or(adjusted) as has_adjustment
    from indicator_scores
    group by year, unit_code
),

ranked as (
    select
        totals.*,
        units.unit_name,
        units.unit_group,
        units.sort_order,
        rule_quotas.quota,
        final_counts.employed as final_employed,
        final_counts.graduates as final_graduates,
        rank() over (
            partition by totals.year, units.unit_group
            order by
                totals.total_points desc,
                totals.i3_points desc,
                -- exact rate order: floor(E·10^30 / N) is equal for equal fractions and
                -- distinct for distinct ones (N is far below 10^15)
                cast(final_counts.employed as hugeint)
                * cast('1000000000000000000000000000000' as hugeint)
                // greatest(final_counts.graduates, 1) desc
        ) as rank_in_group
    from totals
    inner join units on totals.unit_code = units.unit_code
    inner join rule_quotas
        on totals.year = rule_quotas.year and units.unit_group = rule_quotas.unit_group
    left join final_counts
        on totals.year = final_counts.year and totals.unit_code = final_counts.unit_code
),

tie_sizes as (
    select
        *,
        count(*) over (partition by year, unit_group, rank_in_group) as tied_units
    from ranked
),

cutoff as (
    select
        tie_sizes.*,
        tie_sizes.rank_in_group <= tie_sizes.quota
        and tie_sizes.rank_in_group + tie_sizes.tied_units - 1 > tie_sizes.quota as tie_at_cutoff,
        tie_sizes.rank_in_group + tie_sizes.tied_units - 1 <= tie_sizes.quota as is_advanced_computed,
        decisions.advanced_decision
    from tie_sizes
    left join decisions
        on tie_sizes.year = decisions.year and tie_sizes.unit_code = decisions.unit_code
),

tie_status as (
    select
        year,
        bool_or(tie_at_cutoff and advanced_decision is null) as has_undecided_tie
    from cutoff
    group by year
),

final as (
    select
        cutoff.year,  -- evaluation year
        cutoff.unit_code,  -- unit code
        cutoff.unit_name,  -- unit's full name
        cutoff.unit_group,  -- school / general / specialty
        cutoff.total_points,  -- sum of the nine indicators' points (after adjustments)
        cutoff.i3_points,  -- I3 points, the first tie-breaker
        cutoff.rank_in_group,  -- competition rank within the group (1, 1, 3)
        cutoff.quota,  -- advanced units the group may have
        case
            when cutoff.tie_at_cutoff and cutoff.advanced_decision is not null
                then cutoff.advanced_decision
            else cutoff.is_advanced_computed
        end as is_advanced,  -- 先进单位 (a tie at the cutoff only by committee decision)
        cutoff.tie_at_cutoff,  -- tied across the quota line: the committee decides (D10)
        cutoff.advanced_decision is not null as is_decided_by_committee,  -- 先进单位 adjustment
        cutoff.has_adjustment,  -- some indicator adjusted by the committee
        coalesce(cutoff.final_employed, 0) as final_employed,  -- employed at the last node, all degrees (D10's last tie-breaker)
        coalesce(cutoff.final_graduates, 0) as final_graduates,  -- graduates at the last node, all degrees
        case
            when
                year_completeness.has_open_date
                or not year_completeness.is_ledger_complete
                or tie_status.has_undecided_tie
                then 'provisional'
            else 'final'
        end as status  -- final only when every condition of D11 holds
    from cutoff
    inner join year_completeness on cutoff.year = year_completeness.year
    inner join tie_status on cutoff.year = tie_status.year
)

select * from final
