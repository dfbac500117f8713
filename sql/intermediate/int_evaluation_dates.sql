-- Every date the policy evaluates (the I3 nodes and I9's 1 December) per year, with the
-- snapshot each is counted on (D2) and whether it is provisional (D11).
-- grain: year, evaluation_date
with

graduates as (
    select * from intermediate.int_graduates
),

rule_milestones as (
    select * from reference.rule_milestones
),

rule_years as (
    select * from reference.rule_years
),

exports as (
    select distinct
        year,
        as_of_date
    from graduates
),

export_bounds as (
    select
        year,
        min(as_of_date) as first_export_date,
        max(as_of_date) as latest_export_date
    from exports
    group by year
),

evaluation_dates as (
    select
        year,
        milestone_date as evaluation_date,
        true as is_milestone,
        milestone_seq,
        base_points
    from rule_milestones
    union all
    select
        year,
        guided_date as evaluation_date,
        false as is_milestone,
        null as milestone_seq,
        null as base_points
    from rule_years
),

covering_exports as (
    select
        evaluation_dates.year,
        evaluation_dates.evaluation_date,
        max(exports.as_of_date) as covering_export_date
    from evaluation_dates
    left join exports
        on
            evaluation_dates.year = exports.year
            and evaluation_dates.evaluation_date >= exports.as_of_date
    group by evaluation_dates.year, evaluation_dates.evaluation_date
),

final as (
    select
        evaluation_dates.year,  -- evaluation year
        evaluation_dates.evaluation_date,  -- node date or the I9 date
        evaluation_dates.is_milestone,  -- an I3 node (else the I9 date)
        evaluation_dates.milestone_seq,  -- 1, 2, 3 for the nodes
        evaluation_dates.base_points,  -- node base points (I3)
        coalesce(covering_exports.covering_export_date, export_bounds.first_export_date)
            as snapshot_date,  -- export the date is counted on (D2)
        covering_exports.covering_export_date is null
            as is_reconstructed,  -- no export on or before: earliest later export used
        evaluation_dates.evaluation_date > export_bounds.latest_export_date
            as is_provisional,  -- date after the latest export: a forecast (D11)
        export_bounds.latest_export_date  -- latest export of the run for the year
    from evaluation_dates
    inner join export_bounds on evaluation_dates.year = export_bounds.year
    inner join covering_exports
        on
            evaluation_dates.year = covering_exports.year
            and evaluation_dates.evaluation_date = covering_exports.evaluation_date
)

select * from final
