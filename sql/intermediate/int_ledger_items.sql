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
        year,
        unit_code,
        'i1_review_score' as item,
        cast(i1_review_score as decimal(8, 2)) as centre_number,
        cast(null as date) as centre_date
    from base
    union all
    select
        year,
        unit_code,
        'i2_complaints' as item,
        cast(i2_complaints as decimal(8, 2)) as centre_number,
        cast(null as date) as centre_date
    from base
    union all
    select
        year,
        unit_code,
        'i4_review_score' as item,
        cast(i4_review_score as decimal(8, 2)) as centre_number,
        cast(null as date) as centre_date
    from base
    union all
    select
        year,
        unit_code,
        'i4_report_date' as item,
        cast(null as decimal(8, 2)) as centre_number,
        i4_report_date as centre_date
    from base
    union all
    select
        year,
        unit_code,
        'i5_meeting_date' as item,
        cast(null as decimal(8, 2)) as centre_number,
        i5_meeting_date as centre_date
    from base
    union all
    select
        year,
        unit_code,
        'i5_talks' as item,
        cast(i5_talks as decimal(8, 2)) as centre_number,
        cast(null as date) as centre_date
    from base
    union all
    select
        year,
        unit_code,
        'i7_forms' as item,
        cast(i7_forms as decimal(8, 2)) as centre_number,
        cast(null as date) as centre_date
    from base
    union all
    select
        year,
        unit_code,
        'i8_stories' as item,
        cast(i8_stories as decimal(8, 2)) as centre_number,
        cast(null as date) as centre_date
    from base
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
