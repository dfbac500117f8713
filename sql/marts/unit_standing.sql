-- Everything a person reads about a unit's standing, written once: its place and status, the
-- remark of the scoreboard (advanced, a tie at the quota line, the committee's decision), the
-- decision's reason, approver and date, every indicator the committee adjusted with its
-- reason, how the rank was decided when totals are equal (D10: I3, then the exact rate at the
-- last node), and what the unit's ledger row lacks. The console, the morning report, the
-- year-end files and what-if show these columns as they are. One row per year and unit.
-- grain: year, unit_code
with

scoreboard as (
    select * from marts.scoreboard
),

indicator_scores as (
    select * from marts.indicator_scores
),

year_standing as (
    select * from marts.year_standing
),

adjustments as (
    select * from intermediate.int_adjustments_in_effect
),

ledger as (
    select * from intermediate.int_ledger_completeness
),

evaluation_dates as (
    select * from intermediate.int_evaluation_dates
),

units as (
    select * from reference.units
),

unit_groups as (
    select * from reference.unit_groups
),

last_node as (
    select
        year,
        max(evaluation_date) as milestone_date
    from evaluation_dates
    where is_milestone
    group by year
),

decisions as (
    select *
    from adjustments
    where indicator = 'ADVANCED' and is_in_effect
),

adjusted as (
    select
        year,
        unit_code,
        string_agg(
            indicator || ' ' || indicator_name || '，' || adjustment_note, '。' order by indicator
        ) as adjustments_note
    from indicator_scores
    where adjusted
    group by year, unit_code
),

ordered as (
    select
        scoreboard.*,
        units.short_name,
        units.sort_order,
        unit_groups.group_name,
        unit_groups.sort_order as group_order,
        fmt_md(last_node.milestone_date) || '就业率' as rate_label,
        cast(scoreboard.final_employed as hugeint) as e,
        cast(greatest(scoreboard.final_graduates, 1) as hugeint) as g
    from scoreboard
    inner join units on scoreboard.unit_code = units.unit_code
    inner join unit_groups on scoreboard.unit_group = unit_groups.unit_group
    inner join last_node on scoreboard.year = last_node.year
),

neighbours as (
    select
        *,
        lag(short_name) over by_rank as prev_name,
        lag(total_points) over by_rank as prev_total,
        lag(i3_points) over by_rank as prev_i3,
        lag(final_employed) over by_rank as prev_employed,
        lag(final_graduates) over by_rank as prev_graduates,
        lag(e) over by_rank as prev_e,
        lag(g) over by_rank as prev_g,
        lead(short_name) over by_rank as next_name,
        lead(total_points) over by_rank as next_total,
        lead(i3_points) over by_rank as next_i3,
        lead(final_employed) over by_rank as next_employed,
        lead(final_graduates) over by_rank as next_graduates,
        lead(e) over by_rank as next_e,
        lead(g) over by_rank as next_g
    from ordered
    window by_rank as (partition by year, unit_group order by rank_in_group, sort_order)
),

rank_notes as (
    select
        *,
        case
            when prev_total is null or prev_total <> total_points then null
            when prev_i3 <> i3_points
                then
                    '与' || prev_name || '总分相同，按 I3 得分 ' || fmt_points(i3_points) || ' < '
                    || fmt_points(prev_i3) || ' 排在其后'
            when e * prev_g <> prev_e * g
                then
                    '与' || prev_name || '总分、I3 相同，按' || rate_label || ' '
                    || fmt_rate(final_employed, final_graduates) || '（' || final_employed || '/'
                    || final_graduates || '）< ' || fmt_rate(prev_employed, prev_graduates)
                    || '（' || prev_employed || '/' || prev_graduates || '）排在其后'
            else
                '与' || prev_name || '总分、I3、' || rate_label || '均相同，并列第'
                || rank_in_group || '名'
        end as after_note,
        case
            when next_total is null or next_total <> total_points then null
            when next_i3 <> i3_points
                then
                    '与' || next_name || '总分相同，按 I3 得分 ' || fmt_points(i3_points) || ' > '
                    || fmt_points(next_i3) || ' 排在其前'
            when e * next_g <> next_e * g
                then
                    '与' || next_name || '总分、I3 相同，按' || rate_label || ' '
                    || fmt_rate(final_employed, final_graduates) || '（' || final_employed || '/'
                    || final_graduates || '）> ' || fmt_rate(next_employed, next_graduates)
                    || '（' || next_employed || '/' || next_graduates || '）排在其前'
            else
                '与' || next_name || '总分、I3、' || rate_label || '均相同，并列第'
                || rank_in_group || '名'
        end as before_note
    from neighbours
),

final as (
    select
        rank_notes.year,  -- evaluation year
        rank_notes.unit_code,  -- unit code
        rank_notes.unit_name,  -- unit's full name
        rank_notes.short_name,  -- unit's short name (charts, notes)
        rank_notes.unit_group,  -- school / general / specialty
        rank_notes.group_name,  -- 院本部 / 附属综合性医院 / 附属专科医院
        rank_notes.group_order,  -- the groups' reading order (1..3)
        rank_notes.sort_order as unit_order,  -- the units' reading order within the school
        rank_notes.rank_in_group,  -- competition rank within the group (1, 1, 3)
        rank_notes.total_points,  -- total after adjustments
        rank_notes.quota,  -- advanced units the group may have
        rank_notes.is_advanced,  -- 先进单位
        rank_notes.tie_at_cutoff,  -- tied across the quota line (D10)
        rank_notes.tie_at_cutoff and not rank_notes.is_decided_by_committee as is_tie_pending,  -- the committee has still to decide
        rank_notes.is_decided_by_committee,  -- a 先进单位 decision of the committee applies
        rank_notes.status,  -- final / provisional (the year's, D11)
        year_standing.status_label,  -- 最终 / 暂定
        case
            when rank_notes.tie_at_cutoff and rank_notes.is_decided_by_committee and rank_notes.is_advanced
                then '先进单位（名额线并列，学指委决定）'
            when rank_notes.tie_at_cutoff and rank_notes.is_decided_by_committee
                then '名额线并列，学指委决定不评为先进单位'
            when rank_notes.tie_at_cutoff then '名额线并列，待学指委决定'
            when rank_notes.is_advanced then '先进单位'
        end as standing_label,  -- the scoreboard's remark, as every output shows it (null: none)
        decisions.reason as decision_reason,  -- the committee's reason for its 先进单位 decision
        decisions.approved_by as decision_approved_by,  -- its approver
        decisions.decided_date as decision_date,  -- its date
        case
            when decisions.unit_code is not null
                then
                    '学指委决定：' || case when decisions.advanced_decision then '评为' else '不评为' end
                    || '先进单位；理由：' || decisions.reason || '；审批人：' || decisions.approved_by
                    || '；日期：' || strftime(decisions.decided_date, '%Y-%m-%d')
        end as decision_note,  -- the decision in one sentence (null: none)
        rank_notes.has_adjustment,  -- some indicator adjusted by the committee
        adjusted.adjustments_note,  -- each adjusted indicator with its computed and adjusted points, reason, approver, date
        nullif(concat_ws('；', rank_notes.after_note, rank_notes.before_note), '') as rank_note,  -- how the rank was decided among equal totals (null: total unique in the group)
        rank_notes.final_employed,  -- employed at the last node (D10's last tie-breaker)
        rank_notes.final_graduates,  -- graduates at the last node
        case when rank_notes.status = 'provisional' then ledger.missing_note end as ledger_note  -- what the unit's ledger row lacks while provisional (null: complete)
    from rank_notes
    inner join year_standing on rank_notes.year = year_standing.year
    left join decisions
        on rank_notes.year = decisions.year and rank_notes.unit_code = decisions.unit_code
    left join adjusted
        on rank_notes.year = adjusted.year and rank_notes.unit_code = adjusted.unit_code
    left join ledger
        on rank_notes.year = ledger.year and rank_notes.unit_code = ledger.unit_code
)

select * from final
