"""Replay a phone's exported outbox (待上传数据) through the API, as the phone itself would.

The last resort when a phone cannot upload for days: the inspector exports the outbox to a JSON
file and an administrator imports it with `flask import-outbox`. Each item goes through the same
routes, validation and idempotency as the phone's own upload (photos and visits by their UUID,
a house found on the spot by its ID number), so importing a file twice, or importing it after
the phone has synced, stores nothing twice.
"""

import base64
import binascii
import io
from dataclasses import dataclass, field

# The form fields the phone sends beside a photo's bytes (frontend/static/app/outbox.js).
PHOTO_FIELDS = ("household_id", "phase", "case_id", "visit_id", "node", "item", "captured_at",
                "lat", "lon", "accuracy_m", "fix_at", "sha256")
ORDER = {"discovery": 0, "photo": 1, "visit": 2}


@dataclass
class ItemResult:
    kind: str
    id: str
    status: int | None  # the API's answer; None when the item could not be sent at all
    message: str

    @property
    def stored(self) -> bool:
        return self.status in (200, 201)


@dataclass
class ReplayReport:
    results: list[ItemResult] = field(default_factory=list)

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.results if not r.stored]


class NotAnExport(ValueError):
    """The file is not what the phone's 导出待上传数据 writes."""


def read_export(data) -> tuple[list[dict], str | None]:
    """Check the exported file's shape; return its items and the username it names."""
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("body", {}), dict) for i in items):
        raise NotAnExport("不是手机导出的待上传数据文件")
    user = data.get("user")
    return items, user.get("username") if isinstance(user, dict) else None


def replay(client, token: str, items: list[dict]) -> ReplayReport:
    """Send every item in the phone's order: houses found on the spot, photos, visits."""
    headers = {"Authorization": f"Bearer {token}"}
    report = ReplayReport()
    registered: dict[str, int] = {}  # a found house's local reference -> its household id
    for item in sorted(items, key=lambda i: (ORDER.get(i.get("type"), 9),
                                             str(i.get("created_at", "")))):
        kind, item_id = item.get("type"), str(item.get("id", ""))
        household = item.get("household_id")
        if kind != "discovery" and isinstance(household, str):
            if household not in registered:
                report.results.append(ItemResult(kind, item_id, None, "所属新发现农户未能登记"))
                continue
            household = registered[household]
        if kind == "discovery":
            response = client.post(f"/api/v1/rounds/{item.get('round_id')}/discoveries",
                                   json=item.get("body"), headers=headers)
            if response.status_code == 201:
                registered[item_id] = response.get_json()["household"]["id"]
        elif kind == "photo":
            response = _put_photo(client, headers, item, household)
        elif kind == "visit":
            response = client.put(f"/api/v1/visits/{item_id}", headers=headers,
                                  json={**item.get("body", {}), "household_id": household})
        else:
            report.results.append(ItemResult(str(kind), item_id, None, "未知的条目类型"))
            continue
        report.results.append(ItemResult(kind, item_id, response.status_code,
                                         _describe(response)))
    return report


def _put_photo(client, headers, item, household):
    try:
        data = base64.b64decode(item.get("bytes") or "", validate=True)
    except (binascii.Error, ValueError):
        data = b""
    form = {key: str(item[key]) for key in PHOTO_FIELDS if item.get(key) not in (None, "")}
    form["household_id"] = str(household)
    form["file"] = (io.BytesIO(data), f"{item.get('id')}.jpg", "image/jpeg")
    return client.put(f"/api/v1/photos/{item.get('id')}", data=form, headers=headers,
                      content_type="multipart/form-data")


def _describe(response) -> str:
    if response.status_code == 201:
        return "已导入"
    if response.status_code == 200:
        return "服务器已有，未重复导入"
    error = (response.get_json(silent=True) or {}).get("error", {})
    fields = error.get("fields") or {}
    detail = "；".join(f"{k}：{v}" for k, v in fields.items()) if fields else ""
    return f"{error.get('message', response.status)}{'（' + detail + '）' if detail else ''}"
