-- The signed years (三、评估程序: the committee's result approved and signed by the school's
-- leader): who signed, when, and what — the run whose results were signed, the rules file and
-- its sha256, the input files and the digest of the signed rows. The published rows of a
-- signed year are the signed ones: no run changes them until the signature is withdrawn
-- (marts.signature_events). One row per signed year.
-- grain: year
with

signatures as (
    select * from staging.stg_signatures
),

signed_files as (
    select * from staging.stg_signed_files
),

file_counts as (
    select
        year,
        count(*) as input_files
    from signed_files
    group by year
),

final as (
    select
        signatures.year,  -- evaluation year signed
        signatures.signature_id,  -- the signature's id (on the notice and the certificates)
        signatures.signed_by,  -- 签发人
        signatures.signed_date,  -- 签发日期
        signatures.signed_at,  -- when it was recorded (Asia/Shanghai wall time)
        signatures.run_id,  -- the run whose published results were signed
        signatures.as_of_date,  -- that run's evaluation date
        signatures.rules_file,  -- the rules file the year was scored under
        signatures.rules_sha256,  -- its sha256
        signatures.policy_number,  -- the policy, e.g. 沪交医学〔2021〕1号
        signatures.code_version,  -- the program that computed the results
        signatures.marts_sha256,  -- sha256 of the published file that was signed
        coalesce(file_counts.input_files, 0) as input_files,  -- input files of the year (marts.signed_files)
        signatures.signed_rows,  -- rows of the year signed, across the published tables
        signatures.rows_sha256  -- digest of those rows
    from signatures
    left join file_counts on signatures.year = file_counts.year
)

select * from final
