-- The nine indicators' computed points per unit (before committee adjustments), each with a
-- short Chinese sentence showing its arithmetic: the union of one model per indicator or
-- family, each found by its name (int_points_ledger: I1, I2, I4, I5, I7, I8;
-- int_points_i3_milestones: I3; int_points_i6_special_groups: I6; int_points_i9_guided: I9).
-- grain: year, unit_code, indicator
with

ledger as (
    select * from intermediate.int_points_ledger
),

i3_milestones as (
    select * from intermediate.int_points_i3_milestones
),

i6_special_groups as (
    select * from intermediate.int_points_i6_special_groups
),

i9_guided as (
    select * from intermediate.int_points_i9_guided
),

all_indicators as (
    select * from ledger
    union all
    select * from i3_milestones
    union all
    select * from i6_special_groups
    union all
    select * from i9_guided
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit
        indicator,  -- I1..I9
        computed_points,  -- points before adjustments
        needs_review,  -- a figure the centre should look at (I9 zero denominator)
        detail  -- how the points came about (Chinese)
    from all_indicators
)

select * from final
