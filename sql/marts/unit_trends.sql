-- Several years side by side: each unit's total, rank and advanced flag, its nine indicators'
-- points (after adjustments) and its overall employment rate at each node, one row per year
-- the file holds, each year scored under its own rules. For trend charts across years (the
-- total and the 15 Dec rate by year). Nodes are numbered by date within the year (a year with
-- more than three nodes shows its first three as node1..node3; final_rate is always its last).
-- grain: year, unit_code
with

scoreboard as (
    select * from marts.scoreboard
),

indicator_scores as (
    select * from marts.indicator_scores
),

node_results as (
    select * from intermediate.int_node_results
),

final_counts as (
    select * from intermediate.int_unit_final_counts
),

rule_milestones as (
    select * from reference.rule_milestones
),

indicator_points as (
    select
        year,
        unit_code,
        max(points) filter (where indicator = 'I1') as i1_points,
        max(points) filter (where indicator = 'I2') as i2_points,
        max(points) filter (where indicator = 'I3') as i3_points,
        max(points) filter (where indicator = 'I4') as i4_points,
        max(points) filter (where indicator = 'I5') as i5_points,
        max(points) filter (where indicator = 'I6') as i6_points,
        max(points) filter (where indicator = 'I7') as i7_points,
        max(points) filter (where indicator = 'I8') as i8_points,
        max(points) filter (where indicator = 'I9') as i9_points
    from indicator_scores
    group by year, unit_code
),

node_counts as (
    select
        node_results.year,
        node_results.unit_code,
        rule_milestones.milestone_seq,
        node_results.milestone_date,
        sum(node_results.graduates) as graduates,
        sum(node_results.employed) as employed
    from node_results
    inner join rule_milestones
        on
            node_results.year = rule_milestones.year
            and node_results.milestone_date = rule_milestones.milestone_date
    group by
        node_results.year, node_results.unit_code, rule_milestones.milestone_seq,
        node_results.milestone_date
),

node_rates as (
    select
        year,
        unit_code,
        max(milestone_date) filter (where milestone_seq = 1) as node1_date,
        max(exact_ratio(employed, graduates)) filter (where milestone_seq = 1) as node1_rate,
        max(milestone_date) filter (where milestone_seq = 2) as node2_date,
        max(exact_ratio(employed, graduates)) filter (where milestone_seq = 2) as node2_rate,
        max(milestone_date) filter (where milestone_seq = 3) as node3_date,
        max(exact_ratio(employed, graduates)) filter (where milestone_seq = 3) as node3_rate
    from node_counts
    group by year, unit_code
),

final as (
    select
        scoreboard.year,  -- evaluation year (the graduating cohort)
        scoreboard.unit_code,  -- unit code
        scoreboard.unit_group,  -- school / general / specialty
        scoreboard.total_points,  -- total points after adjustments (that year's rules)
        scoreboard.rank_in_group,  -- competition rank within the group that year
        scoreboard.is_advanced,  -- 先进单位 that year
        scoreboard.status,  -- final / provisional (D11): the current year is provisional in season
        indicator_points.i1_points,  -- I1 points (after adjustments)
        indicator_points.i2_points,  -- I2 points
        indicator_points.i3_points,  -- I3 points
        indicator_points.i4_points,  -- I4 points
        indicator_points.i5_points,  -- I5 points
        indicator_points.i6_points,  -- I6 points
        indicator_points.i7_points,  -- I7 points
        indicator_points.i8_points,  -- I8 points
        indicator_points.i9_points,  -- I9 points
        final_counts.graduates,  -- cohort across degrees at the last node
        node_rates.node1_date,  -- first node of the year (15 Jun)
        node_rates.node1_rate,  -- unit's rate at the first node, all degrees, employed ÷ graduates
        node_rates.node2_date,  -- second node (15 Aug)
        node_rates.node2_rate,  -- unit's rate at the second node
        node_rates.node3_date,  -- third node (15 Dec)
        node_rates.node3_rate,  -- unit's rate at the third node
        final_counts.milestone_date as final_date,  -- the year's last node (15 Dec)
        exact_ratio(final_counts.employed, final_counts.graduates) as final_rate  -- rate at the last node
    from scoreboard
    inner join indicator_points
        on scoreboard.year = indicator_points.year and scoreboard.unit_code = indicator_points.unit_code
    left join node_rates
        on scoreboard.year = node_rates.year and scoreboard.unit_code = node_rates.unit_code
    left join final_counts
        on scoreboard.year = final_counts.year and scoreboard.unit_code = final_counts.unit_code
)

select * from final
