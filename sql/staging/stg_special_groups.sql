-- The centre's special-group roster (特定群体名单) of the files in this run, one row per
-- student, group and cohort (a student listed twice, or in several files, counts once).
-- grain: graduation_year, student_id, special_group
with

current_files as (
    select distinct file_sha256
    from meta.current_files
    where kind = 'special_groups'
),

roster as (
    select * from raw.special_groups
),

final as (
    select
        roster.cohort_year as graduation_year,  -- 毕业年份
        roster.student_id,  -- 学号 (personal)
        roster.special_group,  -- economic_hardship / academic_difficulty
        min(roster.source_file) as source_file,  -- roster file
        min(roster.source_row) as source_row  -- first row listing the student
    from roster
    inner join current_files on roster.file_sha256 = current_files.file_sha256
    group by roster.cohort_year, roster.student_id, roster.special_group
)

select * from final
