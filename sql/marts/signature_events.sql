-- The history of the signatures: every sign and unsign of a year (who, when, why), kept for
-- good. One row per event.
-- grain: event_id
with

events as (
    select * from staging.stg_signature_events
),

final as (
    select
        event_id,  -- the event's id
        year,  -- evaluation year
        action,  -- sign / unsign
        by_name,  -- who signed or withdrew the signature
        event_date,  -- the date given
        recorded_at,  -- when it was recorded (Asia/Shanghai wall time)
        reason,  -- why a signature was withdrawn (unsign)
        signature_id,  -- the signature signed or withdrawn
        run_id,  -- the run whose results were signed
        marts_sha256  -- sha256 of the file published with the event (null in that file itself)
    from events
)

select * from final
