-- The submissions ledger as items: every evaluated year, unit and ledger cell (the eight
-- cells that feed I1, I2, I4, I5, I7 and I8), with the value the centre holds (null when the
-- cell is blank or the unit has no row).
-- grain: year, unit_code, item
with

evaluation_years as (
    select distinct year from intermediate.int_evaluation_dates
),

units as (
    select * from reference.units
),

ledger_items as (
    select * from reference.ledger_items
),

submissions as (
    select * from staging.stg_submissions
),

base as (
    select
        evaluation_years.year,
        units.unit_code,
        submissions.i1_review_score,
        submissions.i2_complaints,
        submissions.i4_review_score,
        submissions.i4_report_date,
        submissions.i5_meeting_date,
        submissions.i5_talks,
        submissions.i7_forms,
        submissions.i8_stories
    from evaluation_years
    cross join units
    left join submissions
        on evaluation_years.year = submissions.year and units.unit_code = submissions.unit_code
),

items as (
    select
        base.year,
        base.unit_code,
        ledger_items.item,
        case ledger_items.item
            when 'i1_review_score' then cast(base.i1_review_score as decimal(8, 2))
            when 'i2_complaints' then cast(base.i2_complaints as decimal(8, 2))
            when 'i4_review_score' then cast(base.i4_review_score as decimal(8, 2))
            when 'i5_talks' then cast(base.i5_talks as decimal(8, 2))
            when 'i7_forms' then cast(base.i7_forms as decimal(8, 2))
            when 'i8_stories' then cast(base.i8_stories as decimal(8, 2))
        end as centre_number,
        case ledger_items.item
            when 'i4_report_date' then base.i4_report_date
            when 'i5_meeting_date' then base.i5_meeting_date
        end as centre_date
    from base
    cross join ledger_items
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit
        item,  -- ledger item (reference.ledger_items)
        centre_number,  -- the ledger's value: score or count
        centre_date  -- the ledger's value: date
    from items
)

select * from final
