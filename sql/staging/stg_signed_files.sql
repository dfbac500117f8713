-- The input files of each signed year as they were when it was signed (name and sha256): a
-- run warns when the raw folder's files of a signed year differ from these.
-- grain: year, kind, source_file
with

signed_files as (
    select * from signed.signed_files
),

final as (
    select
        year,  -- evaluation year signed
        kind,  -- input kind (registrations, special_groups, submissions, adjustments, selfcheck)
        source_file,  -- path under the raw folder
        file_sha256  -- sha256 of the file as signed
    from signed_files
)

select * from final
