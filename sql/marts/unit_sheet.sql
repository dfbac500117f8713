-- Each unit's one-page sheet (written every night beside its follow-up list): its figures
-- against the next node summed over its degrees (the degrees' own rows are marts.progress),
-- the points that node would give and lose if nothing changed, its place among the units that
-- would lose points, its rank in its group so far (marts.scoreboard), the comparison with last
-- year at the same date (marts.season_curves), and the sheet's sentences in Chinese: what to do
-- today (today_note: verify the pending records, place the rest, the points that avoids), what
-- the next node would bring (outlook_note), the rank (rank_note) and last year (last_year_note).
-- The figures against the next node are null when no node lies ahead (after the year's last
-- node: today_note says so). One row per year and unit of the scoreboard.
-- grain: year, unit_code
with

progress as (
    select * from marts.progress
),

scoreboard as (
    select * from marts.scoreboard
),

season_curves as (
    select * from marts.season_curves
),

units as (
    select * from reference.units
),

unit_groups as (
    select * from reference.unit_groups
),

degrees as (
    select * from reference.degrees
),

rule_milestones as (
    select * from reference.rule_milestones
),

next_nodes as (
    select * from intermediate.int_next_nodes
),

unit_progress as (
    select
        year,
        unit_code,
        any_value(as_of_date) as latest_export_date,
        any_value(previous_export_date) as previous_export_date,
        any_value(week_ago_export_date) as week_ago_export_date,
        any_value(node_base_points) as node_base_points,
        any_value(unit_projected_node_points) as projected_node_points,
        any_value(behind_rank_in_group) as behind_rank_in_group,
        cast(sum(graduates) as bigint) as graduates,
        cast(sum(employed_now) as bigint) as employed,
        cast(sum(gap_persons) as bigint) as gap_persons,
        cast(sum(pending_verification) as bigint) as pending_verification,
        cast(sum(verification_closes) as bigint) as verification_closes,
        cast(sum(gap_after_verification) as bigint) as gap_after_verification,
        cast(sum(projected_bonus) as bigint) as projected_bonus,
        least(cast(any_value(node_base_points) as decimal(18, 2)), sum(projected_deduction))
            as points_at_risk,
        cast(sum(employed_change_previous) as bigint) as employed_change_previous,
        cast(sum(employed_change_week) as bigint) as employed_change_week
    from progress
    group by year, unit_code
),

at_risk as (
    select
        year,
        unit_code,
        rank() over (partition by year order by points_at_risk desc) as at_risk_rank,
        count(*) over (partition by year) as at_risk_units
    from unit_progress
    where points_at_risk > 0
),

last_nodes as (
    select
        year,
        max(milestone_date) as last_milestone
    from rule_milestones
    group by year
),

latest_exports as (
    select
        year,
        max(curve_date) as curve_date
    from season_curves
    where is_export
    group by year
),

latest_curves as (
    select
        season_curves.year,
        season_curves.unit_code,
        season_curves.degree,
        season_curves.curve_date,
        season_curves.last_year_export_date,
        season_curves.rate_change_last_year,
        season_curves.last_year_graduates,
        degrees.degree_name,
        degrees.sort_order
    from season_curves
    inner join latest_exports
        on season_curves.year = latest_exports.year and season_curves.curve_date = latest_exports.curve_date
    inner join degrees on season_curves.degree = degrees.degree
    where season_curves.graduates is not null
),

last_year as (
    select
        year,
        unit_code,
        max(last_year_export_date) as last_year_export_date,
        count(last_year_graduates) as last_year_degrees,
        string_agg(
            degree_name || ' '
            || case
                when last_year_graduates is null then '去年无该学历毕业生'
                else fmt_pp(rate_change_last_year) || ' 个百分点'
            end,
            '，' order by sort_order
        ) as degree_changes
    from latest_curves
    group by year, unit_code
),

group_sizes as (
    select
        year,
        unit_group,
        count(*) as group_units
    from scoreboard
    group by year, unit_group
),

joined as (
    select
        scoreboard.year,
        scoreboard.unit_code,
        scoreboard.unit_group,
        unit_groups.group_name,
        group_sizes.group_units,
        scoreboard.rank_in_group,
        scoreboard.quota,
        scoreboard.total_points,
        scoreboard.status,
        last_nodes.last_milestone,
        next_nodes.next_milestone,
        unit_progress.latest_export_date,
        unit_progress.previous_export_date,
        unit_progress.week_ago_export_date,
        unit_progress.node_base_points,
        unit_progress.projected_node_points,
        unit_progress.behind_rank_in_group,
        unit_progress.graduates,
        unit_progress.employed,
        unit_progress.gap_persons,
        unit_progress.pending_verification,
        unit_progress.verification_closes,
        unit_progress.gap_after_verification,
        unit_progress.projected_bonus,
        unit_progress.points_at_risk,
        unit_progress.employed_change_previous,
        unit_progress.employed_change_week,
        at_risk.at_risk_rank,
        at_risk.at_risk_units,
        last_year.last_year_export_date,
        last_year.last_year_degrees,
        last_year.degree_changes
    from scoreboard
    inner join units on scoreboard.unit_code = units.unit_code
    inner join unit_groups on scoreboard.unit_group = unit_groups.unit_group
    inner join group_sizes
        on scoreboard.year = group_sizes.year and scoreboard.unit_group = group_sizes.unit_group
    inner join last_nodes on scoreboard.year = last_nodes.year
    left join next_nodes on scoreboard.year = next_nodes.year
    left join unit_progress
        on scoreboard.year = unit_progress.year and scoreboard.unit_code = unit_progress.unit_code
    left join at_risk
        on scoreboard.year = at_risk.year and scoreboard.unit_code = at_risk.unit_code
    left join last_year
        on scoreboard.year = last_year.year and scoreboard.unit_code = last_year.unit_code
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit code (reference.units)
        unit_group,  -- school / general / specialty
        next_milestone,  -- the next node: the first on or after --as-of (null: the last one is past)
        latest_export_date,  -- the export the figures are measured on (null: no node ahead)
        previous_export_date,  -- the export before it (rate_changes)
        week_ago_export_date,  -- the export 7 to 10 days before it (null: none)
        graduates,  -- graduates of the unit, all degrees, in the latest export
        employed,  -- of whom employed (and verified)
        exact_ratio(employed, graduates) as employment_rate,  -- employed ÷ graduates, all degrees
        gap_persons,  -- still to place to meet the next node, summed over degrees (progress)
        pending_verification,  -- destination counts but not verified, summed over degrees
        verification_closes,  -- of the gap, what verification alone would close, summed
        gap_after_verification,  -- still to place once every pending record is verified, summed
        employed_change_previous,  -- employed change since the previous export, all degrees
        employed_change_week,  -- employed change since the week-ago export, all degrees (null: none)
        node_base_points,  -- the next node's base points (I3)
        projected_node_points,  -- the node's points if counted on the latest export (progress)
        projected_bonus,  -- of which bonus points, summed over degrees
        points_at_risk,  -- points the node would deduct if nothing changed: min(base, Σ deductions)
        at_risk_rank,  -- place among the year's units that would lose points (1 = most; null: none)
        at_risk_units,  -- how many of the year's units would lose points (null: this one would not)
        behind_rank_in_group,  -- 1 = furthest behind in its group (the morning report's order)
        rank_in_group,  -- rank in its group on the scoreboard so far (marts.scoreboard)
        group_units,  -- units in its group
        quota,  -- the group's advanced quota
        total_points,  -- total points so far (marts.scoreboard)
        status,  -- final / provisional (marts.scoreboard)
        last_year_export_date,  -- last year's export compared with (null: no last-year data)
        case
            when next_milestone is null
                then '本年度最后一个时间节点（' || fmt_md(last_milestone) || '）已过，进度跟踪结束。'
            when graduates is null then '最新导出中本单位没有本届毕业生。'
            when gap_persons > 0
                then
                    '今天：'
                    || concat_ws(
                        '，',
                        case when pending_verification > 0 then '督促鉴证 ' || pending_verification || ' 人' end,
                        case when gap_after_verification > 0 then '新落实 ' || gap_after_verification || ' 人' end,
                        case when points_at_risk > 0 then '可避免扣 ' || fmt_points(points_at_risk) || ' 分' end
                    )
                    || '。'
            when pending_verification > 0
                then
                    '今天：督促鉴证 ' || pending_verification || ' 人；各学历已达到'
                    || fmt_md(next_milestone) || '节点目标。'
            else '今天：各学历已达到' || fmt_md(next_milestone) || '节点目标，保持即可。'
        end as today_note,  -- what to do today, one sentence (the sheet's headline)
        case
            when next_milestone is null or graduates is null then null
            when points_at_risk > 0
                then
                    '若到' || fmt_md(next_milestone) || '情况不变，本单位将被扣 ' || fmt_points(points_at_risk)
                    || ' 分，节点得分 ' || fmt_points(projected_node_points) || '/' || node_base_points
                    || ' 分（全校 ' || at_risk_units || ' 个将被扣分的单位中，扣分第 ' || at_risk_rank || ' 多）。'
            else
                '若到' || fmt_md(next_milestone) || '情况不变，本单位不会被扣分，节点得分 '
                || fmt_points(projected_node_points) || '/' || node_base_points || ' 分。'
        end as outlook_note,  -- the next node if nothing changed (null: no node ahead)
        case when status = 'final' then '组内第 ' else '组内暂列第 ' end || rank_in_group || ' 名（'
        || group_name || '共 ' || group_units || ' 个单位，先进名额 ' || quota || '），总分 '
        || fmt_points(total_points) || ' 分'
        || case when status = 'final' then '。' else '（暂定）。' end as rank_note,  -- rank in the group so far
        case
            when coalesce(last_year_degrees, 0) = 0 then '没有去年同期的数据，无法与去年比较。'
            else
                '较去年同期（去年 ' || fmt_md(last_year_export_date) || '的导出）：' || degree_changes || '。'
        end as last_year_note  -- this season's rate per degree against last year at the same date
    from joined
)

select * from final
