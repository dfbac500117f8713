-- What every output says of a year's scoreboard as a whole: final or provisional and, when
-- provisional, exactly why (D11: the dates not yet covered by an export, the units whose
-- ledger row is incomplete, the groups with a tie at the quota line still to be decided), and
-- how many of the committee's adjustments and decisions are dated after --as-of and so left
-- out that night. The console, the morning report, the year-end files and what-if read it.
-- One row per year.
-- grain: year
with

scoreboard as (
    select * from marts.scoreboard
),

year_completeness as (
    select * from intermediate.int_year_completeness
),

evaluation_dates as (
    select * from intermediate.int_evaluation_dates
),

adjustments as (
    select * from intermediate.int_adjustments_in_effect
),

units as (
    select * from reference.units
),

unit_groups as (
    select * from reference.unit_groups
),

run_context as (
    select * from meta.run_context
),

year_status as (
    select
        year,
        case when bool_and(status = 'final') then 'final' else 'provisional' end as status
    from scoreboard
    group by year
),

pending_by_group as (
    select
        scoreboard.year,
        scoreboard.unit_group,
        string_agg(units.short_name, '、' order by scoreboard.rank_in_group, units.sort_order)
            as tied_units
    from scoreboard
    inner join units on scoreboard.unit_code = units.unit_code
    where scoreboard.tie_at_cutoff and not scoreboard.is_decided_by_committee
    group by scoreboard.year, scoreboard.unit_group
),

pending_ties as (
    select
        pending_by_group.year,
        string_agg(
            unit_groups.group_name || '名额线并列（' || pending_by_group.tied_units
            || '），待学指委决定',
            '；' order by unit_groups.sort_order
        ) as pending_note
    from pending_by_group
    inner join unit_groups on pending_by_group.unit_group = unit_groups.unit_group
    group by pending_by_group.year
),

later as (
    select
        year,
        count(*) as later_decisions
    from adjustments
    where not is_in_effect
    group by year
),

exports as (
    select
        year,
        max(latest_export_date) as latest_export_date
    from evaluation_dates
    group by year
),

final as (
    select
        year_status.year,  -- evaluation year
        year_status.status,  -- final / provisional (D11)
        case year_status.status when 'final' then '最终' else '暂定' end as status_label,  -- 最终 / 暂定
        run_context.as_of_date,  -- the night the figures describe (--as-of)
        exports.latest_export_date,  -- the latest export of the year used that night
        year_completeness.has_open_date,  -- a node or the I9 date is forecast or reconstructed
        year_completeness.is_ledger_complete,  -- every unit's ledger row complete
        pending_ties.pending_note is not null as has_undecided_tie,  -- a tie at a quota line awaits the committee
        case
            when year_status.status = 'provisional'
                then
                    concat_ws(
                        '；',
                        year_completeness.open_dates_note,
                        year_completeness.ledger_note,
                        pending_ties.pending_note
                    )
        end as provisional_reasons,  -- why the figures are provisional, only the reasons that apply (null when final)
        coalesce(later.later_decisions, 0) as later_decisions,  -- committee adjustments and decisions dated after --as-of, not applied
        case
            when later.later_decisions > 0
                then
                    '另有 ' || later.later_decisions || ' 项学指委调整或决定的日期晚于评估日期 '
                    || strftime(run_context.as_of_date, '%Y-%m-%d') || '，本次评估未采用'
        end as later_decisions_note  -- the same in one Chinese sentence (null when none)
    from year_status
    inner join year_completeness on year_status.year = year_completeness.year
    inner join exports on year_status.year = exports.year
    cross join run_context
    left join pending_ties on year_status.year = pending_ties.year
    left join later on year_status.year = later.year
)

select * from final
