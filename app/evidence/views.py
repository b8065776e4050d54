"""Serving evidence photos to cadres and auditors of the photo's village (never public)."""
from flask import Blueprint, send_file
from flask_login import login_required

from app.accounts.access import scope
from app.evidence.models import Evidence
from app.evidence.services import file_path
from app.regions.queries import get_scoped_or_404

bp = Blueprint("evidence", __name__)


@bp.route("/evidence/<int:evidence_id>.jpg")
@login_required
def photo(evidence_id):
    evidence = get_scoped_or_404(Evidence, evidence_id, "village_id", scope())
    return send_file(file_path(evidence), mimetype="image/jpeg", max_age=3600)


@bp.route("/evidence/<int:evidence_id>_thumb.jpg")
@login_required
def thumb(evidence_id):
    evidence = get_scoped_or_404(Evidence, evidence_id, "village_id", scope())
    return send_file(file_path(evidence, thumb=True), mimetype="image/jpeg", max_age=3600)
