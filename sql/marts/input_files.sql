-- The input files the run that published this file read: every file under --raw, with its
-- kind, the as-of date of an export, whether the run's --as-of included it, and its sha256 (so
-- that a copy of the inputs can be proved to be the one scored). One row per file.
-- grain: kind, source_file
with

current_files as (
    select * from meta.current_files
),

run_context as (
    select * from meta.run_context
),

final as (
    select
        current_files.kind,  -- registrations / special_groups / submissions / adjustments
        case current_files.kind
            when 'registrations' then '就业登记鉴证导出'
            when 'special_groups' then '特定群体名单'
            when 'submissions' then '单位材料登记表'
            when 'adjustments' then '学指委审核调整'
            else current_files.kind
        end as kind_name,  -- the kind as the centre calls it
        current_files.source_file,  -- path under the raw folder
        current_files.as_of_date,  -- an export's as-of date (导出日期); null for other kinds
        current_files.is_included,  -- read by the run (an export dated after --as-of is not)
        current_files.file_sha256,  -- sha256 of the file's content
        run_context.run_id  -- the run that read it (marts.run_info)
    from current_files
    inner join run_context on current_files.run_id = run_context.run_id
)

select * from final
