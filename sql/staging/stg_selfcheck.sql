-- The units' returned self-check packs (自评表) of the files in this run: one row per pack and
-- ledger item, with the figure the unit states (null when it left the cell blank) and its note.
-- grain: year, unit_code, item
with

current_files as (
    select distinct file_sha256
    from meta.current_files
    where kind = 'selfcheck'
),

packs as (
    select * from raw.selfcheck
),

final as (
    select
        packs.pack_year as year,  -- evaluation year of the pack
        packs.unit_code,  -- unit whose pack it is
        packs.item_code as item,  -- ledger item (reference.ledger_items)
        packs.stated_number,  -- the unit's own figure (scores, counts)
        packs.stated_date,  -- the unit's own date
        packs.note,  -- the unit's note (说明)
        packs.source_file,  -- pack file
        packs.value_cell  -- sheet and cell of the figure, e.g. 自评表!E8
    from packs
    inner join current_files on packs.file_sha256 = current_files.file_sha256
)

select * from final
