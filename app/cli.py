"""Command-line tools: ``flask demo load``, ``flask demo accounts``, ``flask ledger check``."""
import sys

import click
from flask.cli import AppGroup

from app.extensions import db

demo_cli = AppGroup("demo", help="演示数据 / demo data")
ledger_cli = AppGroup("ledger", help="台账检查 / ledger checks")


def _print_accounts():
    from app.accounts.models import User
    from app.demo.loader import DEMO_PASSWORD
    click.echo("演示账号 / demo accounts (password 密码: %s)" % DEMO_PASSWORD)
    for user in User.query.order_by(User.id):
        click.echo(f"  {user.username:<14} {user.role_label}  {user.region.name}")


@demo_cli.command("load")
def demo_load():
    """Load the demo village when the database is empty; otherwise leave it alone."""
    from app.demo.loader import is_empty, load_demo
    if is_empty():
        load_demo()
        db.session.commit()
        click.echo("已载入演示数据 / demo data loaded")
    else:
        click.echo("数据库已有数据，未载入演示数据 / database not empty, demo not loaded")
    _print_accounts()


@demo_cli.command("accounts")
def demo_accounts():
    """Print the demo accounts."""
    _print_accounts()


@ledger_cli.command("check")
def ledger_check():
    """Recompute every household's balance from its entries; exit 1 on any difference."""
    from app.scoring.checks import balance_faults
    faults = balance_faults()
    for household_id, stored, computed in faults:
        click.echo(f"household {household_id}: stored {stored} != entries {computed}")
    click.echo(f"{len(faults)} fault(s)")
    sys.exit(1 if faults else 0)


def register_cli(app):
    """Attach the command groups to ``app``."""
    app.cli.add_command(demo_cli)
    app.cli.add_command(ledger_cli)
