"""``flask --app wsgi reports ...``: configure pilot rounds from the command line."""
from datetime import date

import click

from app.extensions import db


def register(bp):
    """Attach the ``reports`` commands to the blueprint's CLI group."""

    @bp.cli.command("add-round")
    @click.argument("name")
    @click.argument("starts_on")
    @click.argument("ends_on")
    @click.option("--plan-due", help="YYYY-MM-DD (default: 15 May of the first year)")
    @click.option("--due", default="11-30", show_default=True,
                  help="MM-DD each year for the three evaluation steps")
    def add_round(name, starts_on, ends_on, plan_due, due):
        """Add a pilot round NAME from STARTS_ON to ENDS_ON (YYYY-MM-DD, inclusive)."""
        from app.reports import services
        try:
            rnd = services.add_round(name=name, starts_on=date.fromisoformat(starts_on),
                                     ends_on=date.fromisoformat(ends_on),
                                     plan_due=date.fromisoformat(plan_due) if plan_due else None,
                                     due=due)
        except (ValueError, services.Refusal) as err:
            raise click.ClickException(str(getattr(err, "message", err))) from err
        db.session.commit()
        click.echo(f"{rnd.name}: {rnd.starts_on} - {rnd.ends_on}, plan due {rnd.plan_due}, "
                   f"evaluation due {rnd.assessment_due}")

    @bp.cli.command("rounds")
    def rounds():
        """List the pilot rounds."""
        from sqlalchemy import select

        from app.reports.models import PilotRound
        from app.reports.services import first_round
        first_round()
        db.session.commit()
        for rnd in db.session.execute(select(PilotRound).order_by(PilotRound.starts_on)
                                      ).scalars():
            click.echo(f"{rnd.name}\t{rnd.starts_on}\t{rnd.ends_on}\tplan {rnd.plan_due}\t"
                       f"due {rnd.assessment_due}/{rnd.review_due}/{rnd.spot_check_due}")
