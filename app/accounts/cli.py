"""``flask users ...``: accounts from the command line, for the first system admin of a new
installation and for recovery when nobody who could reset a password can log in."""
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.accounts import credentials
from app.accounts.models import User
from app.accounts.passwords import password_problems
from app.accounts.roles import ROLES
from app.accounts.services import create_user
from app.extensions import db
from app.logs import log_event

users_cli = AppGroup("users", help="账号 / accounts")


def _ask_password(username: str) -> str:
    while True:
        password = click.prompt("密码 / password", hide_input=True,
                                confirmation_prompt="再输一遍 / again")
        problems = [str(p) for p in password_problems(password, username)]
        if not problems:
            return password
        for problem in problems:
            click.echo(problem, err=True)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(list(ROLES)), default="system_admin",
              show_default=True)
@click.option("--region", "region_code", required=True,
              help="地区代码 / region code, e.g. 3601 for 南昌市")
@click.option("--name", "display_name", required=True, help="姓名或单位 / display name")
def users_create(username, role, region_code, display_name):
    """Create an account (asks for the password twice; the password rules apply)."""
    from app.regions.models import Region
    region = db.session.execute(select(Region).where(Region.code == region_code)) \
        .scalar_one_or_none()
    if region is None:
        click.echo(f"no region with code {region_code}", err=True)
        sys.exit(2)
    if db.session.execute(select(User.id).where(User.username == username)).first():
        click.echo(f"username {username} is taken", err=True)
        sys.exit(2)
    try:
        user = create_user(username=username, password=_ask_password(username),
                           display_name=display_name, role=role, region=region)
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    credentials.login_state(user)
    log_event("account_created", target_user_id=user.id, by="cli", role=role)
    db.session.commit()
    click.echo(f"created {username} ({role}, {region.name})")


@users_cli.command("set-password")
@click.argument("username")
def users_set_password(username):
    """Set a new password (asks twice), lift a lock, reactivate, end all sessions."""
    user = db.session.execute(select(User).where(User.username == username)) \
        .scalar_one_or_none()
    if user is None:
        click.echo(f"no user {username}", err=True)
        sys.exit(2)
    password = _ask_password(username)
    credentials.set_password(user, password, by=user)
    user.is_active_flag = True
    db.session.commit()
    click.echo(f"password of {username} set; lock lifted; other sessions ended")
