"""The region tree (行政区划): one table, materialized paths for scoping."""
from flask_babel import lazy_gettext as _l

from app.extensions import db

LEVELS = ("city", "county", "township", "village", "group")
LEVEL_NAMES = {
    "city": _l("市"), "county": _l("县（区）"), "township": _l("乡镇（街道）"),
    "village": _l("村"), "group": _l("村民小组"),
}


class Region(db.Model):
    """A node of the region tree.

    ``code`` is the official statistical code where one exists (12 digits for a village,
    9 for a township); functional zones (高新区, 经开区, 湾里管理局) and villager groups get
    codes of our own. ``parent`` is the unit that *manages* the node, which for townships in a
    functional zone differs from the statistical county; ``statistical_code`` keeps the latter.
    ``path`` is ``/<id>/<id>/.../`` from the root: a user scoped to region R sees every
    region whose path starts with R's path.
    """

    __tablename__ = "region"

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(32), nullable=False, unique=True)
    name = db.Column(db.String(64), nullable=False)
    level = db.Column(db.String(16), nullable=False)
    parent_id = db.Column(db.Integer, db.ForeignKey("region.id"), index=True)
    path = db.Column(db.String(255), nullable=False, default="", index=True)
    statistical_code = db.Column(db.String(32))
    is_functional_zone = db.Column(db.Boolean, nullable=False, default=False)
    pilot_quota = db.Column(db.Integer)
    is_pilot = db.Column(db.Boolean, nullable=False, default=False)
    sort_order = db.Column(db.Integer, nullable=False, default=0)

    parent = db.relationship("Region", remote_side=[id], backref="children")

    def __repr__(self):
        return f"<Region {self.level} {self.code} {self.name}>"

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES.get(self.level, self.level)

    def ancestors(self):
        """Regions from the root down to this one's parent (a list, root first)."""
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def contains(self, other: "Region") -> bool:
        """True when ``other`` is this region or lies below it."""
        return other is not None and other.path.startswith(self.path)

    def village(self):
        """The village this region belongs to (itself for a village), else None."""
        if self.level == "village":
            return self
        if self.level == "group":
            return self.parent
        return None
