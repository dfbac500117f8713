"""The input columns of each kind of raw file (docs/输入文件格式.md) and the raw-layer tables
they land in.

This module is the contract between ingestion (Python) and the SQL staging models: the raw
tables in the working database hold, per row, provenance + every column as read (text) +
the values ingestion resolved against the reference data (typed)."""

from __future__ import annotations

from dataclasses import dataclass

# Longest text a cell may hold, in characters (Unicode code points), checked at ingestion so
# that nothing is ever cut later:
# - any cell: 32,767, the most an Excel cell holds (inputs and extra columns may end up in the
#   follow-up lists and the year-end workbook, which would silently truncate longer text);
# - 学号: 32 (student numbers are about a dozen characters; longer is a pasted mistake);
# - 姓名: 64 (long transliterated names with '·' fit comfortably);
# - 理由 (reason): 1000, a paragraph: it is published with the scoreboard and shown in the
#   year-end workbook and the HTML report next to the adjusted cell;
# - 审批人 (approved_by): 50, a role such as 学指委主任, published likewise.
CELL_LIMIT = 32_767
STUDENT_ID_LIMIT = 32
NAME_LIMIT = 64
REASON_LIMIT = 1000
APPROVER_LIMIT = 50


@dataclass(frozen=True)
class Column:
    name: str  # canonical English name (also accepted as a header)
    header: str  # the Chinese header (what the centre writes)
    required: bool = False
    max_chars: int = CELL_LIMIT  # longest accepted text (see above)
    # Free text that reaches the published marts as written: checked for personal data
    # (a graduate's 学号 or 姓名 anywhere in it) and for control/format characters.
    public_text: bool = False


REGISTRATION_COLUMNS = (
    Column("student_id", "学号", True, STUDENT_ID_LIMIT),
    Column("name", "姓名", True, NAME_LIMIT),
    Column("gender", "性别"),
    Column("ethnicity", "民族", True),
    Column("unit", "培养单位", True),
    Column("degree", "学历层次", True),
    Column("graduation_year", "毕业年份", True),
    Column("destination_code", "毕业去向代码", True),
    Column("destination", "毕业去向"),
    Column("employer", "单位名称"),
    Column("employer_type", "单位性质"),
    Column("employer_province", "单位所在地"),
    Column("grassroots", "是否基层"),
    Column("verification_status", "鉴证状态", True),
    Column("verification_date", "鉴证日期"),
    Column("export_date", "导出日期"),
)

SPECIAL_GROUP_COLUMNS = (
    Column("student_id", "学号", True, STUDENT_ID_LIMIT),
    Column("group", "群体", True),
    Column("graduation_year", "毕业年份", True),
)

SUBMISSION_COLUMNS = (
    Column("unit", "单位", True),
    Column("year", "年度", True),
    Column("i1_review_score", "就业工作组织得分"),
    Column("i2_complaints", "优秀毕业生评选合理投诉次数"),
    Column("i4_review_score", "未就业学生排摸得分"),
    Column("i4_report_date", "未就业学生调研报告提交日期"),
    Column("i5_meeting_date", "就业动员会日期"),
    Column("i5_talks", "职业导师校友座谈次数"),
    Column("i7_forms", "职业咨询登记表份数"),
    Column("i8_stories", "成长成才故事篇数"),
)

ADJUSTMENT_COLUMNS = (
    Column("unit", "单位", True),
    Column("year", "年度", True),
    Column("indicator", "指标", True),
    Column("value", "调整后分值", True),
    Column("reason", "理由", True, REASON_LIMIT, public_text=True),
    Column("approved_by", "审批人", True, APPROVER_LIMIT, public_text=True),
    Column("date", "日期", True),
)

# A returned self-check pack (自评表) is a workbook read cell by cell (ingest/selfcheck.py), not
# a table: each of its ledger items becomes one row with these columns. 说明 is the unit's note,
# published beside its figure for the committee.
NOTE_LIMIT = 1000
SELFCHECK_COLUMNS = (
    Column("unit", "单位", True),
    Column("year", "年度", True),
    Column("item", "项目", True),
    Column("value", "单位自报"),
    Column("note", "说明", max_chars=NOTE_LIMIT, public_text=True),
)

COLUMNS = {
    "registrations": REGISTRATION_COLUMNS,
    "special_groups": SPECIAL_GROUP_COLUMNS,
    "submissions": SUBMISSION_COLUMNS,
    "adjustments": ADJUSTMENT_COLUMNS,
    "selfcheck": SELFCHECK_COLUMNS,
}

# Provenance carried by every raw row.
PROVENANCE_DDL = """
    file_sha256 varchar not null,
    source_file varchar not null,
    source_row integer not null,
"""

# Values resolved by ingestion against the reference data, per kind (name → DuckDB type).
RESOLVED = {
    "registrations": {
        "as_of_date": "date",  # the export's as-of date (导出日期 or the file name)
        "unit_code": "varchar",
        "degree_code": "varchar",  # bachelor / master / doctor
        "is_completion": "boolean",  # 结业: not in the cohort
        "cohort_year": "integer",
        "destination_family": "varchar",  # two-digit family of the destination code
        "employer_type_code": "varchar",  # null when blank or unknown (a warning)
        "province": "varchar",  # short province name, null when blank/unknown
        "is_grassroots_flag": "boolean",  # 是否基层 = 是
        "is_verified": "boolean",
        "verified_date": "date",
        "ethnicity_name": "varchar",  # official name, e.g. 汉族
    },
    "special_groups": {
        "special_group": "varchar",
        "cohort_year": "integer",
    },
    "submissions": {
        "unit_code": "varchar",
        "ledger_year": "integer",
        "i1_score": "decimal(6,2)",
        "i2_complaint_count": "integer",
        "i4_score": "decimal(6,2)",
        "i4_report_on": "date",
        "i5_meeting_on": "date",
        "i5_talk_count": "integer",
        "i7_form_count": "integer",
        "i8_story_count": "integer",
    },
    "adjustments": {
        "unit_code": "varchar",
        "adjustment_year": "integer",
        "indicator_code": "varchar",  # I1..I9 or ADVANCED
        "new_points": "decimal(8,2)",  # null for ADVANCED
        "advanced_decision": "boolean",  # null unless ADVANCED
        "decided_on": "date",
    },
    "selfcheck": {
        "unit_code": "varchar",
        "pack_year": "integer",
        "item_code": "varchar",  # the ledger column (reference/ledger_items.csv)
        "stated_number": "decimal(8,2)",  # scores and counts
        "stated_date": "date",  # dates
        "value_cell": "varchar",  # where the figure is: 工作表!单元格, e.g. 自评表!E9
    },
}


def raw_table_ddl(kind: str) -> str:
    """CREATE TABLE statement of raw.<kind>: provenance, text as read, extras, resolved values."""
    text_cols = ",\n    ".join(f'"{c.name}" varchar' for c in COLUMNS[kind])
    resolved = ",\n    ".join(f"{n} {t}" for n, t in RESOLVED[kind].items())
    return (
        f"create table if not exists raw.{kind} (\n    {PROVENANCE_DDL.strip()}\n    {text_cols},\n"
        f"    extra_columns varchar,\n    {resolved}\n)"
    )
