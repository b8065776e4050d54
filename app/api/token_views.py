"""The page where a logged-in user creates and revokes their own API tokens (a token is
shown once, on the page the creation redirects to). Thin: ``api.tokens`` does the work."""
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from app.api import tokens
from app.api.models import ApiToken
from app.audit.services import log_action
from app.extensions import db

bp = Blueprint("api_tokens", __name__)
NEW_TOKEN_KEY = "new_api_token"   # the token just created, until the page has shown it


class NewTokenForm(FlaskForm):
    name = StringField(_l("令牌名称（如：一组平板、县平台对接）"),
                       validators=[DataRequired(_l("请填写令牌名称")),
                                   Length(max=64, message=_l("名称最多 64 个字"))])


class RevokeForm(FlaskForm):
    token_id = HiddenField(validators=[DataRequired()])


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@login_required
def index():
    """List the user's tokens; POST ``action=create`` makes one and redirects (Post/Redirect/
    Get: a reload sends nothing again) to this page, which shows the new token once (kept in
    the session until then, popped when shown); ``action=revoke`` revokes one of the user's
    own tokens (another's is a 404)."""
    form, revoke_form = NewTokenForm(), RevokeForm()
    action = request.form.get("action")
    user = current_user._get_current_object()
    if action == "create" and form.validate_on_submit():
        row, new_token = tokens.create_token(user, form.name.data)
        log_action(user, "api_token.create", region=user.region_id, target=row,
                   after={"name": row.name, "prefix": row.prefix})
        db.session.commit()
        session[NEW_TOKEN_KEY] = new_token
        return redirect(url_for("api_tokens.index"))
    elif action == "revoke" and revoke_form.validate_on_submit():
        row = db.session.get(ApiToken, _int(revoke_form.token_id.data))
        if row is None or row.user_id != user.id:
            abort(404)
        tokens.revoke_token(row)
        log_action(user, "api_token.revoke", region=user.region_id, target=row,
                   after={"name": row.name, "prefix": row.prefix})
        db.session.commit()
        flash(_("已撤销令牌“%(name)s”，用它的设备和系统立即无法再访问。", name=row.name), "success")
        return redirect(url_for("api_tokens.index"))
    new_token = session.pop(NEW_TOKEN_KEY, None) if request.method == "GET" else None
    return render_template("api/tokens.html", form=form, revoke_form=revoke_form,
                           new_token=new_token, rows=tokens.tokens_of(user))


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
