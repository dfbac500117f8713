-- The submissions ledger (单位材料登记表) of the files in this run: one row per unit and year.
-- Blank cells stay null (scored 0, reported as warnings at ingestion).
-- grain: year, unit_code
with

current_files as (
    select distinct file_sha256
    from meta.current_files
    where kind = 'submissions'
),

ledger as (
    select * from raw.submissions
),

final as (
    select
        ledger.ledger_year as year,  -- evaluation year
        ledger.unit_code,  -- unit
        ledger.i1_score as i1_review_score,  -- 就业工作组织得分 (0–5)
        ledger.i2_complaint_count as i2_complaints,  -- 合理投诉次数
        ledger.i4_score as i4_review_score,  -- 未就业学生排摸得分 (0–20)
        ledger.i4_report_on as i4_report_date,  -- 未就业学生调研报告提交日期
        ledger.i5_meeting_on as i5_meeting_date,  -- 就业动员会日期
        ledger.i5_talk_count as i5_talks,  -- 职业导师校友座谈次数
        ledger.i7_form_count as i7_forms,  -- 职业咨询登记表份数
        ledger.i8_story_count as i8_stories,  -- 成长成才故事篇数
        ledger.source_file,  -- ledger file
        ledger.source_row  -- row in it
    from ledger
    inner join current_files on ledger.file_sha256 = current_files.file_sha256
)

select * from final
