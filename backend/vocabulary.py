"""The programme's code lists and their Chinese labels: one source for the models, the rules,
the API, the pages, the exports and (checked by `tests/web/test_app_vocabulary.py`) the phone.

Pure data: no Flask, no database, so every layer may import it. A dict maps a stable code to
the label users read; a tuple is a list whose values are themselves the words users read.
"""

from types import MappingProxyType

# --- households --------------------------------------------------------------------------
# 重点对象类别 in the seeds' priority order: a household with several counts once, under the
# first (DESIGN.md, "Target category").
CATEGORIES = {
    "lifted_supported": "脱贫享受政策户",
    "lifted_unstable": "脱贫不稳定户",
    "edge_at_risk": "边缘易致贫户",
    "dibao": "低保户",
    "tekun": "分散供养特困人员",
    "severe_hardship": "严重困难家庭",
    "dibao_edge": "低保边缘家庭",
    "other_lifted": "其他脱贫户",
    "ordinary": "一般农户",
}
TARGET_CATEGORIES = tuple(code for code in CATEGORIES if code != "ordinary")
STRUCTURE_TYPES = ("砖混", "砖木", "土木", "石木", "窑洞", "木结构", "钢混", "彩钢/简易")
LOCATION_SOURCES = {"inspector": "检查员现场定位", "photo": "首张可信照片", "import": "导入"}
# 住房安全性鉴定 grades; only C and D qualify for renovation.
GRADES = {"A": "A级（安全）", "B": "B级（基本安全）",
          "C": "C级（局部危险）", "D": "D级（整体危险）"}

# --- cases -------------------------------------------------------------------------------
METHODS = ("修缮加固", "拆除重建", "选址新建", "置换", "统建", "租赁/周转房", "抗震改造")
BUILD_MODES = ("自建", "统建")
# Methods that build a new house use the rebuild checklist; the rest use the repair one.
REBUILD_METHODS = ("拆除重建", "选址新建", "统建")
# A case's stage in its county's procedure (003 山阴 §四, 004 郯城 §二(二)); a county's workflow
# file chooses which are on, their order, periods and who acts (backend/workflows/).
STATUSES = {
    "application": "申请",
    "village_review": "村评议",
    "village_publicity": "村公示",
    "town_review": "乡镇审核",
    "town_publicity": "乡镇公示",
    "department_check": "部门比对",
    "approval": "审批",
    "county_publicity": "县级公示",
    "planned": "已列入计划",
    "agreement_signed": "已签订协议",
    "in_progress": "施工中",
    "completed": "已竣工待验收",
    "town_accepted": "乡镇已验收",
    "accepted": "已验收",
    "paid": "补助已拨付",
    "archived": "已归档",
    "rejected": "未通过",
    "cancelled": "已取消",
    "deferred": "转下一年度",
}
# Stages where a case has left the procedure without its works: from that day it counts
# neither as started nor as completed, and its subsidy is no longer owed.
EXIT_STATUSES = ("rejected", "cancelled", "deferred")
# Stages a case leaves only by a new application.
FINAL_STATUSES = ("archived", *EXIT_STATUSES)
# The works phase (改造前/中/后) a case is in, by status: what an inspector photographs next.
STATUS_PHASES = {
    **dict.fromkeys(("application", "village_review", "village_publicity", "town_review",
                     "town_publicity", "department_check", "approval", "county_publicity",
                     "planned", "agreement_signed"), "before"),
    "in_progress": "during",
    **dict.fromkeys(("completed", "town_accepted", "accepted", "paid", "archived"), "after"),
    **dict.fromkeys(("rejected", "cancelled", "deferred"), None),
}
# What an action on a case is called on the pages and in its history.
ACTION_LABELS = {
    "open": "登记申请",
    "submit": "提交申请",
    "pass": "审核通过",
    "return": "退回申请人",
    "reject": "不予通过",
    "post": "张榜公示",
    "record_objection": "登记异议",
    "resolve_objection": "处理异议",
    "close": "公示期满",
    "record_reply": "登记部门核查结果",
    "conclude": "比对完成",
    "approve": "批准",
    "file": "县级备案",
    "sign": "签订协议",
    "urge": "督促开工",
    "defer": "转下一年度",
    "start": "开工",
    "complete": "竣工",
    "accept": "验收合格",
    "fail": "验收不合格",
    "pay": "拨付补助",
    "archive": "归档",
    "cancel": "取消",
    "migrated": "系统外办理",
    "upload": "上传附件",
    "appraisal": "登记鉴定签字",
    "silence": "逾期未回复视为合格",
    "recover": "追回补助",
}
# The departments that check an applicant's identity (003 §四(四), 身份审查表).
DEPARTMENTS = {
    "civil_affairs": "民政",
    "disabled_persons": "残联",
    "market_regulation": "市场监管",
    "traffic_police": "交警",
    "housing": "住建",
    "natural_resources": "自然资源",
    "finance": "财政",
    "human_resources": "人社",
}
DEPARTMENT_RESULTS = {"pending": "待回复", "passed": "合格", "problem": "发现问题",
                      "passed_by_silence": "逾期未回复，视为合格"}
OBJECTION_STATUSES = {"open": "待处理", "upheld": "异议成立", "dismissed": "异议不成立"}
# Documents on a case; the archive lists of 003 §四(五)4 and 004 §五(四) name them.
ATTACHMENT_KINDS = {
    "application_form": "申请书",
    "household_register": "户口簿及身份证明",
    "income_proof": "低保/五保/残疾/收入证明",
    "head_photo": "户主照片",
    "meeting_minutes": "评议会议纪要",
    "publicity_photo": "公示照片",
    "review_form": "审核表",
    "department_reply": "部门核查回复",
    "appraisal_report": "鉴定报告",
    "approval_document": "审批文件",
    "agreement": "改造协议书",
    "urge_record": "督促开工记录",
    "acceptance_form": "竣工验收表",
    "payment_voucher": "拨付凭证",
    # 004 §四(三): paying the builder needs the household's signed consent.
    "payee_consent": "农户同意支付施工单位协议",
    "recovery_notice": "追回凭证",
    "objection_material": "异议材料",
    "other": "其他",
}

# --- money: subsidies, payments, recoveries ----------------------------------------------
# 资金级次, as the monthly report (004 附件1 columns 21–26) splits the funds.
FUND_LEVELS = {"central": "中央", "provincial": "省级", "below_provincial": "省级以下"}
# County funds per level and year: 已落实 (confirmed) and 已下达到县 (received), 004 附件1.
FUND_KINDS = {"confirmed": "已落实", "received": "已下达到县"}
# A payment's part of the approved subsidy; a county's file says which it uses (004 §四(三)).
TRANCHES = {"advance": "开工预拨", "balance": "验收后尾款", "full": "验收后全额拨付",
            "recovery": "追回"}
PAYEE_KINDS = {"household": "农户“一本通”账户", "builder": "施工单位"}
# A policy rule's force, from its wording: 不得/严禁 block, 原则上/一般 need a justification.
POLICY_LEVELS = {"hard": "强制（不得）", "soft": "原则上（需说明理由）", "report": "统计口径"}
POLICY_RESULTS = {"passed": "符合", "warned": "超出原则，需说明理由", "failed": "不符合",
                  "pending": "待核（数据未填）", "info": "统计"}
RECOVERY_STATUSES = {"open": "追回中", "recovered": "已追回"}

# --- visits and checklists ---------------------------------------------------------------
PHASES = {"before": "改造前", "during": "改造中", "after": "改造后"}
VISIT_KIND_LABELS = {
    "construction": "施工巡查/节点检查",
    "completion": "竣工验收",
    "appraisal": "鉴定",
    "routine_survey": "常规排查",
    "emergency_survey": "应急排查",
    "spot_check": "第三方核查/抽查",
}
# The phase a new visit of each kind starts in on the phone.
DEFAULT_PHASE = {"construction": "during", "completion": "after", "spot_check": "after",
                 "routine_survey": "before", "emergency_survey": "before", "appraisal": "before"}
RESULT_LABELS = {"pass": "合格", "fail": "不合格", "na": "不适用"}
OUTCOME_LABELS = {
    "safe": "安全",
    "suspected_danger": "疑似危房",
    "nobody_home": "无人在家（需复查）",
    "house_gone": "房屋已不存在",
    "new_found": "新发现",
}
REVIEW_STATES = {"submitted": "待审核", "approved": "已通过", "returned": "已退回"}
# A round's household counts as checked (已查) once visited with any outcome but these: nobody
# was reached, so it still has to be checked. One definition for the API, desk, XLSX and phone.
UNCHECKED_OUTCOMES = ("nobody_home",)

# --- survey rounds -----------------------------------------------------------------------
ROUND_KINDS = {"routine": "常规排查", "emergency": "应急排查", "spot_check": "随机抽查"}
# Rounds opened over an area; a spot-check round is opened by its draw, over its sample.
AREA_ROUND_KINDS = ("routine", "emergency")
# The visit kind that records a household's outcome in a round of each kind.
SURVEY_KINDS = {"routine": "routine_survey", "emergency": "emergency_survey",
                "spot_check": "spot_check"}

# --- photos ------------------------------------------------------------------------------
# Derived sizes (long edge in pixels) made at ingest; with the original, what can be fetched.
VARIANT_SIZES = MappingProxyType({"thumb": 320, "large": 1600})
VARIANTS = (*VARIANT_SIZES, "original")
FLAG_LABELS = {
    "no_position": "无位置信息",
    "low_accuracy": "定位精度差",
    "far_from_house": "拍摄位置距房屋过远",
    "exif_phone_mismatch": "相机GPS与手机定位不一致",
    "time_skew": "拍摄时间异常",
    "phase_order": "改造阶段时间顺序异常",
    "edited": "疑似经编辑软件处理",
    "reused_elsewhere": "疑似与其他农户照片重复",
    "exif_unreadable": "照片EXIF信息损坏",
    "low_information": "画面无内容（黑屏、白屏或空白墙面）",
    "phase_timing": "改造工期不合理",
    "mock_location": "疑似虚拟定位",
    "presence_unproven": "现场检查无任何定位",
}
FLAG_STATUS_LABELS = {"open": "待处理", "confirmed": "已确认", "dismissed": "已排除"}

# --- overdue work ------------------------------------------------------------------------
OVERDUE_LABELS = {
    "hazard_report": "发现隐患未按时上报",
    "hazard_appraise": "隐患未按时鉴定",
    "works_start": "签订协议后未按时开工",
    "payment": "验收后补助未按时拨付",
    "rectification": "整改超过时限",
}

# --- reports: the weekly ranking of towns -------------------------------------------------
# 000 武乡: 对农村危房改造开工率和竣工率同时排名后三位的乡镇，第一次全县通报批评，连续两次排名后三位
# 的在媒体上公开曝光，连续三次排名后三位的进行诫勉谈话. By consecutive weeks named: 1, 2, 3 or more.
NAMING_CONSEQUENCES = {"criticism": "全县通报批评", "exposure": "媒体公开曝光",
                       "admonition": "诫勉谈话"}
# --- people and places -------------------------------------------------------------------
ROLES = ("inspector", "village_cadre", "town_reviewer", "county_admin", "auditor", "finance",
         "department")
ROLE_LABELS = {
    "inspector": "检查员",
    "village_cadre": "村干部",
    "town_reviewer": "乡镇审核员",
    "county_admin": "县级管理员",
    "auditor": "核查员（只读）",
    "finance": "财政",
    "department": "部门核查员",
}
LEVELS = ("province", "prefecture", "county", "town", "village")
LEVEL_LABELS = {"province": "省", "prefecture": "市", "county": "县", "town": "乡镇",
                "village": "村"}
