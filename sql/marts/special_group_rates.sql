-- I6's cells: special groups' employment rate at the last node (15 Dec) against the degree's
-- target. One row per year, unit, special group and degree with at least one member.
-- grain: year, unit_code, special_group, degree
with

cells as (
    select * from intermediate.int_special_group_cells
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit code
        special_group,  -- economic_hardship / academic_difficulty / ethnic_minority (pooled: knob)
        degree,  -- bachelor / master / doctor
        graduates,  -- members of the group in the unit and degree
        employed,  -- of whom employed on 15 Dec
        exact_ratio(employed, graduates) as employment_rate,  -- employed ÷ graduates
        cast(cast(target_bp as decimal(9, 0)) * 0.0001 as decimal(7, 4)) as target_rate,  -- 15 Dec target
        meets_target  -- rate ≥ target, compared exactly
    from cells
)

select * from final
