"""The user pages under /review: the county administrator lists, creates and edits users and
their areas, deactivates and reactivates them, and resets passwords."""

import re

import pytest

from backend.models import AuditEvent, User
from tests import factories
from tests.web import login_as


@pytest.fixture
def world(db):
    return factories.world(db.session)



def api_login(client, username, password):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def new_user_form(csrf, regions, **over) -> dict:
    return {"csrf": csrf, "username": "zhao_dp", "name": "赵东坪", "phone": "13700002222",
            "role": "inspector", "regions": regions, "password": "", **over}


def shown_password(text: str) -> str:
    return re.search(r'<code id="new-password">([^<]+)</code>', text)[1]


def test_only_a_county_admin_manages_users(client, db, world):
    w = world
    target = w.users["inspector"]
    for role in ("town_reviewer", "auditor", "inspector"):
        csrf = login_as(client, db, w.users[role])
        for url in ("/review/users", "/review/users/new", f"/review/users/{target.id}/edit"):
            r = client.get(url)
            assert r.status_code == 403, (role, url)
            assert "没有权限" in r.get_data(as_text=True)
        r = client.post("/review/users/new", data=new_user_form(csrf, [w.village_a1]))
        assert r.status_code == 403
        r = client.post(f"/review/users/{target.id}/active", data={"csrf": csrf, "active": "0"})
        assert r.status_code == 403
    assert db.session.query(User).filter_by(username="zhao_dp").count() == 0
    db.session.expire_all()
    assert db.session.get(User, target.id).active


def test_the_list_holds_the_users_inside_my_area(client, db, world):
    w = world
    town_admin = factories.user(db.session, "county_admin", [w.town_a], username="admin_a")
    in_b = factories.user(db.session, "inspector", [w.village_b1], username="insp_b")
    both = factories.user(db.session, "inspector", [w.village_a1, w.town_b], username="insp_ab")
    login_as(client, db, town_admin)
    text = client.get("/review/users").get_data(as_text=True)
    listed = set(re.findall(r'<tr id="user-(\d+)"', text))
    assert str(w.users["inspector"].id) in listed and str(w.users["village_cadre"].id) in listed
    assert {str(in_b.id), str(both.id), str(w.users["county_admin"].id)}.isdisjoint(listed)
    assert "岱岳镇东坪村" in text and "（本人）" in text
    login_as(client, db, w.users["county_admin"])
    text = client.get("/review/users").get_data(as_text=True)
    assert {str(in_b.id), str(both.id), str(town_admin.id)} <= set(
        re.findall(r'<tr id="user-(\d+)"', text))


def test_create_a_user_with_a_generated_password_shown_once(client, db, world):
    w = world
    csrf = login_as(client, db, w.users["county_admin"])
    page = client.get("/review/users/new").get_data(as_text=True)
    for code in (w.county, w.town_a, w.village_a1, w.village_b2):
        assert f'name="regions" value="{code}"' in page
    assert 'value="auditor" required> 核查员（只读）</label>' in page
    r = client.post("/review/users/new", data=new_user_form(csrf, [w.village_a1, w.village_a2]))
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    password = shown_password(text)
    assert "已创建用户 zhao_dp" in text and "密码只显示这一次" in text
    user = db.session.query(User).filter_by(username="zhao_dp").one()
    assert (user.name, user.role, user.phone, user.active) == ("赵东坪", "inspector",
                                                                "13700002222", True)
    assert sorted(r.code for r in user.regions) == [w.village_a1, w.village_a2]
    assert api_login(client, "zhao_dp", password).status_code == 200
    events = db.session.query(AuditEvent).filter_by(
        entity="user", entity_id=str(user.id)).order_by(AuditEvent.id).all()
    assert [e.action for e in events] == ["create", "login"]
    assert password not in str([e.changes for e in events])
    assert password not in client.get(f"/review/users/{user.id}/edit").get_data(as_text=True)

    r = client.post("/review/users/new", data=new_user_form(
        csrf, [w.town_b], username="qian", password="typed-pass-77"))
    assert r.status_code == 200 and 'id="new-password"' not in r.get_data(as_text=True)
    assert api_login(client, "qian", "typed-pass-77").status_code == 200


def test_create_refusals_name_each_field_and_keep_what_was_typed(client, db, world):
    w = world
    csrf = login_as(client, db, w.users["county_admin"])
    r = client.post("/review/users/new", data=new_user_form(
        csrf, [], username="赵 东", name="赵东坪", role="mayor", password="short"))
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    errors = dict(re.findall(r'<span class="field-error" id="(\w+)-error">(.+?)</span>', text))
    assert set(errors) == {"username", "role", "regions", "password"}
    assert errors["regions"] == "请至少选择一个负责区域"
    assert 'value="赵 东"' in text and 'value="赵东坪"' in text and 'value="13700002222"' in text
    assert 'value="short"' not in text  # a password is never sent back
    r = client.post("/review/users/new", data=new_user_form(csrf, [w.village_a1],
                                                            username="inspector"))
    assert r.status_code == 422 and "用户名已存在" in r.get_data(as_text=True)
    assert db.session.query(User).count() == 7


def test_an_admin_cannot_grant_an_area_outside_their_own(client, db, world):
    w = world
    town_admin = factories.user(db.session, "county_admin", [w.town_a], username="admin_a")
    csrf = login_as(client, db, town_admin)
    page = client.get("/review/users/new").get_data(as_text=True)
    assert f'value="{w.town_a}"' in page and f'value="{w.village_a2}"' in page
    for code in (w.county, w.town_b, w.village_b1):
        assert f'value="{code}"' not in page  # not offered
    r = client.post("/review/users/new", data=new_user_form(csrf, [w.village_a1, w.town_b]))
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "不能分配您管辖范围以外的区域" in text and f'value="{w.village_a1}" checked' in text
    assert db.session.query(User).filter_by(username="zhao_dp").count() == 0

    inspector = w.users["inspector"]
    form = {"csrf": csrf, "name": "检查员", "phone": "", "role": "inspector",
            "regions": [w.town_a, w.county]}
    r = client.post(f"/review/users/{inspector.id}/edit", data=form)
    assert r.status_code == 422 and "不能分配您管辖范围以外的区域" in r.get_data(as_text=True)
    db.session.expire_all()
    assert [r.code for r in db.session.get(User, inspector.id).regions] == [w.town_a]


def test_a_user_outside_my_area_is_not_found(client, db, world):
    w = world
    town_admin = factories.user(db.session, "county_admin", [w.town_a], username="admin_a")
    outsider = factories.user(db.session, "inspector", [w.village_b1], username="insp_b")
    csrf = login_as(client, db, town_admin)
    assert client.get(f"/review/users/{outsider.id}/edit").status_code == 404
    for action, data in (("active", {"active": "0"}), ("password", {})):
        r = client.post(f"/review/users/{outsider.id}/{action}", data={"csrf": csrf, **data})
        assert r.status_code == 404, action
    db.session.expire_all()
    assert db.session.get(User, outsider.id).active


def test_edit_name_phone_role_and_regions(client, db, world):
    w = world
    inspector = w.users["inspector"]
    csrf = login_as(client, db, w.users["county_admin"])
    page = client.get(f"/review/users/{inspector.id}/edit").get_data(as_text=True)
    assert f'value="{w.town_a}" checked' in page and 'value="inspector" checked' in page
    form = {"csrf": csrf, "name": "孙审核", "phone": "13600003333", "role": "town_reviewer",
            "regions": [w.town_b, w.village_a1]}
    r = client.post(f"/review/users/{inspector.id}/edit", data=form)
    assert r.status_code == 303 and r.headers["Location"].endswith("/edit?notice=saved")
    db.session.expire_all()
    user = db.session.get(User, inspector.id)
    assert (user.name, user.phone, user.role) == ("孙审核", "13600003333", "town_reviewer")
    assert sorted(r.code for r in user.regions) == sorted([w.town_b, w.village_a1])
    event = db.session.query(AuditEvent).filter_by(entity="user", action="update").one()
    assert event.changes["role"] == ["inspector", "town_reviewer"]
    assert event.changes["regions"] == [[w.town_a], sorted([w.town_b, w.village_a1])]
    assert "已保存用户信息" in client.get(r.headers["Location"]).get_data(as_text=True)
    r = client.post(f"/review/users/{inspector.id}/edit", data={**form, "name": "", "regions": []})
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "请填写姓名" in text and "请至少选择一个负责区域" in text
    assert 'value="13600003333"' in text


def test_a_deactivated_user_is_logged_out_and_cannot_log_in(client, db, world):
    w = world
    inspector = w.users["inspector"]
    phone_token = w.tokens["inspector"]
    assert client.get("/api/v1/me", headers=w.headers("inspector")).status_code == 200
    csrf = login_as(client, db, w.users["county_admin"])
    r = client.post(f"/review/users/{inspector.id}/active", data={"csrf": csrf, "active": "0"})
    assert r.status_code == 303 and r.headers["Location"].endswith("?notice=deactivated")
    assert "已停用该用户" in client.get(r.headers["Location"]).get_data(as_text=True)
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {phone_token}"})
    assert r.status_code == 401
    assert api_login(client, "inspector", factories.PASSWORD).status_code == 401
    event = db.session.query(AuditEvent).filter_by(entity="user", action="deactivate").one()
    assert event.changes == {"revoked_tokens": 1}
    text = client.get("/review/users").get_data(as_text=True)
    assert f'<tr id="user-{inspector.id}" class="inactive">' in text

    r = client.post(f"/review/users/{inspector.id}/active", data={"csrf": csrf, "active": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith("?notice=reactivated")
    assert api_login(client, "inspector", factories.PASSWORD).status_code == 200
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {phone_token}"})
    assert r.status_code == 401  # a revoked token stays revoked


def test_an_admin_cannot_deactivate_themself_or_change_their_role(client, db, world):
    w = world
    admin = w.users["county_admin"]
    csrf = login_as(client, db, admin)
    page = client.get(f"/review/users/{admin.id}/edit").get_data(as_text=True)
    assert "停用该用户" not in page and "重置密码" not in page
    r = client.post(f"/review/users/{admin.id}/active", data={"csrf": csrf, "active": "0"})
    assert r.status_code == 422 and "不能停用自己的账号" in r.get_data(as_text=True)
    r = client.post(f"/review/users/{admin.id}/edit", data={
        "csrf": csrf, "name": "管理员", "phone": "", "role": "auditor", "regions": [w.county]})
    assert r.status_code == 422 and "不能修改自己的角色" in r.get_data(as_text=True)
    db.session.expire_all()
    me = db.session.get(User, admin.id)
    assert me.active and me.role == "county_admin"
    assert client.get("/review/users").status_code == 200  # still logged in


def test_reset_a_password(client, db, world):
    w = world
    inspector = w.users["inspector"]
    csrf = login_as(client, db, w.users["county_admin"])
    r = client.post(f"/review/users/{inspector.id}/password", data={"csrf": csrf})
    assert r.status_code == 200
    password = shown_password(r.get_data(as_text=True))
    assert client.get("/api/v1/me", headers=w.headers("inspector")).status_code == 401
    assert api_login(client, "inspector", factories.PASSWORD).status_code == 401
    assert api_login(client, "inspector", password).status_code == 200
    event = db.session.query(AuditEvent).filter_by(action="reset_password").one()
    assert event.entity_id == str(inspector.id) and password not in str(event.changes)


def test_a_department_clerk_needs_their_department(client, db):
    from backend.models import User
    from tests import factories

    w = factories.world(db.session)
    csrf = login_as(client, db, w.users["county_admin"])
    data = {"csrf": csrf, "username": "jiaojing", "name": "交警大队核查员", "phone": "",
            "role": "department", "regions": [w.county]}
    r = client.post("/review/users/new", data=data)
    assert r.status_code == 422 and "所属部门" in r.get_data(as_text=True)
    r = client.post("/review/users/new", data={**data, "department": "traffic_police"})
    assert r.status_code in (200, 303), r.get_data(as_text=True)[:300]
    assert db.session.query(User).filter_by(username="jiaojing").one().department == \
        "traffic_police"
