"""Every domain error raised by services, and the one table from each to its HTTP status.

Each error has a stable machine `code` and a default message in Chinese for the user.
`fields` names the input fields at fault; `details` carries the numbers behind the refusal.
The API (`backend/api/errors.py`) and the desk pages (`backend/web/desk`) both answer with
`status_of(error)`, so a refusal has the same status wherever it is met.
"""

from backend import storage
from backend.storage import StorageError


class DomainError(Exception):
    code = "bad_request"
    message = "请求有误"
    retry_after: int | None = None  # seconds, sent as Retry-After when set

    def __init__(self, message: str | None = None, *, fields: dict | None = None, **details):
        self.message = message or self.message
        self.fields = fields or {}
        self.details = details
        super().__init__(self.message)


# --- input ---------------------------------------------------------------------------
class InvalidInput(DomainError):
    code = "invalid_input"
    message = "提交的内容有误"


class NotFound(DomainError):
    code = "not_found"
    message = "找不到该记录"


class OutsideScope(NotFound):
    """A resource outside the caller's area: reported as not found, so nothing leaks."""


class Forbidden(DomainError):
    code = "forbidden"
    message = "没有权限执行此操作"


class Conflict(DomainError):
    code = "conflict"
    message = "与已保存的记录冲突"


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"
    message = "分页参数无效，请从第一页重新加载"


class InvalidImportFile(InvalidInput):
    code = "invalid_import_file"
    message = "导入文件无法读取，请上传 CSV 或 XLSX 文件"


class DuplicateHousehold(Conflict):
    code = "duplicate_household"
    message = "该身份证号的农户已登记"


class NotEligible(DomainError):
    code = "not_eligible"
    message = "该户不符合改造条件"


class InvalidTransition(DomainError):
    code = "invalid_transition"
    message = "该项目当前环节不能办理此事项"


# --- the case procedure ------------------------------------------------------------------
class WorkflowBlocked(DomainError):
    """A rule of the procedure holds the action back; `details["reasons"]` lists each."""

    code = "workflow_blocked"
    message = "办理条件尚未满足"


class DocumentsMissing(WorkflowBlocked):
    code = "documents_missing"
    message = "缺少本环节需要的材料"


class DepartmentsPending(WorkflowBlocked):
    code = "departments_pending"
    message = "部门比对尚未完成"


class AppraisalRequired(WorkflowBlocked):
    code = "appraisal_required"
    message = "鉴定不符合要求"


class PublicityPeriodNotOver(WorkflowBlocked):
    code = "publicity_period_not_over"
    message = "公示期未满"


class ObjectionOpen(WorkflowBlocked):
    code = "objection_open"
    message = "公示期间的异议尚未处理完毕"


class AcceptanceBlocked(WorkflowBlocked):
    code = "acceptance_blocked"
    message = "不符合验收条件"


class PolicyViolation(WorkflowBlocked):
    """A hard rule of the county's policy (不得、严禁) fails; `reasons` cite each."""

    code = "policy_violation"
    message = "不符合政策规定"


class JustificationRequired(WorkflowBlocked):
    """A soft rule (原则上、一般) is exceeded: the action needs a written justification."""

    code = "justification_required"
    message = "超出政策原则的事项须书面说明理由"


# --- money -------------------------------------------------------------------------------
class SubsidyLocked(Conflict):
    code = "subsidy_locked"
    message = "补助已经批准，不能再修改"


class PaymentNotDue(WorkflowBlocked):
    code = "payment_not_due"
    message = "该笔款项尚不能拨付"


class OverPayment(WorkflowBlocked):
    code = "over_payment"
    message = "拨付金额超过核定补助"


class PaymentConflict(Conflict):
    code = "payment_conflict"
    message = "该拨付记录编号已用于内容不同的另一笔款项"


class AttachmentConflict(Conflict):
    code = "attachment_conflict"
    message = "该附件编号已用于另一个文件"


class UnsupportedDocumentType(DomainError):
    code = "unsupported_document_type"
    message = "附件只能是 PDF、JPEG 或 PNG 文件"


class AttachmentTooLarge(DomainError):
    code = "attachment_too_large"
    message = "附件文件过大"


# --- reports -----------------------------------------------------------------------------
class WeekClosed(Conflict):
    """A week's ranking is what was announced that week (000 一周一通报): fixed once over."""

    code = "week_closed"
    message = "该周已结束，排名已固定，不能重新生成"


class SpotCheckDrawn(Conflict):
    """A sample is drawn once per area, year and purpose (003 §七(三) 随机抽取): drawing again
    until a convenient sample comes out is what the stored seed is there to prevent."""

    code = "spot_check_drawn"
    message = "该地区该年度已为同一目的抽取过样本，不能重新抽取"


# --- visits and rounds ---------------------------------------------------------------
class VisitConflict(Conflict):
    code = "visit_conflict"
    message = "该检查记录编号已用于内容不同的另一条记录"


class VisitRejected(InvalidInput):
    code = "visit_invalid"
    message = "检查记录未通过校验"


class InvalidAnswer(InvalidInput):
    code = "invalid_answer"
    message = "补交的记录须回应同一农户一条已退回的检查记录"


class RoundNotClosable(Conflict):
    code = "round_has_unvisited"
    message = "仍有农户未排查且未说明原因，不能结束本轮排查"


# --- accounts ------------------------------------------------------------------------
class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    message = "用户名或密码错误"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    message = "请先登录"


class TokenExpired(Unauthenticated):
    code = "token_expired"
    message = "登录已过期，请重新登录"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    message = "登录失败次数过多，请稍后再试"


# --- photos --------------------------------------------------------------------------
class PhotoConflict(Conflict):
    code = "photo_conflict"
    message = "该照片编号已用于另一张照片"


class PhotoTooLarge(DomainError):
    code = "photo_too_large"
    message = "照片文件过大"


class UnsupportedImageType(DomainError):
    code = "unsupported_image_type"
    message = "不支持的文件类型，请上传 JPEG、PNG、HEIC 或 WebP 照片"


class ImageTooManyPixels(DomainError):
    code = "image_too_many_pixels"
    message = "照片像素过多"


class CorruptImage(DomainError):
    code = "corrupt_image"
    message = "照片文件已损坏或不完整，无法读取"


class ChecksumMismatch(DomainError):
    code = "checksum_mismatch"
    message = "照片校验值不一致，上传过程中文件可能已损坏，请重试"


# --- infrastructure ------------------------------------------------------------------
class StorageUnavailable(DomainError):
    code = "storage_unavailable"
    message = "照片存储暂时不可用，请稍后重试"
    retry_after = 30


class DatabaseUnavailable(DomainError):
    code = "database_unavailable"
    message = "数据库暂时不可用，请稍后重试"
    retry_after = 30


class UploadCollided(DomainError):
    """Another upload wrote a flag on the same stored photo at the same moment (one flag per
    code a photo): nothing of this one was kept, and the phone's retry goes through."""

    code = "upload_collided"
    message = "另一张照片正在同时处理，请稍后重试"
    retry_after = 2


def from_storage(error: StorageError) -> DomainError:
    """The domain error a user reads for a store's refusal or failure."""
    if isinstance(error, storage.ChecksumMismatch):
        return ChecksumMismatch(**error.details)
    return StorageUnavailable()


# --- HTTP status of each error (the most specific class listed wins) ---------------------
STATUS = {
    InvalidInput: 422,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    InvalidCredentials: 401,
    Unauthenticated: 401,
    TooManyAttempts: 429,
    PhotoTooLarge: 413,
    UnsupportedImageType: 415,
    ImageTooManyPixels: 422,
    CorruptImage: 422,
    ChecksumMismatch: 422,
    NotEligible: 422,
    InvalidTransition: 409,
    WorkflowBlocked: 422,
    UnsupportedDocumentType: 415,
    AttachmentTooLarge: 413,
    StorageUnavailable: 503,
    DatabaseUnavailable: 503,
    UploadCollided: 503,
}


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400
