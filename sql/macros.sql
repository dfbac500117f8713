-- Exact arithmetic helpers shared by the models. Integer division only: no float ever
-- decides a boundary. Every numerator passed in is >= 0 (DuckDB's // truncates toward zero).

-- Points deducted for a shortfall of numerator / denominator steps, with the rounding knob:
-- floor (default), ceil, or exact (rounded half-up to 2 decimals).
create or replace macro exact_deduction(numerator, denominator, rounding) as
case rounding
    when 'floor' then cast(numerator // denominator as decimal(18, 2))
    when 'ceil' then cast((numerator + denominator - 1) // denominator as decimal(18, 2))
    else cast(
        cast((200 * numerator + denominator) // (2 * denominator) as decimal(18, 0)) * 0.01
        as decimal(18, 2)
    )
end;

-- a / b as a fraction rounded half-up to 6 decimals (null when b = 0).
create or replace macro exact_ratio(a, b) as
case
    when b > 0
        then cast(
            cast((2000000 * cast(a as bigint) + b) // (2 * b) as decimal(18, 0)) * 0.000001
            as decimal(9, 6)
        )
end;

-- base x min(1, got / needed), rounded half-up to 2 decimals.
create or replace macro exact_share_points(base, got, needed) as
case
    when needed <= 0 then cast(base as decimal(18, 2))
    else cast(
        cast(
            (200 * cast(base as bigint) * least(got, needed) + needed) // (2 * needed)
            as decimal(18, 0)
        ) * 0.01 as decimal(18, 2)
    )
end;

-- Basis points as a percent text without trailing zeros: 9500 -> '95', 9450 -> '94.5'.
create or replace macro fmt_bp(bp) as
case
    when bp % 100 = 0 then cast(bp // 100 as varchar)
    when bp % 10 = 0 then cast(bp // 100 as varchar) || '.' || cast((bp % 100) // 10 as varchar)
    else cast(bp // 100 as varchar) || '.' || lpad(cast(bp % 100 as varchar), 2, '0')
end;

-- e / n as a percent text with one decimal, rounded half-up: 187, 200 -> '93.5%'.
create or replace macro fmt_rate(e, n) as
case
    when n > 0
        then
            cast(((2000 * cast(e as bigint) + n) // (2 * n)) // 10 as varchar) || '.'
            || cast(((2000 * cast(e as bigint) + n) // (2 * n)) % 10 as varchar) || '%'
    else '—'
end;

-- Points as text without trailing zeros: 3.00 -> '3', 13.30 -> '13.3'.
create or replace macro fmt_points(p) as
case
    when p = trunc(p) then cast(cast(p as bigint) as varchar)
    else rtrim(rtrim(cast(p as varchar), '0'), '.')
end;

-- A date as the centre writes it: 2021-06-15 -> '6月15日'.
create or replace macro fmt_md(d) as strftime(d, '%-m月%-d日');

-- A change of rate (a fraction, at most 6 decimals) in tenths of a percentage point, rounded
-- half-up away from zero, without its sign: 0.0215 -> 22.
create or replace macro pp_tenths(change) as
(cast(abs(change) * 1000000 as bigint) + 500) // 1000;

-- A change of rate as percentage points for reading, one decimal, signed: '+2.2', '−0.5',
-- '0.0'; '—' when unknown (the renderers' points_change, in SQL).
create or replace macro fmt_pp(change) as
case
    when change is null then '—'
    when pp_tenths(change) = 0 then '0.0'
    else
        (case when change > 0 then '+' else '−' end)
        || cast(pp_tenths(change) // 10 as varchar) || '.' || cast(pp_tenths(change) % 10 as varchar)
end;
