-- I3's employment rate per node (15 Jun / 15 Aug / 15 Dec) against the degree's target, with
-- the exact arithmetic of D3. One row per year, unit, degree and node.
-- grain: year, unit_code, degree, milestone_date
with

node_results as (
    select * from intermediate.int_node_results
),

final as (
    select
        year,  -- evaluation year (cohort)
        unit_code,  -- unit code (reference.units)
        degree,  -- bachelor / master / doctor
        milestone_date,  -- node date
        graduates,  -- cohort graduates in the node's snapshot
        employed,  -- of whom employed and verified by the node date
        exact_ratio(employed, graduates) as employment_rate,  -- employed ÷ graduates, 6 decimals
        cast(cast(target_bp as decimal(9, 0)) * 0.0001 as decimal(7, 4)) as target_rate,  -- target
        required_employed,  -- graduates needed to meet the target, ⌈t·N⌉
        bonus,  -- bonus points: persons above the required count
        deduction,  -- points deducted: per 0.5 pp short (rounding knob)
        snapshot_date,  -- as-of date of the export counted (D2)
        is_reconstructed as reconstructed,  -- no export on or before the node: later one used
        case when is_provisional then 'provisional' else 'final' end as status  -- D11
    from node_results
)

select * from final
