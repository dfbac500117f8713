-- Registration rows (就业登记鉴证) of the exports in this run, renamed and typed.
-- One row per graduate per export; personal data: stays in the working database.
-- grain: file_sha256, source_row
with

exports as (
    select * from staging.stg_exports
),

registrations as (
    select * from raw.registrations
),

final as (
    select
        registrations.file_sha256,  -- content hash of the export
        exports.source_file,  -- file under --raw
        registrations.source_row,  -- row number in that file (header = row 1)
        exports.as_of_date,  -- the export's as-of date
        registrations.student_id,  -- 学号 (personal)
        registrations.name as student_name,  -- 姓名 (personal)
        registrations.ethnicity_name as ethnicity,  -- 民族, official name (personal)
        registrations.unit_code,  -- evaluated unit
        registrations.degree_code as degree,  -- bachelor / master / doctor
        registrations.is_completion,  -- 结业: outside the cohort
        registrations.cohort_year as graduation_year,  -- 毕业年份
        registrations.destination_code,  -- 毕业去向代码 as written
        registrations.destination_family,  -- its two-digit family
        registrations.employer as employer_name,  -- 单位名称
        registrations.employer_type_code,  -- 单位性质 code, null when blank or unknown
        registrations.province as employer_province,  -- 单位所在地, short province name
        registrations.is_grassroots_flag,  -- 是否基层 = 是
        registrations.is_verified,  -- 鉴证状态 = 已鉴证
        registrations.verified_date as verification_date  -- 鉴证日期
    from registrations
    inner join exports on registrations.file_sha256 = exports.file_sha256
)

select * from final
