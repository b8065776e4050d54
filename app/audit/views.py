"""Township audit pages (read-only): the ledger explorer and an entry's detail, exports of the
explorer's filtered set, and the audit log. Every read is scoped to the user's region."""
import json
from datetime import datetime, timezone
from urllib.parse import quote

from flask import (Blueprint, Response, current_app, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _

from app.accounts.access import require, scope
from app.accounts.models import User
from app.audit import exports, queries
from app.audit.anomalies import LABELS as FLAG_LABELS, flags_for
from app.audit.labels import (DIRECTION_LABELS, KIND_LABELS, OBJECTION_OUTCOMES,
                              STATUS_LABELS, label)
from app.audit.services import ACTION_LABELS, FIELD_LABELS, TARGET_LABELS, VALUE_LABELS
from app.extensions import db
from app.ids import page_number
from app.regions.models import Region
from app.scoring.chain import chain_head
from app.scoring.models import STATUSES
from app.scoring.periods import to_local

bp = Blueprint("audit", __name__, url_prefix="/audit")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _labels():
    return {"status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS,
            "direction_labels": DIRECTION_LABELS, "flag_labels": FLAG_LABELS,
            "outcome_labels": OBJECTION_OUTCOMES, "statuses": STATUSES, "label": label}


@bp.route("/entries")
@require("view")
def entries():
    """The ledger explorer: the region's entries, filtered, with totals and anomaly flags.
    A filter that does not parse is shown at its field, with no entries and no totals."""
    region = scope()
    filters = queries.check_filters(region, queries.EntryFilters.from_args(request.args))
    totals = page = None
    flags = {}
    if not filters.errors:
        totals = queries.totals(region, filters)
        page = queries.entries_page(region, filters,
                                    request.args.get("page", 1, type=page_number),
                                    total=totals.count)
        flags = flags_for(page.items, region)
    return render_template("audit/entries.html", region=region, filters=filters, page=page,
                           totals=totals, flags=flags,
                           choices=queries.filter_choices(region, filters), **_labels())


@bp.route("/entries/<int:entry_id>")
@require("view")
def entry(entry_id):
    """One entry: its fields, flags explained, status history, objections, evidence, and
    its place in the village's hash chain."""
    region = scope()
    found = queries.entry_or_404(entry_id, region)
    filters = queries.EntryFilters.from_args(request.args)
    seq, head = chain_head(found.village_id)
    return render_template("audit/entry.html", entry=found, filters=filters,
                           flags=flags_for([found], region)[found.id],
                           objections=queries.entry_objections(found), head_seq=seq,
                           head_hash=head,
                           evidence_routes="evidence.thumb" in current_app.view_functions,
                           **_labels())


def _filter_labels(filters: queries.EntryFilters) -> list:
    """The filters that are set as (label, value) pairs for an export's header."""
    pairs = []
    if filters.village is not None:
        pairs.append((_("村"), db.session.get(Region, filters.village).name))
    if filters.group is not None:
        pairs.append((_("村民小组"), db.session.get(Region, filters.group).name))
    if filters.house:
        pairs.append((_("门牌号"), filters.house))
    if filters.scorer is not None:
        user = db.session.get(User, filters.scorer)
        pairs.append((_("记分人"), user.display_name if user else str(filters.scorer)))
    if filters.item:
        pairs.append((_("评分项"), filters.item))
    if filters.category:
        pairs.append((_("类别"), filters.category))
    if filters.status:
        pairs.append((_("状态"), label(STATUS_LABELS, filters.status)))
    if filters.date_from:
        pairs.append((_("事情发生日期从"), filters.date_from.isoformat()))
    if filters.date_to:
        pairs.append((_("事情发生日期到"), filters.date_to.isoformat()))
    return pairs


def _download(data: bytes, mimetype: str, ext: str, region) -> Response:
    stamp = to_local(datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M")
    name = f"{_('积分台账')}-{region.name}-{stamp}.{ext}"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=\"ledger-{stamp}.{ext}\"; "
                               f"filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})


def _export(fmt: str) -> Response:
    filters = queries.check_filters(scope(), queries.EntryFilters.from_args(request.args))
    if filters.errors:   # back to the explorer, which shows them at their fields
        return redirect(url_for("audit.entries", **request.args.to_dict()))
    with exports.snapshot():
        region = scope()
        head = exports.header(region, filters, _filter_labels(filters))
        rows = exports.records(region, filters)
        if fmt == "csv":
            return _download(exports.to_csv(head, rows), "text/csv", "csv",
                             region)
        return _download(exports.to_xlsx(head, rows), XLSX, "xlsx", region)


@bp.route("/entries.csv")
@require("view")
def entries_csv():
    """The explorer's filtered set as CSV (UTF-8 with BOM), with the chain heads."""
    return _export("csv")


@bp.route("/entries.xlsx")
@require("view")
def entries_xlsx():
    """The explorer's filtered set as an Excel workbook, with the chain heads."""
    return _export("xlsx")


def _json_text(value, key: str = "") -> str:
    """A logged value as text: None as "—", a code with a label for ``key``
    (``VALUE_LABELS``) as its label, strings as they are, a list of plain values joined with
    "、" (a roster import's ``changes`` with "；"; "—" when empty), anything else as JSON
    (Chinese kept readable)."""
    labels = VALUE_LABELS.get(key, {})
    if value is None:
        return "—"
    if isinstance(value, (str, bool)) and value in labels:
        return str(labels[value])
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        separator = "；" if key == "changes" else "、"   # its lines hold "、" themselves
        return separator.join(str(v) for v in value) if value else "—"
    return json.dumps(value, ensure_ascii=False)


def changes(before, after) -> list:
    """What an audit log row changed, for display: [(key, before text, after text)] over the
    top-level keys of ``before`` and ``after`` when they are dicts (only keys whose values
    differ), else one row with key "" (texts "" where a side is None)."""
    if isinstance(before, dict) or isinstance(after, dict):
        b, a = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
        keys = list(b) + [k for k in a if k not in b]
        return [(k, _json_text(b[k], k) if k in b else "", _json_text(a[k], k) if k in a else "")
                for k in keys if b.get(k) != a.get(k) or k not in b or k not in a]
    if before is None and after is None:
        return []
    return [("", "" if before is None else _json_text(before),
             "" if after is None else _json_text(after))]


@bp.route("/log")
@require("view")
def log():
    """The audit log of administrative actions in the user's region, newest first. A filter
    that does not parse is shown at its field, with no rows."""
    region = scope()
    filters = queries.LogFilters.from_args(request.args)
    page = None if filters.errors else queries.log_page(
        region, filters, request.args.get("page", 1, type=page_number))
    return render_template("audit/log.html", region=region, filters=filters, page=page,
                           choices=queries.log_choices(region), action_labels=ACTION_LABELS,
                           target_labels=TARGET_LABELS, field_labels=FIELD_LABELS,
                           changes=changes, label=label)


from app.audit import cli  # noqa: E402,F401  (adds `flask audit ...` to the blueprint)
