-- The registration exports this run evaluates: the files now under --raw, dated on or before
-- --as-of. One row per distinct export content; a copy under another name is the same export.
-- grain: file_sha256
with

current_files as (
    select * from meta.current_files
),

final as (
    select
        file_sha256,  -- content hash of the export file
        min(source_file) as source_file,  -- file name under --raw (first by name when copied)
        min(as_of_date) as as_of_date  -- date the export describes (导出日期)
    from current_files
    where kind = 'registrations' and is_included
    group by file_sha256
)

select * from final
