from tests import factories


def test_region_tree_is_cut_to_my_area(client, db):
    w = factories.world(db.session)
    mine = client.get("/api/v1/regions", headers=w.headers("inspector")).get_json()
    assert [r["code"] for r in mine] == [w.town_a]
    assert [v["name"] for v in mine[0]["children"]] == ["东坪村", "西坪村"]
    county = client.get("/api/v1/regions", headers=w.headers("county_admin")).get_json()
    assert [r["code"] for r in county] == [w.county]
    assert len(county[0]["children"]) == 2
