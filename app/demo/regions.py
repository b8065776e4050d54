"""Load the real region tree of 南昌市 from the bundled CSV files (see data/SOURCES.md).

The pilot notice's quota table has 12 county-level units while the statistical tree has 9:
高新区, 经开区 and 湾里管理局 are functional zones. A zone is a county-level node of its own
(our code ``3601-XX``) and holds the townships it manages; those keep their official codes,
and ``statistical_code`` keeps the official county they belong to.
"""
import csv
from importlib import resources

from app.regions.services import get_or_add_region

CITY_CODE, CITY_NAME = "3601", "南昌市"
ZONES = {"高新区": "3601-GX", "经开区": "3601-JK", "湾里管理局": "3601-WL"}
# Townships that a functional zone manages (data/SOURCES.md).
MANAGED_BY_ZONE = {"昌东镇": "高新区", "麻丘镇": "高新区", "蛟桥街道": "经开区",
                   "招贤镇": "湾里管理局", "梅岭镇": "湾里管理局", "罗亭镇": "湾里管理局",
                   "太平镇": "湾里管理局"}


def _rows(name):
    text = resources.files("app.demo").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def load_region_tree():
    """Create 南昌市, its 12 county-level units with pilot quotas, its 139 townships and the
    87 sample villages. Idempotent: existing codes are kept. Returns the city Region."""
    city = get_or_add_region(code=CITY_CODE, name=CITY_NAME, level="city")
    townships = _rows("nanchang_townships.csv")
    county_codes = {r["county_name"]: r["county_code"] for r in townships}
    counties = {}
    for row in _rows("nanchang_pilot_quota.csv"):
        name = row["county_name"]
        zone = name in ZONES
        counties[name] = get_or_add_region(
            code=ZONES.get(name) or county_codes[name], name=name, level="county", parent=city,
            is_functional_zone=zone, pilot_quota=int(row["pilot_village_quota"]),
            sort_order=int(row["seq"]))
    by_code = {}
    for pos, row in enumerate(townships):
        manager = counties[MANAGED_BY_ZONE.get(row["township_name"], row["county_name"])]
        by_code[row["township_code"]] = get_or_add_region(
            code=row["township_code"], name=row["township_name"], level="township",
            parent=manager, statistical_code=row["county_code"], sort_order=pos)
    for pos, row in enumerate(_rows("nanchang_villages_sample.csv")):
        get_or_add_region(code=row["village_code"], name=row["village_name"], level="village",
                          parent=by_code[row["township_code"]],
                          statistical_code=row["township_code"], sort_order=pos)
    return city
