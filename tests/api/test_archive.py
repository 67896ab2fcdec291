"""Households' archives: the PDF (read back with pypdf) and an area's ZIP for a year."""

import csv
import io
import uuid
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from backend import display
from backend.extensions import object_store
from backend.services import attachments
from backend.services.errors import DomainError
from backend.services.policy import Actor
from backend.services.subsidies import payments
from tests import factories, images
from tests.api.test_workflow import (
    SIGNERS,
    TOWN_CHECKS,
    act,
    apply,
    days_ago,
    ok,
    publicize,
    qualify_appraisal,
    to_village_publicity,
)
from tests.api.test_workflow import attach as attach_form
from tests.api.test_workflow import (
    test_two_stage_acceptance_co_signed_then_paid_and_archived as walk_to_archived,
)
from tests.web import review_case

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
SECTIONS = ("地址情况", "农户情况", "改造情况", "资金情况")


def pdf_text(data: bytes) -> tuple[str, int]:
    """The PDF's text (spaces dropped: the form's cells break lines anywhere) and how many
    distinct images it embeds (pages may share one resource dictionary)."""
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    embedded = {image.indirect_reference.idnum for page in reader.pages
                for image in page.images}
    return "".join(text.split()), len(embedded)


def attach(db, actor, case, kind, data=PDF, filename="扫描件.pdf") -> str:
    attachment_id = str(uuid.uuid4())
    attachments.store_attachment(db.session, object_store(), actor, attachment_id, data,
                                 case_id=case.id, kind=kind, filename=filename,
                                 max_bytes=20 << 20)
    return attachment_id


@pytest.fixture
def rc(db):
    """A rebuild case with five photos before, during and after (two flagged), its
    application and identity papers on file and nothing else."""
    rc = review_case(db.session)
    inspector = Actor.of(rc.world.users["inspector"])
    attach(db, inspector, rc.case, "application_form", filename="申请书.pdf")
    attach(db, inspector, rc.case, "household_register", images.make_jpeg(seed=7), "户口簿.jpg")
    return rc


def test_archive_pdf_prints_the_form_the_photos_and_what_is_missing(client, rc):
    h = rc.world.households[rc.world.village_a1]
    r = client.get(f"/api/v1/households/{h.id}/archive.pdf",
                   headers=rc.world.headers("inspector"))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.headers["Cache-Control"] == "private, no-store"
    text, image_count = pdf_text(r.data)
    assert h.name in text and "东坪村" in text and "岱岳镇" in text and "山阴县" in text
    assert display.masked_id_number(h.id_number) in text and h.id_number not in text
    assert all(title in text for title in SECTIONS)
    assert "是否边境一线未登记" in text and "民族未登记" in text  # no value: said so
    assert "改造方式拆除重建" in text
    assert image_count == len(rc.photo_ids) - 1  # the reused photo is another household's
    for phase in ("改造前照片", "改造中照片", "改造后照片"):
        assert phase in text
    assert "拍摄位置距房屋过远" in text and "350米" in text  # the far photo, its distance
    assert "无位置信息" in text
    # 004 §五(四): the papers on file are found, the rest named as missing.
    assert "申请书.pdf" in text and "户口簿.jpg" in text
    assert "三方服务协议缺少—改造协议书" in text
    assert "竣工验收表缺少—竣工验收表" in text
    assert "质量安全巡查记录齐全施工巡查记录2次（改造前、改造中）" in text


def test_pii_right_reads_the_full_id_number(client, rc):
    h = rc.world.households[rc.world.village_a1]
    r = client.get(f"/api/v1/households/{h.id}/archive.pdf?year=2026",
                   headers=rc.world.headers("town_reviewer"))
    text, _ = pdf_text(r.data)
    assert h.id_number in text and "13912345678" in text


def test_paid_case_prints_its_payments_and_acceptance(client, db, rc):
    w = rc.world
    other = factories.household(db.session, w.village_a1, name="赵德胜")
    case = factories.case(db.session, other, status="accepted")
    case.subsidy_central_yuan = case.subsidy_yuan = Decimal("14000.00")
    case.planned_area_m2 = Decimal("45.00")
    db.session.commit()
    town = Actor.of(w.users["town_reviewer"])
    voucher = attach(db, town, case, "payment_voucher", filename="拨付凭证001.pdf")
    payments.record_payment(db.session, town, case.id, payments.PaymentInput(
        id=str(uuid.uuid4()), tranche="full", fund_level="central",
        amount_yuan=Decimal("14000.00"), paid_on=date(2026, 11, 20), voucher_id=voucher,
        payee_account="6228480012345"), today=date(2026, 11, 21))
    r = client.get(f"/api/v1/households/{other.id}/archive.pdf",
                   headers=w.headers("inspector"))
    text, images_in = pdf_text(r.data)
    assert "14,000.00" in text and "拨付凭证001.pdf" in text and "农户“一本通”账户" in text
    assert "6228480012345" not in text and "2345" in text  # the account masked
    assert "资金拨付凭证齐全" in text and images_in == 0
    assert "享受补助资金类型中央补助资金" in text and "是否已验收是（2026-03-10）" in text
    assert "已于2026-03-10验收（系统外办理，系统中没有签署记录）" in text


def test_the_procedure_is_printed_with_who_acted_objections_and_department_replies(client, db,
                                                                                  templates):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    qualify_appraisal(db, h)
    case_id = apply(client, w, on=days_ago(14))
    to_village_publicity(client, w, case_id, days_ago(14))
    objection = ok(act(client, w, case_id, "village_cadre", "record_objection", reporter="村民甲",
                       content="该户在县城有商品房", effective_on=days_ago(10)))["objections"][0]
    ok(act(client, w, case_id, "village_cadre", "resolve_objection", outcome="dismissed",
           objection_id=objection["id"], note="经专项调查，该房屋为其子所有",
           effective_on=days_ago(9)))
    ok(act(client, w, case_id, "village_cadre", "close", effective_on=days_ago(7)))
    # (to_department_check would post the village notice again: the rest by hand)
    attach_form(client, w, case_id, "review_form")
    ok(act(client, w, case_id, "town_reviewer", "pass", effective_on=days_ago(7),
           checks=TOWN_CHECKS))
    ok(publicize(client, w, case_id, "town_reviewer", on=days_ago(7)))
    ok(act(client, w, case_id, "town_reviewer", "close"))
    letter = attach_form(client, w, case_id, "department_reply", "department")
    ok(act(client, w, case_id, "department", "record_reply", department="civil_affairs",
           result="passed", note="非低保重复享受", attachment_ids=[letter]))
    r = client.get(f"/api/v1/households/{h.id}/archive.pdf", headers=w.headers("auditor"))
    text, _ = pdf_text(r.data)
    assert "登记申请" in text and "审核通过" in text and "测试用户（村干部）" in text
    assert "该户在县城有商品房" in text and "异议不成立" in text and "该房屋为其子所有" in text
    assert "民政" in text and "非低保重复享受" in text and "待回复" in text  # the rest wait
    assert all(s["name"] in text for s in SIGNERS)  # the appraisal's signatures


def test_an_archived_case_prints_its_acceptance_sign_offs_and_payment(client, db, templates):
    w = factories.world(db.session)
    walk_to_archived(client, db, w)  # accepted by the town, then 住建 and 财政 co-sign; paid
    h = w.households[w.village_a1]
    r = client.get(f"/api/v1/households/{h.id}/archive.pdf", headers=w.headers("finance"))
    text, _ = pdf_text(r.data)
    acceptance = text.split("签署单位签署人结论")[1].split("补助资金")[0]
    for signer in ("乡镇审核员", "县级管理员", "财政", "乡镇实地验收合格", "48.50平方米",
                   "52,000.00元", "乡镇验收人员岱岳镇李工", "农户王建国", "施工方/工匠赵师傅",
                   "改造后评定A级"):
        assert signer in acceptance, signer
    assert "6228480012345678" in text  # finance has the PII right
    assert "竣工验收表齐全" in text and "资金拨付凭证齐全" in text
    assert "县级审批文件" in text.split("县乡村三级审核评议及公示资料")[1].split("住房等级")[0]


def test_uploads_stay_strict_once_a_pdf_was_made(client, db, rc):
    """WeasyPrint's import tells Pillow to accept truncated images; the archive undoes it."""
    h = rc.world.households[rc.world.village_a1]
    assert client.get(f"/api/v1/households/{h.id}/archive.pdf",
                      headers=rc.world.headers("inspector")).status_code == 200
    inspector = Actor.of(rc.world.users["inspector"])
    with pytest.raises(DomainError) as refused:
        attach(db, inspector, rc.case, "income_proof", images.make_jpeg(800, 600)[:4000])
    assert refused.value.code == "corrupt_image"


def test_archive_of_a_year_without_a_case_is_404(client, rc):
    h = rc.world.households[rc.world.village_a1]
    r = client.get(f"/api/v1/households/{h.id}/archive.pdf?year=2020",
                   headers=rc.world.headers("county_admin"))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_household_without_a_case_gets_its_form_with_everything_missing(client, db, rc):
    lone = factories.household(db.session, rc.world.village_a2, name="钱有田")
    r = client.get(f"/api/v1/households/{lone.id}/archive.pdf",
                   headers=rc.world.headers("county_admin"))
    text, image_count = pdf_text(r.data)
    assert "钱有田" in text and "改造方式未登记" in text and image_count == 0
    assert text.count("该户没有改造项目") == 7  # every paper item; the visits say it otherwise


def test_zip_holds_a_folder_per_household_with_its_pdf_attachments_and_manifest(client, db,
                                                                              rc):
    w = rc.world
    second = factories.household(db.session, w.village_a2, name="孙建华")
    factories.case(db.session, second)
    factories.case(db.session, w.households[w.village_b1])  # another town: not in it
    r = client.get(f"/api/v1/archives.zip?region={w.town_a}&year=2026",
                   headers=w.headers("town_reviewer"), buffered=False)
    assert r.is_streamed and r.mimetype == "application/zip"
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    data = r.get_data()
    r.close()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        pdfs = [n for n in names if n.endswith(".pdf") and "/附件/" not in n]
        assert len(pdfs) == 2 and len({n.split("/")[0] for n in pdfs}) == 2
        first = next(n for n in pdfs if rc.case.household.name in n)
        folder = first.split("/")[0]
        assert sorted(n.removeprefix(folder + "/附件/") for n in names
                      if n.startswith(folder + "/附件/")) == ["01_申请书_申请书.pdf",
                                                            "02_户口簿及身份证明_户口簿.jpg"]
        assert zf.read(f"{folder}/附件/01_申请书_申请书.pdf") == PDF
        text, image_count = pdf_text(zf.read(first))
        assert rc.case.household.name in text and image_count == len(rc.photo_ids) - 1
        rows = list(csv.DictReader(io.StringIO(zf.read("清单.csv").decode("utf-8-sig"))))
    assert [row["户主"] for row in rows] == [rc.case.household.name, "孙建华"]
    assert rows[0]["农户申请"] == "有" and rows[0]["三方服务协议"] == "缺"
    assert rows[1]["档案是否齐全"] == "否" and "农户申请（申请书）" in rows[1]["缺少材料"]
    assert rows[0]["身份证号"] == rc.case.household.id_number  # the town reviewer has PII
    assert w.households[w.village_b1].name not in {row["户主"] for row in rows}


def test_zip_masks_id_numbers_without_the_pii_right(client, rc):
    w = rc.world
    r = client.get(f"/api/v1/archives.zip?region={w.village_a1}&year=2026",
                   headers=w.headers("village_cadre"))
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("清单.csv").decode("utf-8-sig"))))
    h = rc.case.household
    assert [row["身份证号"] for row in rows] == [display.masked_id_number(h.id_number)]


@pytest.mark.parametrize("query,status", [
    ("region=140621101000&year=2026", 404),  # town B: not the inspector's
    ("region=140621000000&year=2026", 404),  # the county is larger than the inspector's area
    ("region=999999999999&year=2026", 404),
    ("region=140621100000&year=1999", 422),
    ("region=140621100000", 422),
])
def test_zip_area_and_year_are_checked_before_streaming(client, rc, query, status):
    r = client.get(f"/api/v1/archives.zip?{query}", headers=rc.world.headers("inspector"))
    assert r.status_code == status and r.mimetype == "application/json"
