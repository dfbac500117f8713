-- Each unit's whole cohort at the year's last node (15 Dec): its size for I7/I8 (D5) and its
-- overall employment for the ranking's last tie-breaker (D10).
-- grain: year, unit_code
with

status as (
    select * from intermediate.int_status_at_dates
),

evaluation_dates as (
    select * from intermediate.int_evaluation_dates
),

last_node as (
    select
        year,
        max(evaluation_date) as milestone_date
    from evaluation_dates
    where is_milestone
    group by year
),

final as (
    select
        status.year,  -- evaluation year
        status.unit_code,  -- unit
        last_node.milestone_date,  -- the last node (15 Dec)
        count(*) as graduates,  -- cohort across degrees at the last node
        count(*) filter (where status.is_employed) as employed  -- employed on that date
    from status
    inner join last_node
        on status.year = last_node.year and status.evaluation_date = last_node.milestone_date
    group by status.year, status.unit_code, last_node.milestone_date
)

select * from final
