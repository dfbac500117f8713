-- Every sign and unsign of a year, kept for good: who, on which date, and why (an unsign
-- always gives a reason).
-- grain: event_id
with

events as (
    select * from signed.events
),

final as (
    select
        event_id,  -- the event's id
        year,  -- evaluation year
        action,  -- sign / unsign
        by_name,  -- who signed or withdrew the signature
        event_date,  -- the date given (--date; today when not given)
        recorded_at,  -- when it was recorded (Asia/Shanghai wall time)
        reason,  -- why a signature was withdrawn (unsign)
        signature_id,  -- the signature signed or withdrawn
        run_id,  -- the run whose results were signed
        marts_sha256  -- sha256 of the file published with the event (null in that file itself)
    from events
)

select * from final
