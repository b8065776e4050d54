"""Account pages: admins manage the accounts in their scope (see accounts.manage); everyone
changes their own password. Thin: the writes are in accounts.services / credentials."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.accounts import credentials, manage
from app.accounts.access import require
from app.accounts.login_state import LoginState
from app.accounts.manage_forms import (ActiveForm, ChangePasswordForm, NewUserForm,
                                       ResetPasswordForm)
from app.accounts.models import User
from app.accounts.roles import ROLE_LABELS, ROLES
from app.accounts.services import create_user
from app.accounts.views import start_session
from app.audit.services import account_state, log_action
from app.extensions import db, limiter
from app.logs import log_event
from app.regions.models import LEVEL_NAMES
from app.security import rate

bp = Blueprint("users", __name__)


@bp.route("/users")
@require("manage_users")
def index():
    """The accounts the current admin manages, with their state."""
    users = db.session.execute(manage.managed_users_stmt(current_user)).scalars().all()
    states = {s.user_id: s for s in db.session.execute(
        select(LoginState).where(LoginState.user_id.in_([u.id for u in users]))).scalars()}
    now = credentials.utcnow()
    locked = {uid for uid, s in states.items()
              if s.locked_until and credentials.aware(s.locked_until) > now}
    return render_template("users/index.html", users=users, states=states, locked=locked,
                           active_form=ActiveForm())


def _fill_choices(form):
    roles = manage.manageable_roles(current_user)
    form.role.choices = [SelectChoice(r, str(ROLE_LABELS[r])) for r in roles]
    regions = manage.region_choices(current_user)
    grouped = len({r.level for r, _label in regions}) > 1
    form.region.choices = [
        SelectChoice(r.id, label, optgroup=str(LEVEL_NAMES[r.level]) if grouped else None)
        for r, label in regions]
    return {r.id: r for r, _label in regions}


@bp.route("/users/new", methods=["GET", "POST"])
@require("manage_users")
def new():
    """Create an account with a role and region within the admin's scope."""
    form = NewUserForm()
    regions = _fill_choices(form)
    if form.validate_on_submit():
        region = regions.get(form.region.data)
        level = ROLES[form.role.data]["level"]
        taken = db.session.execute(select(User.id).where(
            User.username == form.username.data.strip())).first()
        if taken:
            form.username.errors.append(_("用户名“%(u)s”已经有人用了，请换一个",
                                          u=form.username.data))
        elif region is None:
            abort(404)
        elif region.level != level:
            form.region.errors.append(_("%(role)s只能设在%(level)s一级，请重新选择所属地区",
                                        role=ROLE_LABELS[form.role.data],
                                        level=LEVEL_NAMES[level]))
        else:
            user = create_user(username=form.username.data.strip(),
                               password=form.password.data,
                               display_name=form.display_name.data.strip(),
                               role=form.role.data, region=region,
                               phone=form.phone.data or None)
            credentials.login_state(user)
            log_action(current_user, "user.create", region=region, target=user,
                       after=account_state(user))
            log_event("account_created", target_user_id=user.id, by_user_id=current_user.id,
                      role=user.role, region_id=region.id)
            db.session.commit()
            flash(_("已创建账号 %(u)s（%(role)s，%(region)s）。请把用户名和密码当面告诉本人。",
                    u=user.username, role=user.role_label, region=region.name), "success")
            return redirect(url_for("users.index"))
    return render_template("users/new.html", form=form)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@require("manage_users")
def reset_password(user_id):
    """Set a new password for an account (also lifts a lock); its sessions end."""
    user = manage.managed_user_or_404(current_user, user_id)
    form = ResetPasswordForm()
    form.target_username = user.username
    if form.validate_on_submit():
        revoked = credentials.set_password(user, form.password.data, by=current_user)
        log_action(current_user, "user.password_reset", region=user.region_id, target=user)
        db.session.commit()
        flash(_("已重置 %(u)s 的密码，并解除锁定。请把新密码当面告诉本人。", u=user.username),
              "success")
        if revoked:
            flash(_("%(u)s 的 %(n)s 个 API 令牌已一并撤销。", u=user.username, n=revoked),
                  "warning")
        return redirect(url_for("users.index"))
    return render_template("users/reset.html", form=form, user=user)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@require("manage_users")
def set_active(user_id):
    """Deactivate an account (its sessions end at once) or reactivate it."""
    user = manage.managed_user_or_404(current_user, user_id)
    form = ActiveForm()
    if form.validate_on_submit():
        active = form.active.data == "1"
        credentials.set_active(user, active, by=current_user)
        log_action(current_user, "user.activate" if active else "user.deactivate",
                   region=user.region_id, target=user, after={"is_active": active})
        db.session.commit()
        flash(_("已启用账号 %(u)s。", u=user.username) if active
              else _("已停用账号 %(u)s：他（她）已无法登录。", u=user.username), "success")
    return redirect(url_for("users.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(rate("RATELIMIT_LOGIN"), methods=["POST"])
def change_my_password():
    """Change one's own password: the other sessions of the account end, this one stays."""
    form = ChangePasswordForm()
    form.target_username = current_user.username
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("现在的密码不正确"))
            log_event("password_change_refused", target_user_id=current_user.id)
        else:
            user = current_user._get_current_object()
            revoked = credentials.set_password(user, form.password.data)
            start_session(user)
            db.session.commit()
            flash(_("密码已修改。其他设备上的登录已经失效，需要用新密码重新登录。"), "success")
            if revoked:
                flash(_("您的 %(n)s 个 API 令牌已一并撤销，平板和对接系统需要换用新令牌。",
                        n=revoked), "warning")
            return redirect(url_for("accounts.home"))
    return render_template("users/password.html", form=form)
