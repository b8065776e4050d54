"""``flask rules expire --village CODE --on YYYY-MM-DD``: periodic expiry (RULE-FEATURES 19);
``flask rules dividend --village CODE --year Y --pool 10000``: dividends (row 26)."""
from datetime import date

import click
from flask.cli import AppGroup

from app.extensions import db

rules_cli = AppGroup("rules", help="积分细则 / rulebooks")


@rules_cli.command("expire")
@click.option("--village", "code", required=True, help="村的统计代码 / village code")
@click.option("--on", "on", default=None, help="清零日 YYYY-MM-DD（默认今天）")
def expire(code, on):
    """Expire unused points of the period that closed before ON, by the rulebook's expiry and
    carry-over rule. Idempotent per period."""
    from app.regions.models import Region
    from app.scoring.expiry import expire_balances
    from app.scoring.periods import local_today
    village = db.session.execute(db.select(Region).where(Region.code == code)).scalar_one_or_none()
    if village is None:
        raise click.ClickException(f"没有代码为 {code} 的村 / no such village")
    try:
        day = date.fromisoformat(on) if on else local_today()
    except ValueError:
        raise click.ClickException("日期应写成 YYYY-MM-DD / date must be YYYY-MM-DD") from None
    from app.i18n import refusal_text
    from app.rules.engine import Refusal
    try:
        made = expire_balances(village, day)
    except Refusal as exc:
        raise click.ClickException(refusal_text(exc)) from None
    db.session.commit()
    total = sum(-e.points for e in made)
    click.echo(f"{len(made)} 户积分到期，共 {format(total, 'f') if made else '0'} 分 / "
               f"{len(made)} households, {total if made else 0} points expired")



@rules_cli.command("dividend")
@click.option("--village", "code", required=True, help="村的统计代码 / village code")
@click.option("--year", "year", required=True, type=int, help="年度 / calendar year")
@click.option("--pool", "pool", required=True, help="分红总额（元）/ pool in yuan")
@click.option("--out", "out", default=None, help="导出 Excel 文件 / write an .xlsx file")
def dividend(code, year, pool, out):
    """Share POOL yuan among the village's households in proportion to their points of YEAR
    (RULE-FEATURES row 26). Prints the table; nothing is posted to the ledger."""
    from decimal import Decimal, InvalidOperation

    from app.i18n import refusal_text
    from app.regions.models import Region
    from app.rules.engine import Refusal
    from app.rules.uses_state import dividend_table
    village = db.session.execute(db.select(Region).where(Region.code == code,
                                                         Region.level == "village")
                                 ).scalar_one_or_none()
    if village is None:
        raise click.ClickException(f"没有代码为 {code} 的村 / no such village")
    try:
        amount = Decimal(pool)
        rows = dividend_table(village.id, year, amount)
    except InvalidOperation:
        raise click.ClickException("分红总额须是数字 / pool must be a number") from None
    except Refusal as exc:
        raise click.ClickException(refusal_text(exc)) from None
    for r in rows:
        click.echo(f"{r['rank']}\t{r['house_number']}\t{r['head_name']}\t"
                   f"{format(r['points'], 'f')}\t{format(r['yuan'], 'f')}")
    total = sum((r["yuan"] for r in rows), Decimal(0))
    click.echo(f"合计 / total\t{format(total, 'f')}")
    if out:
        from app.rules.uses_views import dividend_workbook
        with open(out, "wb") as fh:
            fh.write(dividend_workbook(village.name, year, amount, rows))


def register(app):
    """Attach ``flask rules`` to ``app``."""
    app.cli.add_command(rules_cli)
