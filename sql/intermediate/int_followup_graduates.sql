-- The units' follow-up lists (personal data: working database only, never published): every
-- cohort graduate of the latest export of each year who is not counted as employed on that
-- export's date (D2), in exactly one follow-up group, checked in this order:
--   cancelled_since_node  counted as employed at the last node on or before --as-of, not now;
--   pending_verification  destination counts toward the rate, record not yet verified (not
--                         已鉴证, or 已鉴证 dated after the export's date);
--   not_employed          destination does not count (待就业, 不就业拟升学, 其他暂不就业 …).
-- With the export on which the graduate's record last changed (unit, degree, destination code,
-- employer, verification status or date differ from the graduate's previous export, or the
-- graduate first appears).
-- grain: year, student_id
with

graduates as (
    select * from intermediate.int_graduates
),

registrations as (
    select * from staging.stg_registrations
),

status_at_dates as (
    select * from intermediate.int_status_at_dates
),

evaluation_dates as (
    select * from intermediate.int_evaluation_dates
),

rule_years as (
    select * from reference.rule_years
),

destination_codes as (
    select * from reference.destination_codes
),

run_context as (
    select * from meta.run_context
),

records as (
    select
        graduates.year,
        graduates.as_of_date,
        graduates.student_id,
        registrations.student_name,
        graduates.unit_code,
        graduates.degree,
        registrations.destination_code,
        graduates.destination_family,
        registrations.employer_name,
        graduates.is_employed_destination,
        coalesce(graduates.is_verified, false) as is_verified,
        graduates.verification_date,
        graduates.is_employed_destination
        and (
            not rule_years.require_verification
            or coalesce(
                graduates.is_verified and graduates.verification_date <= graduates.as_of_date,
                false
            )
        ) as is_counted
    from graduates
    inner join registrations
        on
            graduates.as_of_date = registrations.as_of_date
            and graduates.student_id = registrations.student_id
            and graduates.year = registrations.graduation_year
            and not registrations.is_completion
    inner join rule_years on graduates.year = rule_years.year
),

record_values as (
    select
        year,
        student_id,
        as_of_date,
        struct_pack(
            unit_code, degree, destination_code, employer_name, is_verified, verification_date
        ) as record_value
    from records
),

previous_values as (
    select
        *,
        lag(record_value) over (partition by year, student_id order by as_of_date)
            as previous_value
    from record_values
),

changes as (
    select
        year,
        student_id,
        as_of_date,
        -- nulls inside a struct compare as equal; no previous export: first appearance
        coalesce(record_value <> previous_value, true) as is_changed
    from previous_values
),

last_changes as (
    select
        year,
        student_id,
        max(as_of_date) filter (where is_changed) as last_changed_on
    from changes
    group by year, student_id
),

latest_exports as (
    select
        year,
        max(as_of_date) as as_of_date
    from graduates
    group by year
),

last_nodes as (
    select
        evaluation_dates.year,
        max(evaluation_dates.evaluation_date) as node_date
    from evaluation_dates
    cross join run_context
    where evaluation_dates.is_milestone and evaluation_dates.evaluation_date <= run_context.as_of_date
    group by evaluation_dates.year
),

counted_at_node as (
    select
        status_at_dates.year,
        status_at_dates.student_id,
        last_nodes.node_date
    from status_at_dates
    inner join last_nodes
        on
            status_at_dates.year = last_nodes.year
            and status_at_dates.evaluation_date = last_nodes.node_date
    where status_at_dates.is_employed
),

not_counted as (
    select records.*
    from records
    inner join latest_exports
        on records.year = latest_exports.year and records.as_of_date = latest_exports.as_of_date
    where not records.is_counted
),

final as (
    select
        not_counted.year,  -- evaluation year
        not_counted.as_of_date,  -- the latest export (the list's date)
        not_counted.unit_code,  -- unit on the latest export
        not_counted.student_id,  -- 学号 (personal)
        not_counted.student_name,  -- 姓名 (personal)
        not_counted.degree,  -- bachelor / master / doctor
        case
            when counted_at_node.student_id is not null then 'cancelled_since_node'
            when not_counted.is_employed_destination then 'pending_verification'
            else 'not_employed'
        end as followup_group,  -- see the header: one group per graduate
        not_counted.destination_code,  -- 毕业去向代码 as written
        destination_codes.destination_label,  -- meaning of its family
        not_counted.is_employed_destination,  -- the destination counts toward the rate
        not_counted.employer_name,  -- 单位名称 as written
        not_counted.is_verified,  -- 已鉴证
        not_counted.verification_date,  -- 鉴证日期
        last_changes.last_changed_on,  -- export on which the record last changed
        counted_at_node.node_date as counted_at_node  -- the last node, when counted there
    from not_counted
    inner join destination_codes on not_counted.destination_family = destination_codes.destination_code
    inner join last_changes
        on not_counted.year = last_changes.year and not_counted.student_id = last_changes.student_id
    left join counted_at_node
        on
            not_counted.year = counted_at_node.year
            and not_counted.student_id = counted_at_node.student_id
)

select * from final
