"""The desk pages of the case procedure: 待办, the case page's workflow panel and its action
forms (documents uploaded in the same form), the application form, the publicity list."""

import io
import re
from datetime import timedelta

import pytest

from backend.models import Attachment, Case, Publicity
from backend.models.base import china_today
from tests import factories
from tests.web import login_as

TODAY = china_today()
PDF = b"%PDF-1.4\n1 0 obj\n%%EOF\n"


@pytest.fixture
def world(db, templates):
    return factories.world(db.session)


def post_action(client, csrf, case_id, action, files=(), **fields):
    data = {"csrf": csrf, "action": action, **fields}
    for kind in files:
        data[f"doc-{kind}"] = (io.BytesIO(PDF + kind.encode()), f"{kind}.pdf")
    return client.post(f"/review/cases/{case_id}/actions", data=data,
                       content_type="multipart/form-data")


def page(client, case_id) -> str:
    r = client.get(f"/review/cases/{case_id}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_the_application_form_registers_a_case_with_its_family_and_documents(client, db, world):
    w = world
    h = w.households[w.village_a1]
    csrf = login_as(client, db, w.users["village_cadre"])
    form = client.get(f"/review/households/{h.id}/apply").get_data(as_text=True)
    assert "登记改造申请" in form and "data-id-number" in form
    data = {"csrf": csrf, "year": str(TODAY.year), "applicant": h.name, "method": "拆除重建",
            "build_mode": "自建", "reason": "墙体开裂、屋面漏雨", "own_funds_yuan": "3000",
            "member-0-name": "王小明", "member-0-id_number": "110105194912310021",
            "member-0-relation": "子", "house_area_m2": "48.5",
            "doc-application_form": (io.BytesIO(PDF), "申请书.pdf")}
    r = client.post(f"/review/households/{h.id}/apply", data=data,
                    content_type="multipart/form-data")
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "校验位" in text and 'value="墙体开裂' not in text and "墙体开裂、屋面漏雨" in text
    assert db.session.query(Case).count() == 0
    data["member-0-id_number"] = factories.id_number()
    data["doc-application_form"] = (io.BytesIO(PDF), "申请书.pdf")
    r = client.post(f"/review/households/{h.id}/apply", data=data,
                    content_type="multipart/form-data")
    assert r.status_code == 303, r.get_data(as_text=True)
    case = db.session.query(Case).one()
    assert case.status == "application" and case.application["members"][0]["relation"] == "子"
    assert case.application["own_funds_yuan"] == "3000.00"
    assert [a.kind for a in db.session.query(Attachment)] == ["application_form"]
    text = page(client, case.id)
    assert "当前环节：申请" in text and "提交申请" in text


def test_the_apply_page_refuses_a_role_without_the_right_and_a_household_elsewhere(
        client, db, world):
    w = world
    login_as(client, db, w.users["inspector"])
    assert client.get(f"/review/households/{w.households[w.village_a1].id}/apply"
                      ).status_code == 403
    login_as(client, db, w.users["town_reviewer"])
    assert client.get(f"/review/households/{w.households[w.village_b1].id}/apply"
                      ).status_code == 404


def test_actions_from_the_case_page_with_documents_and_refusals_explained(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="planned")
    csrf = login_as(client, db, w.users["town_reviewer"])
    text = page(client, case.id)
    assert "签订协议" in text and "改造协议书（必需）" in text
    r = post_action(client, csrf, case.id, "sign")
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "签订协议未办理" in text and "缺少改造协议书" in text
    r = post_action(client, csrf, case.id, "sign", files=["agreement"], note="三方协议已签")
    assert r.status_code == 303 and r.headers["Location"].endswith("notice=acted#workflow")
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "agreement_signed"
    text = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已办理" in text and "改造协议书" in text and "三方协议已签" in text
    doc = db.session.query(Attachment).one()
    r = client.get(f"/review/attachments/{doc.id}")
    assert r.status_code == 200 and r.data == PDF + b"agreement"
    assert r.headers["Cache-Control"] == "private, no-store"


def test_publicity_is_posted_with_its_photo_and_listed_for_printing(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="village_publicity")
    csrf = login_as(client, db, w.users["village_cadre"])
    r = post_action(client, csrf, case.id, "post", files=["publicity_photo"],
                    report_phone="0349-7021234")
    assert r.status_code == 303
    notice = db.session.query(Publicity).one()
    assert notice.posted_on == TODAY and notice.notice_attachment_id
    sheet = client.get("/review/publicity?level=village_publicity").get_data(as_text=True)
    h = w.households[w.village_a1]
    assert h.name in sheet and "0349-7021234" in sheet
    assert h.id_number not in sheet and h.id_number[-4:] in sheet  # masked on a public notice
    assert f"{TODAY} 至 {TODAY + timedelta(days=7)}" in sheet
    r = post_action(client, csrf, case.id, "close")
    assert r.status_code == 422 and "公示期未满" in r.get_data(as_text=True)


def test_todo_lists_my_steps_with_their_due_dates_in_words(client, db, world):
    w = world
    late = factories.case(db.session, w.households[w.village_a1], status="town_review")
    db.session.get(Case, late.id).due_on = TODAY - timedelta(days=3)
    soon = factories.case(db.session, w.households[w.village_a2], status="completed")
    db.session.get(Case, soon.id).due_on = TODAY + timedelta(days=2)
    db.session.commit()
    login_as(client, db, w.users["town_reviewer"])
    text = client.get("/review/todo").get_data(as_text=True)
    assert "已超期 3 天" in text and "还剩" in text
    first, second = re.findall(r'href="/review/cases/(\d+)#workflow"', text)[:2]
    assert (int(first), int(second)) == (late.id, soon.id)  # overdue first
    login_as(client, db, w.users["inspector"])
    assert "暂无待办事项" in client.get("/review/todo").get_data(as_text=True)


def test_an_action_on_a_case_elsewhere_is_not_found(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_b1], status="planned")
    csrf = login_as(client, db, w.users["town_reviewer"])
    assert post_action(client, csrf, case.id, "cancel", note="x").status_code == 404
    assert client.get(f"/review/cases/{case.id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "planned"


def test_documents_are_added_to_a_case_whatever_its_stage(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="completed")
    csrf = login_as(client, db, w.users["town_reviewer"])
    assert "上传附件" in page(client, case.id)
    r = client.post(f"/review/cases/{case.id}/attachments", content_type="multipart/form-data",
                    data={"csrf": csrf, "kind": "acceptance_form",
                          "file": [(io.BytesIO(PDF), "验收表.pdf"), (io.BytesIO(PDF + b"2"),
                                                                   "验收表2.pdf")]})
    assert r.status_code == 303
    assert sorted(a.filename for a in db.session.query(Attachment)) == ["验收表.pdf",
                                                                        "验收表2.pdf"]
    r = client.post(f"/review/cases/{case.id}/attachments", content_type="multipart/form-data",
                    data={"csrf": csrf, "kind": "acceptance_form",
                          "file": (io.BytesIO(b"<html>"), "x.pdf")})
    assert r.status_code == 415 and "PDF" in r.get_data(as_text=True)
    login_as(client, db, w.users["auditor"])
    assert "上传附件" not in page(client, case.id)


def test_odd_form_input_is_refused_not_crashed(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="village_publicity")
    csrf = login_as(client, db, w.users["village_cadre"])
    r = post_action(client, csrf, case.id, "post", files=["publicity_photo"],
                    report_phone="0" * 31)
    assert r.status_code == 422 and "张榜公示未办理" in r.get_data(as_text=True)
    r = post_action(client, csrf, case.id, "post", files=["publicity_photo"],
                    report_phone="0349-1", note="公示\x00照片")
    assert r.status_code == 422 and "控制字符" in r.get_data(as_text=True)
    r = post_action(client, csrf, case.id, "resolve_objection", objection_id="9" * 25,
                    outcome="upheld", note="x")
    assert r.status_code == 422
    db.session.expire_all()
    assert db.session.query(Publicity).count() == 0


def test_a_bad_document_refuses_the_application_before_anything_is_stored(client, db, world):
    w = world
    h = w.households[w.village_a1]
    csrf = login_as(client, db, w.users["village_cadre"])
    r = client.post(f"/review/households/{h.id}/apply", content_type="multipart/form-data",
                    data={"csrf": csrf, "year": str(TODAY.year), "applicant": h.name,
                          "method": "拆除重建", "build_mode": "自建", "reason": "危房",
                          "doc-application_form": (io.BytesIO(b"GIF89a..."), "a.gif")})
    assert r.status_code == 415
    assert db.session.query(Case).count() == 0 and db.session.query(Attachment).count() == 0


def test_a_cancelled_case_leaves_the_publicity_list(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="village_publicity")
    csrf = login_as(client, db, w.users["village_cadre"])
    assert post_action(client, csrf, case.id, "post", files=["publicity_photo"],
                       report_phone="0349-7021234").status_code == 303
    h = w.households[w.village_a1]
    assert h.name in client.get("/review/publicity").get_data(as_text=True)
    csrf = login_as(client, db, w.users["town_reviewer"])
    assert post_action(client, csrf, case.id, "cancel", note="农户放弃").status_code == 303
    assert h.name not in client.get("/review/publicity").get_data(as_text=True)


def test_the_appraisal_is_signed_and_filed_from_the_case_page(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="approval")
    appraisal_id = case.appraisal_id
    csrf = login_as(client, db, w.users["town_reviewer"])
    text = page(client, case.id)
    assert "登记鉴定报告签字" in text and 'name="filed_on"' not in text  # the county files
    r = client.post(f"/review/appraisals/{appraisal_id}", data={
        "csrf": csrf, "case_id": str(case.id), "sign-民主监督员": "赵一", "sign-村委负责人": "钱二",
        "sign-乡镇负责人": "孙三"})
    assert r.status_code == 303
    csrf = login_as(client, db, w.users["county_admin"])
    r = client.post(f"/review/appraisals/{appraisal_id}", data={
        "csrf": csrf, "case_id": str(case.id), "sign-民主监督员": "赵一", "sign-村委负责人": "钱二",
        "sign-乡镇负责人": "孙三", "filed_on": TODAY.isoformat()})
    assert r.status_code == 303
    from backend.models import Appraisal

    db.session.expire_all()
    a = db.session.get(Appraisal, appraisal_id)
    assert len(a.signatures) == 3 and a.filed_on == TODAY
    csrf = login_as(client, db, w.users["town_reviewer"])
    assert post_action(client, csrf, case.id, "approve").status_code == 422  # not funded yet
    r = client.post(f"/review/cases/{case.id}/funding", data={
        "csrf": csrf, "central": "14000", "provincial": "0", "below_provincial": "0",
        "planned_area_m2": "45"})
    assert r.status_code == 303
    assert post_action(client, csrf, case.id, "approve").status_code == 303
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "planned"


def test_huge_numbers_in_desk_forms_and_paths_are_not_errors(client, db, world):
    w = world
    login_as(client, db, w.users["county_admin"])
    assert client.get(f"/review/users/{10**20}/edit").status_code == 404
    assert client.get(f"/review/cases/{10**20}").status_code == 404
