"""What users read, in one place: personal data masked for callers without the PII right,
local times, distances, durations and the numbers behind a photo flag, in Chinese.

The API's schemas, the desk pages (as template globals), the XLSX exports and the archive
all call these, so a phone number or a distance reads the same everywhere. Masking happens
here and nowhere else (a test holds that).
"""

from datetime import date, datetime
from decimal import Decimal

from backend.models.base import CHINA_TZ
from backend.services import policy
from backend.services.policy import Actor
from backend.services.workflow.calendar import working_days_between
from backend.vocabulary import VISIT_KIND_LABELS

EMPTY = "—"


# --- personal data -------------------------------------------------------------------------
def masked_id_number(number: str) -> str:
    """The address code and the last four characters only: 1404**********123X."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def masked_phone(number: str) -> str:
    """The middle four digits of a mobile number hidden: 138****5678."""
    return number if len(number) < 11 else number[:3] + "****" + number[7:]


def masked_account(number: str) -> str:
    """A bank or 一本通 account with only its last four digits shown."""
    return "*" * max(len(number) - 4, 0) + number[-4:]


def id_number(number: str | None, actor: Actor) -> str | None:
    """An ID number, in full only for a caller with the PII right."""
    if not number or actor.can(policy.PII):
        return number
    return masked_id_number(number)


def phone(number: str | None, actor: Actor) -> str | None:
    if not number or actor.can(policy.PII):
        return number
    return masked_phone(number)


def account(number: str | None, actor: Actor) -> str | None:
    if not number or actor.can(policy.PII):
        return number
    return masked_account(number)


# --- money ---------------------------------------------------------------------------------
def yuan(value: Decimal | None) -> str:
    """An amount in yuan with thousands separators and two decimals: 14,000.00."""
    if value is None:
        return EMPTY
    return f"{Decimal(value):,.2f}"


# --- times, distances, durations -----------------------------------------------------------
def local_time(moment: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC moment as China's wall-clock time; a date as YYYY-MM-DD."""
    if moment is None:
        return EMPTY
    if isinstance(moment, datetime):
        return moment.astimezone(CHINA_TZ).strftime(fmt)
    return moment.isoformat()


def camera_time(text: str | None) -> str:
    """The camera's own wall-clock time as written in EXIF ("2026-12-01T00:15:00"), in the one
    format the pages use ("2026-12-01 00:15"); it has no zone, so it is not converted."""
    if not text:
        return EMPTY
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return text


def duration_words(minutes: float | None) -> str:
    """A span of minutes as people say it: 25 分钟, 约 5 小时, 约 122 天."""
    if minutes is None:
        return EMPTY
    minutes = abs(float(minutes))
    if minutes < 90:
        return f"{minutes:.0f} 分钟"
    if minutes < 48 * 60:
        return f"约 {minutes / 60:.0f} 小时"
    return f"约 {minutes / 1440:.0f} 天"


def metres(value: float | None) -> str:
    if value is None:
        return EMPTY
    return f"{value / 1000:.1f} 公里" if value >= 1000 else f"{value:.0f} 米"


def overdue_words(due_on: date, today: date) -> str:
    """How late something due on `due_on` is: 已逾期 3 天."""
    return f"已逾期 {(today - due_on).days} 天"


def due_words(due_on: date | None, today: date, *, working: bool = False) -> str:
    """A step's due date in words: 还剩 2 个工作日, 今天到期, 已超期 3 天."""
    if due_on is None:
        return "无时限"
    if due_on < today:
        return f"已超期 {(today - due_on).days} 天"
    if due_on == today:
        return "今天到期"
    if working:
        return f"还剩 {working_days_between(today, due_on)} 个工作日"
    return f"还剩 {(due_on - today).days} 天"


# --- photo flags ---------------------------------------------------------------------------
TIME_PROBLEMS = {
    "exif_vs_capture": "相机时间与手机时间相差 {span}",
    "capture_in_future": "手机时间比上传时间晚 {span}",
    "exif_in_future": "相机时间比上传时间晚 {span}",
    "late_upload": "拍摄 {days} 天后才上传",
}


def flag_photo_ids(flag) -> list[str]:
    """The other photos a flag points at: a reused photo's look-alikes, a repeated fix's
    photo."""
    d = flag.details or {}
    if flag.code == "reused_elsewhere":
        return [m["photo_id"] for m in d.get("matches", []) if m.get("photo_id")]
    if flag.code == "mock_location" and d.get("photo_id"):
        return [d["photo_id"]]
    return []


OUTSIDE_AREA_PHOTO = "辖区以外农户的照片"


def photo_words(photo_id: str | None, refs: dict | None, default: str) -> str:
    """Another photo as a reviewer knows it (王建国户 3号照片), from `refs` (photo id to
    services.photos.flags.PhotoRef, read in the viewer's area): a photo looked up and not
    there lies outside the area; without `refs` (or an id), `default`."""
    if refs is None or not photo_id:
        return default
    ref = refs.get(photo_id)
    return str(ref) if ref else OUTSIDE_AREA_PHOTO


def match_measure(match: dict) -> str:
    """How near a look-alike is, and how it was copied (services/photos/reuse.py)."""
    limit = f"，在 {match['limit']} 位以内即列为疑似重复" if "limit" in match else ""
    how = ["两张之一裁去了部分边缘" if match.get("cropped") else "",
           "左右镜像翻转" if match.get("mirrored") else ""]
    return (f"画面特征（64 位）相差 {match.get('distance')} 位{limit}"
            + "".join(f"；{w}" for w in how if w))


def flag_detail(flag, refs: dict | None = None) -> str:
    """The numbers behind a flag, in words; `refs` names the other photos it points at."""
    d = flag.details or {}
    if flag.code == "far_from_house":
        source = "相机GPS" if d.get("source") == "exif" else "手机定位"
        return f"按{source}距房屋 {metres(d.get('distance_m'))}（限 {metres(d.get('limit_m'))}）"
    if flag.code == "low_accuracy":
        return f"定位精度 {metres(d.get('accuracy_m'))}（限 {metres(d.get('limit_m'))}）"
    if flag.code == "exif_phone_mismatch":
        return f"相机GPS与手机定位相距 {metres(d.get('distance_m'))}"
    if flag.code == "time_skew":
        return "；".join(TIME_PROBLEMS.get(p.get("kind"), "时间异常").format_map(
            {"span": duration_words(p.get("minutes")), "days": p.get("days")})
            for p in d.get("problems", []))
    if flag.code == "phase_order":
        if d.get("before_photo_taken_at"):
            return "改造后照片的拍摄时间早于改造前照片"
        return f"改造后照片拍摄于开工日期（{d.get('works_started_on')}）之前"
    if flag.code == "edited":
        return f"EXIF软件：{d.get('software')}"
    if flag.code == "reused_elsewhere":
        matches = d.get("matches", [])
        return (f"与其他农户的 {len(matches)} 张照片高度近似，疑为同一张照片用于多户。"
                + "。".join(f"{photo_words(m.get('photo_id'), refs, '另一农户的照片')}："
                           f"{match_measure(m)}" for m in matches))
    if flag.code == "exif_unreadable":
        return f"原因：{d.get('reason')}"
    if flag.code == "no_position":
        return "照片没有手机定位，也没有相机GPS"
    return _evidence_detail(flag.code, d, refs)


def _gap_words(start: str | None, end: str | None, days: float | None) -> str:
    """Days between two stored moments: under a day in minutes or hours, else to a tenth."""
    try:
        minutes = (datetime.fromisoformat(end) - datetime.fromisoformat(start)
                   ).total_seconds() / 60
    except (TypeError, ValueError):  # naive beside aware, or missing: the stored figure
        minutes = None if days is None else days * 1440
    if minutes is None:
        return EMPTY
    return duration_words(minutes) if minutes < 1440 else f"{minutes / 1440:.1f} 天"


def _stored_moment(text: str | None) -> str:
    """A moment a flag's details hold as ISO text: China time if it has a zone, else as the
    camera wrote it."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return EMPTY
    return local_time(moment) if moment.tzinfo else camera_time(text)


def _evidence_detail(code: str, d: dict, refs: dict | None) -> str:
    """Issue 20's flags: the numbers, and what they suggest to a reviewer."""
    if code == "low_information":
        return (f"画面细节 {d.get('detail')}（低于 {d.get('limit')} 视为无内容）：黑屏、白屏、"
                "镜头盖或空白墙面不能证明现场情况，也不参与重复照片比对")
    if code == "phase_timing" and d.get("kind") == "works_too_short":
        return (f"改造后照片拍摄于开工（{d.get('works_started_on')}）后第 {d.get('days')} 天，"
                f"短于最短工期 {d.get('limit_days')} 天：可能并未完工，或照片不是本户的")
    if code == "phase_timing":
        gap = _gap_words(d.get("before_photo_taken_at"), d.get("taken_at"), d.get("days"))
        before = _stored_moment(d.get("before_photo_taken_at"))
        return (f"改造后照片与改造前照片（拍摄于 {before}）仅相隔 {gap}（少于 "
                f"{d.get('limit_days')} 天）：改造前后照片可能为同一次拍摄")
    if code == "mock_location" and d.get("kind") == "zero_accuracy":
        return "手机报告的定位精度恰为 0 米：真实定位总有误差，常见于虚拟定位软件"
    if code == "mock_location":
        name = photo_words(d.get("photo_id"), refs, "")
        if d.get("other_day"):
            other = f"另一天拍摄的{name or '照片'}"
        else:
            other = f"另一农户的照片（{name}）" if name not in ("", OUTSIDE_AREA_PHOTO) \
                else name or "另一农户的照片"
        return (f"定位 {d.get('lat')}, {d.get('lon')} 与{other}分毫不差："
                "真实定位每次都会略有不同，疑为虚拟定位")
    if code == "presence_unproven":
        kind = VISIT_KIND_LABELS.get(d.get("visit_kind"), "该检查")
        return (f"{kind}须到现场，但检查记录、照片手机定位和相机GPS均无位置，"
                "无法证明检查人到过现场")
    return ""
