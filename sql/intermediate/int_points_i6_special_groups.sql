-- I6 (特定群体就业) per unit: full points when every special-group cell of the unit meets
-- its degree's last-node target (int_special_group_cells, D4), else 0; a unit without
-- special-group graduates scores in full and the detail says so.
-- grain: year, unit_code, indicator
with

units as (
    select * from reference.units
),

rule_indicators as (
    select * from reference.rule_indicators
),

degrees as (
    select * from reference.degrees
),

special_group_names as (
    select * from reference.special_groups
),

evaluation_years as (
    select distinct year from intermediate.int_evaluation_dates
),

special_group_cells as (
    select * from intermediate.int_special_group_cells
),

unit_years as (
    select
        evaluation_years.year,
        units.unit_code
    from evaluation_years
    cross join units
),

points_base as (
    select
        year,
        base_points as i6_base
    from rule_indicators
    where indicator = 'I6'
),

special_group_text as (
    select
        special_group_cells.year,
        special_group_cells.unit_code,
        bool_and(special_group_cells.meets_target) as all_cells_meet,
        string_agg(
            special_group_names.special_group_name || degrees.degree_name || ' '
            || special_group_cells.employed || '/' || special_group_cells.graduates || '='
            || fmt_rate(special_group_cells.employed, special_group_cells.graduates)
            || case when special_group_cells.meets_target then '达标' else '未达标' end,
            '；' order by special_group_names.sort_order, degrees.sort_order
        ) as cells_text
    from special_group_cells
    inner join degrees on special_group_cells.degree = degrees.degree
    inner join special_group_names
        on special_group_cells.special_group = special_group_names.special_group
    group by special_group_cells.year, special_group_cells.unit_code
),

i6 as (
    select
        unit_years.year,
        unit_years.unit_code,
        'I6' as indicator,
        case
            when coalesce(special_group_text.all_cells_meet, true) then points_base.i6_base
            else 0
        end as computed_points,
        false as needs_review,
        case
            when special_group_text.unit_code is null
                then '无特定群体毕业生，得' || points_base.i6_base || '分'
            when special_group_text.all_cells_meet
                then
                    '12月15日特定群体就业率（目标同该学历节点目标）：' || special_group_text.cells_text
                    || '；全部达标，得' || points_base.i6_base || '分'
            else
                '12月15日特定群体就业率（目标同该学历节点目标）：' || special_group_text.cells_text
                || '；有群体低于目标，0分'
        end as detail
    from unit_years
    inner join points_base on unit_years.year = points_base.year
    left join special_group_text
        on unit_years.year = special_group_text.year and unit_years.unit_code = special_group_text.unit_code
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit
        indicator,  -- I6
        cast(computed_points as decimal(18, 2)) as computed_points,  -- base points or 0
        needs_review,  -- always false for I6
        detail  -- every cell's rate and whether it meets the target
    from i6
)

select * from final
