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


@ledger_cli.command("verify")
@click.option("--village", "village_code", help="只检查这个村（村的代码）/ one village's code")
def ledger_verify(village_code):
    """Recompute hash chains, statuses and balances; report the first row that disagrees
    (with its id) and exit 1 on any fault. Prints each village's chain head."""
    from app.regions.models import Region
    from app.scoring.chain import chain_head
    from app.scoring.checks import verify
    village_id = None
    if village_code:
        village = Region.query.filter_by(code=village_code, level="village").one_or_none()
        if village is None:
            click.echo(f"no village with code {village_code}", err=True)
            sys.exit(2)
        village_id = village.id
    faults = verify(village_id)
    for fault in faults:
        click.echo(f"FAULT {fault}")
    villages = [village_id] if village_id else sorted(
        {v for (v,) in db.session.execute(db.select(Region.id).where(Region.level == "village"))})
    for vid in villages:
        seq, head = chain_head(vid)
        if seq:
            click.echo(f"chain head village {vid}: seq {seq} {head}")
    click.echo(f"{len(faults)} fault(s)")
    sys.exit(1 if faults else 0)


@ledger_cli.command("confirm-due")
def ledger_confirm_due():
    """Confirm every entry whose public notice has ended (run daily, e.g. from cron)."""
    from app.regions.models import Region
    from app.review.services import confirm_due
    total = 0
    for (vid,) in db.session.execute(db.select(Region.id).where(Region.level == "village")):
        total += confirm_due(vid)
    db.session.commit()
    click.echo(f"confirmed {total} entr{'y' if total == 1 else 'ies'}")


def register_cli(app):
    """Attach the command groups to ``app``."""
    from app.ops.cli import register_ops_cli
    register_ops_cli(app)
    app.cli.add_command(demo_cli)
    app.cli.add_command(ledger_cli)
    from app.rules.cli import register as register_rules_cli
    register_rules_cli(app)
