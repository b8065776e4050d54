"""Browsing the region tree within the user's scope."""
from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy import func, select

from app.accounts.access import scope
from app.extensions import db
from app.households.models import Household
from app.regions import queries
from app.regions.models import Region

bp = Blueprint("regions", __name__)


def _household_counts(region, kids):
    """{region id: active households at or below it} for ``region`` and ``kids``, in one query
    (counts per village, summed by path prefix)."""
    per_village = db.session.execute(
        select(Region.path, func.count(Household.id))
        .join(Household, Household.village_id == Region.id)
        .where(Region.path.startswith(region.path), Household.status == "active")
        .group_by(Region.id, Region.path)
    ).all()
    counts = {r.id: sum(n for path, n in per_village if path.startswith(r.path))
              for r in [region, *kids]}
    if region.level == "village":
        counts.update(db.session.execute(
            select(Household.group_id, func.count(Household.id))
            .where(Household.village_id == region.id, Household.status == "active")
            .group_by(Household.group_id)
        ).all())
    return counts


@bp.route("/regions/<int:region_id>")
@login_required
def show(region_id):
    """A region's page: its children (with household counts) or, for a village, its groups."""
    region = queries.region_or_404(region_id, scope())
    if region.level == "group":
        region = region.parent
    kids = queries.children(region)
    return render_template("regions/show.html", region=region, children=kids,
                           counts=_household_counts(region, kids))
