-- Stage 1 of the procedure (自评): every ledger item of every unit as the centre holds it
-- (what the self-check pack shows the unit) beside what the unit states in its returned pack
-- (null when no pack came back or the cell was left blank), with the points the centre gives
-- the indicator the item feeds. The centre's figure stays the score; a stated figure that
-- differs is listed for the committee (is_different). One row per year, unit and ledger item.
-- grain: year, unit_code, item
with

ledger_items as (
    select * from intermediate.int_ledger_items
),

items as (
    select * from reference.ledger_items
),

indicator_scores as (
    select * from marts.indicator_scores
),

packs as (
    select * from staging.stg_selfcheck
),

returned as (
    select distinct
        year,
        unit_code,
        source_file
    from packs
),

joined as (
    select
        ledger_items.*,
        items.sort_order,
        items.indicator,
        items.value_kind,
        items.item_label,
        indicator_scores.points,
        returned.source_file,
        packs.stated_number,
        packs.stated_date,
        packs.note,
        packs.value_cell,
        (packs.stated_number is not null or packs.stated_date is not null) as is_stated
    from ledger_items
    inner join items on ledger_items.item = items.item
    inner join indicator_scores
        on
            ledger_items.year = indicator_scores.year
            and ledger_items.unit_code = indicator_scores.unit_code
            and items.indicator = indicator_scores.indicator
    left join returned
        on ledger_items.year = returned.year and ledger_items.unit_code = returned.unit_code
    left join packs
        on
            ledger_items.year = packs.year
            and ledger_items.unit_code = packs.unit_code
            and ledger_items.item = packs.item
),

final as (
    select
        year,  -- evaluation year
        unit_code,  -- unit
        item,  -- ledger item, e.g. i5_talks (reference.ledger_items)
        sort_order,  -- the item's place in the ledger
        indicator,  -- the indicator it feeds (I1, I2, I4, I5, I7, I8)
        item_label,  -- the ledger's Chinese header
        value_kind,  -- score / count / date
        centre_number,  -- the centre's figure (score or count; null when blank)
        centre_date,  -- the centre's date (null when blank)
        points as indicator_points,  -- the indicator's points as the centre scores it
        source_file is not null as has_pack,  -- the unit's pack came back
        source_file as pack_file,  -- the returned pack (under the raw folder's selfcheck/)
        value_cell,  -- sheet and cell of the unit's figure in its pack
        stated_number,  -- the unit's own figure (score or count)
        stated_date,  -- the unit's own date
        is_stated,  -- the unit stated a figure for this item
        is_stated
        and (
            centre_number is distinct from stated_number
            or centre_date is distinct from stated_date
        ) as is_different,  -- the unit's figure differs from the centre's: for the committee
        note  -- the unit's note (说明)
    from joined
)

select * from final
