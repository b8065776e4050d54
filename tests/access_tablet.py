"""Access matrix rows of the tablet pages (issue 8); see tests/test_access.py."""
from flask import url_for

ROUTES = {
    "tablet.start": ("home", lambda i: url_for("tablet.start")),
    "tablet.finder": ("scoped+score", lambda i: url_for("tablet.finder",
                                                        village_id=i["village_id"])),
    "tablet.inspect": ("scoped+score", lambda i: url_for("tablet.inspect",
                                                         group_id=i["group"])),
    # GET: a CSRF token for the offline client; POST is tested in tests/test_tablet.py
    "tablet.sync": ("scoped+score", lambda i: url_for("tablet.sync",
                                                      village_id=i["village_id"])),
    "tablet.manifest": ("public", lambda i: url_for("tablet.manifest")),
    "tablet.service_worker": ("public", lambda i: url_for("tablet.service_worker")),
}


def ids(world):
    """An inspection scorecard in village A's rulebook, so the grid has columns."""
    from tests.tablet_fixtures import add_scorecard
    add_scorecard(world["village_a"])
    return {}
