-- The years signed now (employment-eval sign): who signed, when, and what was signed — the
-- run whose published results it was, its rules file and the digest of the signed rows.
-- grain: year
with

signatures as (
    select * from signed.signatures
),

final as (
    select
        year,  -- evaluation year signed
        signature_id,  -- the signature's id (on the notice and the certificates)
        signed_by,  -- 签发人 (published: a role or a name, never a graduate's)
        signed_date,  -- 签发日期
        signed_at,  -- when it was recorded (Asia/Shanghai wall time)
        run_id,  -- the run whose published results were signed
        as_of_date,  -- that run's evaluation date
        rules_file,  -- the rules file the year was scored under
        rules_sha256,  -- its sha256
        policy_number,  -- the policy, e.g. 沪交医学〔2021〕1号
        code_version,  -- the program that computed the results
        marts_sha256,  -- sha256 of the published file that was signed
        signed_rows,  -- rows of the year signed, across the published tables
        rows_sha256  -- digest of those rows (signing.snapshot.rows_digest)
    from signatures
)

select * from final
