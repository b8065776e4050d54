"""``flask backup`` and ``flask restore`` (see app.ops.backup for how each database is
copied). Both print what they did and end by checking the ledger."""
import sys
from pathlib import Path

import click
from flask import current_app

from app.extensions import db
from app.logs import log_event
from app.ops import backup as ops


def ledger_report():
    """(faults, {village id: (seq, head hash)}): the ledger verification and chain heads."""
    from app.regions.models import Region
    from app.scoring.chain import chain_head
    from app.scoring.checks import verify
    faults = verify()
    heads = {}
    for (vid,) in db.session.execute(db.select(Region.id).where(Region.level == "village")):
        seq, head = chain_head(vid)
        if seq:
            heads[vid] = (seq, head)
    db.session.remove()
    return faults, heads


def _echo_report(faults, heads):
    for fault in faults:
        click.echo(f"FAULT {fault}")
    for vid, (seq, head) in sorted(heads.items()):
        click.echo(f"chain head village {vid}: seq {seq} {head}")
    click.echo(f"ledger: {len(faults)} fault(s)")


@click.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=True, path_type=Path))
def backup_command(path):
    """备份数据库 / back up the whole database to PATH (a new file, or an existing directory;
    default: BACKUP_DIR, instance/backups). The app may keep running."""
    target = path or Path(current_app.config["BACKUP_DIR"])
    if target.is_dir() or path is None:
        target = target / ops.default_name()
    try:
        written = ops.backup(target)
    except ops.BackupError as exc:
        click.echo(f"备份失败 / backup failed: {exc}", err=True)
        sys.exit(1)
    log_event("backup_written", path=str(written), size=written.stat().st_size)
    click.echo(f"已备份 / backup written: {written} ({written.stat().st_size} bytes)")
    _echo_report(*ledger_report())
    click.echo("提醒 / reminder: keep SECRET_KEY and QR_TOKEN_KEY (or instance/secret_key) "
               "safe as well: door plates cannot be reprinted without QR_TOKEN_KEY.")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="不再确认 / do not ask for confirmation")
@click.option("--no-safety-backup", is_flag=True,
              help="恢复前不先备份当前数据库 / skip the backup of the current database")
def restore_command(path, yes, no_safety_backup):
    """从备份恢复 / replace the whole database with the backup PATH. Stop the app first.
    The current database is backed up to BACKUP_DIR before it is replaced."""
    if not yes:
        click.confirm(f"用 {path} 替换整个数据库？/ Replace the whole database with {path}?",
                      abort=True)
    if not no_safety_backup:
        safety = Path(current_app.config["BACKUP_DIR"]) / ("before-restore-"
                                                            + ops.default_name())
        try:
            ops.backup(safety)
        except ops.BackupError as exc:
            click.echo(f"恢复前的备份失败，未恢复 / safety backup failed, nothing restored: "
                       f"{exc}", err=True)
            sys.exit(1)
        click.echo(f"当前数据库已先备份到 / current database saved to: {safety}")
    try:
        ops.restore(path)
    except ops.BackupError as exc:
        click.echo(f"恢复失败，数据库未改动 / restore failed, database unchanged: {exc}",
                   err=True)
        sys.exit(1)
    log_event("backup_restored", path=str(path))
    click.echo(f"已恢复 / restored from: {path}")
    faults, heads = ledger_report()
    _echo_report(faults, heads)
    sys.exit(1 if faults else 0)


@click.command("load-regions")
def load_regions_command():
    """载入南昌市行政区划 / load the bundled region tree of 南昌市 (counties with pilot quotas,
    townships, sample villages), without the demo village or demo accounts. Idempotent."""
    from app.demo.regions import load_region_tree
    load_region_tree()
    db.session.commit()
    from app.regions.models import Region
    click.echo(f"regions: {db.session.scalar(db.select(db.func.count(Region.id)))}")


def register_ops_cli(app):
    """Attach ``flask backup``, ``flask restore``, ``flask load-regions`` and the
    ``flask users`` group to ``app``."""
    from app.accounts.cli import users_cli
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(load_regions_command)
    app.cli.add_command(users_cli)
