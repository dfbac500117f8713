-- The season as the morning report heads it: if nothing changes by the next node, which units
-- lose points and how many (marts.unit_sheet's points_at_risk), as one ranked line in Chinese
-- (most first; equal points in the units' reference order), and the whole school's rate per
-- degree against last year at the same date (marts.season_curves, unit_code 'all'). The node
-- columns are null when no node lies ahead. One row per year of the scoreboard.
-- grain: year
with

unit_sheet as (
    select * from marts.unit_sheet
),

season_curves as (
    select * from marts.season_curves
),

units as (
    select * from reference.units
),

degrees as (
    select * from reference.degrees
),

years as (
    select
        year,
        max(next_milestone) as next_milestone
    from unit_sheet
    group by year
),

at_risk as (
    select
        unit_sheet.year,
        count(*) as at_risk_units,
        sum(unit_sheet.points_at_risk) as at_risk_points,
        string_agg(
            units.short_name || ' ' || fmt_points(unit_sheet.points_at_risk) || ' 分',
            '、' order by unit_sheet.points_at_risk desc, units.sort_order asc
        ) as ranked_units
    from unit_sheet
    inner join units on unit_sheet.unit_code = units.unit_code
    where unit_sheet.points_at_risk > 0
    group by unit_sheet.year
),

latest_exports as (
    select
        year,
        max(curve_date) as curve_date
    from season_curves
    where is_export
    group by year
),

school_now as (
    select
        season_curves.year,
        season_curves.curve_date,
        max(season_curves.last_year_export_date) as last_year_export_date,
        count(season_curves.last_year_graduates) as last_year_degrees,
        string_agg(
            degrees.degree_name || ' ' || fmt_rate(season_curves.employed, season_curves.graduates),
            '，' order by degrees.sort_order
        ) as degree_rates,
        string_agg(
            degrees.degree_name || ' ' || fmt_rate(season_curves.employed, season_curves.graduates)
            || case
                when season_curves.last_year_graduates is null then '（去年无该学历毕业生）'
                else
                    '（去年同期 '
                    || fmt_rate(season_curves.last_year_employed, season_curves.last_year_graduates)
                    || '，' || fmt_pp(season_curves.rate_change_last_year) || ' 个百分点）'
            end,
            '，' order by degrees.sort_order
        ) as degree_comparisons
    from season_curves
    inner join latest_exports
        on
            season_curves.year = latest_exports.year
            and season_curves.curve_date = latest_exports.curve_date
    inner join degrees on season_curves.degree = degrees.degree
    where season_curves.unit_code = 'all' and season_curves.graduates is not null
    group by season_curves.year, season_curves.curve_date
),

final as (
    select
        years.year,  -- evaluation year
        years.next_milestone,  -- the next node (null: the year's last node is past)
        case when years.next_milestone is not null then coalesce(at_risk.at_risk_units, 0) end
            as at_risk_units,  -- units that would lose points at the next node if nothing changed
        case
            when years.next_milestone is not null then coalesce(at_risk.at_risk_points, 0)
        end as at_risk_points,  -- the points they would lose, summed
        case
            when years.next_milestone is null then null
            when at_risk.at_risk_units is null
                then '若到' || fmt_md(years.next_milestone) || '情况不变，没有单位会被扣分。'
            else
                '若到' || fmt_md(years.next_milestone) || '情况不变，' || at_risk.at_risk_units
                || ' 个单位将被扣分（按扣分从多到少）：' || at_risk.ranked_units || '。'
        end as at_risk_note,  -- the ranked line (null: no node ahead)
        school_now.curve_date as latest_export_date,  -- the export the school's rates are measured on
        school_now.last_year_export_date,  -- last year's export compared with (null: none)
        case
            when school_now.curve_date is null then null
            when school_now.last_year_degrees = 0
                then
                    '全校（' || fmt_md(school_now.curve_date) || '的导出）：' || school_now.degree_rates
                    || '；没有去年同期的数据，无法与去年比较。'
            else
                '全校（' || fmt_md(school_now.curve_date) || '的导出）：' || school_now.degree_comparisons
                || '；去年同期指去年 ' || fmt_md(school_now.last_year_export_date) || '的导出。'
        end as last_year_note  -- the school's rate per degree against last year at the same date
    from years
    left join at_risk on years.year = at_risk.year
    left join school_now on years.year = school_now.year
)

select * from final
