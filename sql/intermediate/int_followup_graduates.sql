-- The units' follow-up lists (personal data: working database only, never published): every
-- cohort graduate of the latest export of each year who is not counted as employed on that
-- export's date (D2), in exactly one follow-up group, checked in this order:
--   cancelled_since_node  counted as employed at the last node on or before --as-of, not now;
--   pending_verification  destination counts toward the rate, record not yet verified (not
--                         已鉴证, or 已鉴证 dated after the export's date);
--   not_employed          destination does not count (待就业, 不就业拟升学, 其他暂不就业 …).
-- What is missing, for every graduate listed (missing_kind): 'verification' (destination
-- counts, not verified), 'registration' (no destination registered yet: 待就业) or
-- 'destination' (a destination registered that does not count); since which export the
-- graduate has been in that state without a break (missing_since: the first export of the
-- latest run of equal states among the graduate's exports); how the graduate stood on the
-- previous export of the year (previous_state: counted / absent / a missing kind) and the
-- change as the list says it (change_note, in Chinese).
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
        destination_codes.is_unregistered,
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
    inner join destination_codes on graduates.destination_family = destination_codes.destination_code
),

states as (
    select
        year,
        student_id,
        as_of_date,
        case
            when is_counted then 'counted'
            when is_employed_destination then 'verification'
            when is_unregistered then 'registration'
            else 'destination'
        end as state
    from records
),

state_starts as (
    select
        *,
        coalesce(
            state <> lag(state) over (partition by year, student_id order by as_of_date), true
        ) as is_start
    from states
),

state_since as (
    select
        year,
        student_id,
        max(as_of_date) filter (where is_start) as state_since
    from state_starts
    group by year, student_id
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

previous_exports as (
    select
        graduates.year,
        max(graduates.as_of_date) as as_of_date
    from graduates
    inner join latest_exports
        on graduates.year = latest_exports.year and graduates.as_of_date < latest_exports.as_of_date
    group by graduates.year
),

previous_states as (
    select
        states.year,
        states.student_id,
        states.state
    from states
    inner join previous_exports
        on states.year = previous_exports.year and states.as_of_date = previous_exports.as_of_date
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
    select
        records.*,
        states.state as missing_kind,
        previous_exports.as_of_date as previous_export_date,
        case
            when previous_exports.as_of_date is null then null
            else coalesce(previous_states.state, 'absent')
        end as previous_state
    from records
    inner join latest_exports
        on records.year = latest_exports.year and records.as_of_date = latest_exports.as_of_date
    inner join states
        on
            records.year = states.year
            and records.student_id = states.student_id
            and records.as_of_date = states.as_of_date
    left join previous_exports on records.year = previous_exports.year
    left join previous_states
        on records.year = previous_states.year and records.student_id = previous_states.student_id
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
        not_counted.missing_kind,  -- what is missing: verification / registration / destination
        state_since.state_since as missing_since,  -- first export of the unbroken run of that state
        not_counted.previous_export_date,  -- the export before the latest (null: none)
        not_counted.previous_state,  -- on it: counted / absent / a missing kind (null: no export)
        case
            when not_counted.previous_state is null then null
            when not_counted.previous_state = 'absent' then '新列入（上次导出中没有该生）'
            when not_counted.previous_state = 'counted' then '新列入（上次导出时已计入就业）'
            when not_counted.previous_state <> not_counted.missing_kind
                then
                    '原为' || case not_counted.previous_state
                        when 'verification' then '待鉴证'
                        when 'registration' then '未登记去向'
                        else '去向不计入就业率'
                    end
            when last_changes.last_changed_on = not_counted.as_of_date then '记录有更新'
        end as change_note,  -- change since the previous export, as the list says it (null: none)
        not_counted.employer_name,  -- 单位名称 as written
        not_counted.is_verified,  -- 已鉴证
        not_counted.verification_date,  -- 鉴证日期
        last_changes.last_changed_on,  -- export on which the record last changed
        counted_at_node.node_date as counted_at_node  -- the last node, when counted there
    from not_counted
    inner join destination_codes on not_counted.destination_family = destination_codes.destination_code
    inner join last_changes
        on not_counted.year = last_changes.year and not_counted.student_id = last_changes.student_id
    inner join state_since
        on not_counted.year = state_since.year and not_counted.student_id = state_since.student_id
    left join counted_at_node
        on
            not_counted.year = counted_at_node.year
            and not_counted.student_id = counted_at_node.student_id
)

select * from final
