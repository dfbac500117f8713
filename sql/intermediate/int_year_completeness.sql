-- What keeps a year's figures open, apart from ties (D11): evaluation dates not yet covered by
-- an export (a forecast from the latest export) or counted on a later export (reconstructed),
-- and units whose ledger row is incomplete, each with a Chinese sentence. The scoreboard's
-- status and the standing's reasons both read it.
-- grain: year
with

evaluation_dates as (
    select * from intermediate.int_evaluation_dates
),

ledger as (
    select * from intermediate.int_ledger_completeness
),

units as (
    select * from reference.units
),

labelled_dates as (
    select
        *,
        fmt_md(evaluation_date)
        || case when is_milestone then '节点' else '（引导单位就业统计日）' end as date_label
    from evaluation_dates
),

open_dates as (
    select
        year,
        bool_or(is_provisional or is_reconstructed) as has_open_date,
        nullif(
            concat_ws(
                '；',
                string_agg(date_label, '、' order by evaluation_date) filter (where is_provisional)
                || '晚于最新导出（' || strftime(max(latest_export_date), '%Y-%m-%d')
                || '），按最新导出预估',
                string_agg(date_label, '、' order by evaluation_date)
                filter (where is_reconstructed and not is_provisional)
                || '之前没有导出，按其后最早的导出推算'
            ),
            ''
        ) as open_dates_note
    from labelled_dates
    group by year
),

ledger_status as (
    select
        ledger.year,
        count(*) as unit_count,
        count(*) filter (where ledger.is_complete) as complete_units,
        string_agg(units.short_name, '、' order by units.sort_order)
        filter (where not ledger.is_complete) as incomplete_units
    from ledger
    inner join units on ledger.unit_code = units.unit_code
    group by ledger.year
),

final as (
    select
        open_dates.year,  -- evaluation year
        open_dates.has_open_date,  -- a node or the I9 date is forecast or reconstructed
        open_dates.open_dates_note,  -- which dates and why (Chinese; null when none)
        ledger_status.complete_units = ledger_status.unit_count as is_ledger_complete,  -- every unit's ledger row complete
        ledger_status.unit_count - ledger_status.complete_units as incomplete_ledger_units,  -- units with an incomplete ledger row
        case
            when ledger_status.complete_units < ledger_status.unit_count
                then
                    '材料登记表未填全：'
                    || (ledger_status.unit_count - ledger_status.complete_units)
                    || ' 个单位（' || ledger_status.incomplete_units || '）'
        end as ledger_note  -- the incomplete units (Chinese; null when complete)
    from open_dates
    inner join ledger_status on open_dates.year = ledger_status.year
)

select * from final
