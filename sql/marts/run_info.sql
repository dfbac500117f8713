-- What this published file is: the run that wrote it, the date it describes, the rules it
-- applied and the code that built it. One row.
-- grain: run_id
with

run_context as (
    select * from meta.run_context
),

run_facts as (
    select * from meta.run_facts
),

scoreboard as (
    select * from marts.scoreboard
),

this_run as (
    select run_facts.*
    from run_facts
    inner join run_context on run_facts.run_id = run_context.run_id
),

year_status as (
    select
        year,
        case when bool_and(status = 'final') then 'final' else 'provisional' end as status
    from scoreboard
    group by year
),

final as (
    select
        this_run.year,  -- the evaluation year the run was about (--year)
        this_run.as_of_date,  -- the night it describes (--as-of)
        coalesce(year_status.status, 'provisional') as status,  -- final / provisional (D11)
        this_run.run_id,  -- the run's id (run log, reports, Prefect)
        this_run.rules_file,  -- the rules file applied to that year
        this_run.rules_sha256,  -- sha256 of that rules file
        this_run.policy_number,  -- the policy it implements, e.g. 沪交医学〔2021〕1号
        this_run.code_version,  -- package version and git commit of the code
        this_run.generated_at,  -- when the run built it (Asia/Shanghai wall time)
        this_run.input_files  -- how many input files the run read (each one: marts.input_files)
    from this_run
    left join year_status on this_run.year = year_status.year
)

select * from final
