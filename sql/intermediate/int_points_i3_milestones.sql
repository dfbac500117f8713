-- I3 (时间节点就业率) per unit: each node's points, max(0, base − Σ deductions over degrees)
-- + Σ bonuses over degrees (D3), summed over the year's nodes, with a Chinese sentence per
-- node showing each degree's arithmetic (D3, D9, D11).
-- grain: year, unit_code, indicator
with

node_results as (
    select * from intermediate.int_node_results
),

degrees as (
    select * from reference.degrees
),

node_degree_text as (
    select
        node_results.year,
        node_results.unit_code,
        node_results.milestone_date,
        node_results.base_points,
        sum(node_results.bonus) as bonus,
        sum(node_results.deduction) as deduction,
        string_agg(
            degrees.degree_name || ' ' || node_results.employed || '/' || node_results.graduates
            || '=' || fmt_rate(node_results.employed, node_results.graduates)
            || case
                when node_results.is_met
                    then
                        '，达到' || fmt_bp(node_results.target_bp) || '%目标（需'
                        || node_results.required_employed || '人），超出'
                        || (node_results.employed - node_results.required_employed) || '人，加'
                        || node_results.bonus || '分'
                when node_results.deduction > node_results.base_points
                    then
                        '，低于' || fmt_bp(node_results.target_bp) || '%目标'
                        || fmt_bp(node_results.shortfall_bp) || '个百分点，扣满'
                        || node_results.base_points || '分（差'
                        || fmt_points(node_results.deduction) || '分）'
                else
                    '，低于' || fmt_bp(node_results.target_bp) || '%目标'
                    || fmt_bp(node_results.shortfall_bp) || '个百分点，扣'
                    || fmt_points(node_results.deduction) || '分'
            end,
            '；' order by degrees.sort_order
        ) as degree_text,
        bool_or(node_results.is_provisional) as is_provisional,
        bool_or(node_results.is_reconstructed) as is_reconstructed
    from node_results
    inner join degrees on node_results.degree = degrees.degree
    group by
        node_results.year, node_results.unit_code, node_results.milestone_date,
        node_results.base_points
),

node_points as (
    select
        *,
        greatest(cast(0 as decimal(18, 2)), base_points - deduction) + bonus as node_points
    from node_degree_text
),

i3 as (
    select
        year,
        unit_code,
        'I3' as indicator,
        sum(node_points) as computed_points,
        false as needs_review,
        string_agg(
            fmt_md(milestone_date) || ' ' || degree_text || '；节点得分 max(0, '
            || base_points || '−' || fmt_points(deduction) || ')+' || bonus || '='
            || fmt_points(node_points) || '分'
            || case when is_provisional then '（暂定，按最新导出预估）' else '' end
            || case when is_reconstructed then '（节点前无导出，按其后最早导出推算）' else '' end,
            '。' order by milestone_date
        ) as detail
    from node_points
    group by year, unit_code
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit
        indicator,  -- I3
        cast(computed_points as decimal(18, 2)) as computed_points,  -- sum of the nodes' points
        needs_review,  -- always false for I3
        detail  -- each node: every degree's rate against its target, then the node's points
    from i3
)

select * from final
