"""Published boards for villagers (no login).

- ``/h/<token>/boards``: reached by a household's door-plate token; shows its village's
  boards under public notice and published, the black board included. This is what a
  village's "black board for the village only" privacy means: only pages reached by a
  door-plate token of that village (its villagers) show the black board.
- ``/villages/<id>/notice-wall``: the no-login notice wall of a village's published boards:
  the red board always; the black board and its "not yet corrected" list only when the
  village made the black board public. Names are shown as frozen at publication (masked
  when the village masks names).
"""
from flask import abort, render_template

from app.boards.models import STATUS_LABELS, BoardPublication
from app.boards.periods import KIND_LABELS
from app.boards.queries import publications_of
from app.boards.services import privacy_of
from app.boards.views import bp
from app.extensions import db
from app.households.queries import household_for_token
from app.regions.models import Region
from app.security import private_page, qr_capability


def _household(token):
    household = household_for_token(token)
    if household is None:
        abort(404)
    return household


@bp.route("/h/<token>/boards")
@qr_capability
def public_list(token):
    """The household's village boards (newest first), the newest shown in full."""
    household = _household(token)
    pubs = publications_of(household.village_id, public=True)
    return render_template("boards/public_board.html", village=household.village, pubs=pubs,
                           pub=pubs[0] if pubs else None, token=token, show_black=True,
                           kinds=KIND_LABELS, statuses=STATUS_LABELS)


@bp.route("/h/<token>/boards/<int:publication_id>")
@qr_capability
def public_board(token, publication_id):
    """One board of the household's village (under notice, published or superseded)."""
    household = _household(token)
    pub = db.session.get(BoardPublication, publication_id)
    if pub is None or pub.village_id != household.village_id or pub.status in ("draft",
                                                                               "reviewed"):
        abort(404)
    return render_template("boards/public_board.html", village=household.village,
                           pubs=publications_of(household.village_id, public=True), pub=pub,
                           token=token, show_black=True, kinds=KIND_LABELS,
                           statuses=STATUS_LABELS)


@bp.route("/villages/<int:village_id>/notice-wall")
@private_page
def notice_wall(village_id):
    """A village's published boards without login; the black board only when public."""
    village = db.session.get(Region, village_id)
    if village is None or village.level != "village":
        abort(404)
    pubs = [p for p in publications_of(village.id, public=True) if p.status == "published"]
    return render_template("boards/public_board.html", village=village, pubs=pubs,
                           pub=pubs[0] if pubs else None, token=None,
                           show_black=privacy_of(village.id).black_public,
                           kinds=KIND_LABELS, statuses=STATUS_LABELS)
