"""``flask audit verify-export FILE``: prove an audit export still matches the ledger."""
import sys

import click

from app.audit import exports
from app.audit.views import bp


@bp.cli.command("verify-export")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def verify_export(path):
    """Check an export (.csv or .xlsx from /audit/entries): every village's hash chain
    verifies and still passes through the exported chain head, and every exported entry
    still has its seq and hash. Prints the problems and exits 1 on any; 2 when the file is
    not an audit export."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        proof = exports.read_export(data)
    except ValueError as exc:
        click.echo(f"not an audit export: {exc}", err=True)
        sys.exit(2)
    if not proof.heads:
        click.echo("no chain heads in this file", err=True)
        sys.exit(2)
    problems = exports.check_export(proof)
    for problem in problems:
        click.echo(f"FAULT {problem}")
    for vid, seq, head in proof.heads:
        click.echo(f"village {vid}: chain passes seq {seq} {head}" if not problems
                   else f"village {vid}: exported head seq {seq} {head}")
    click.echo(f"{len(proof.entries)} exported entries checked, {len(problems)} fault(s)")
    sys.exit(1 if problems else 0)
