-- The input files of each signed year as they were signed (under the raw folder, with their
-- sha256). One row per signed year and file.
-- grain: year, kind, source_file
with

signed_files as (
    select * from staging.stg_signed_files
),

final as (
    select
        year,  -- evaluation year signed
        kind,  -- input kind
        source_file,  -- path under the raw folder
        file_sha256  -- sha256 of the file as signed
    from signed_files
)

select * from final
