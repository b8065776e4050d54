"""Evidence channels (RULE-FEATURES row 22) and non-goods uses of points (row 26): pure
helpers of the engine, no database, no Flask.

- Channels: who may bring a deed to the ledger. ``cadre`` (a scorer records it), ``self``
  (the household declares it from its QR page), ``beneficiary`` (the person helped declares
  it from their own QR page), ``peer`` (a villager reports another household's deed, good or
  bad), ``volunteer`` (a 志愿记录员 records it; always reviewed). A rule item lists the
  channels it accepts (item key ``channels``); without the key an item accepts
  ``DEFAULT_CHANNELS`` (cadre and self: the behaviour before channels existed).
- Privileges (``rules.privileges``): bands on the household's confirmed earned score to date
  (the same score as thresholds and the household page), e.g. a credit-loan limit.
- Dividends: a pool in yuan shared in proportion to points, to the fen, by the largest
  remainder method with the standings tie-break.
- Sanctions (item key ``blocks_redemption_months``): the end of a redemption block.
"""
from calendar import monthrange
from datetime import date
from decimal import Decimal

from app.rules.engine import N_, Refusal, to_points
from app.rules.rules_check import RulesError

CHANNELS = ("cadre", "self", "beneficiary", "peer", "volunteer")
DEFAULT_CHANNELS = ("cadre", "self")
#: Chinese names of the channels (msgids; templates translate them with _()).
CHANNEL_NAMES = {"cadre": N_("村干部记录"), "self": N_("本户申报"),
                 "beneficiary": N_("受助人申报"), "peer": N_("村民反映"),
                 "volunteer": N_("志愿记录员记录")}
#: Channels that may bring a deduction (the others declare good deeds only).
DEDUCTION_CHANNELS = ("cadre", "peer", "volunteer")
FEN = Decimal("0.01")


def accepted_channels(params: dict | None) -> tuple:
    """The channels a rule item accepts, from its params (``DEFAULT_CHANNELS`` without the
    ``channels`` key)."""
    found = (params or {}).get("channels")
    return tuple(found) if found else DEFAULT_CHANNELS


def check_channel(item_name: str, channels: tuple, channel: str,
                  is_deduction: bool = False) -> None:
    """Raise Refusal("channel_refused") when the rule item named ``item_name``, accepting
    ``channels``, cannot be brought by ``channel`` (or a good-deed-only channel brings a
    deduction: Refusal("channel_deduction"))."""
    if channel not in channels:
        raise Refusal("channel_refused", N_("按积分细则，“%(item)s”不接受%(channel)s，"
                                            "只接受：%(accepted)s"),
                      item=item_name, channel=CHANNEL_NAMES.get(channel, channel),
                      accepted="、".join(CHANNEL_NAMES[c] for c in channels))
    if is_deduction and channel not in DEDUCTION_CHANNELS:
        raise Refusal("channel_deduction", N_("%(channel)s只能申报加分的好事"),
                      channel=CHANNEL_NAMES[channel])


def item_use_options(item: dict, where: str) -> dict:
    """Item params of rows 22 and 26 from a rulebook file's item mapping: ``channels`` (a
    list of CHANNELS) and ``blocks_redemption_months`` (1..120). Raises RulesError naming
    the key (Chinese)."""
    params = {}
    if item.get("channels") is not None:
        raw = item["channels"]
        if isinstance(raw, str):
            raw = [p.strip() for p in raw.replace("，", ",").replace("、", ",").split(",")]
        if not isinstance(raw, list) or not raw:
            raise RulesError(f"{where}：channels 须是列表，如 [cadre, self, beneficiary]")
        out = []
        for value in raw:
            code = _channel_code(value)
            if code is None:
                raise RulesError(f"{where}：channels 里的 {value} 不是 "
                                 f"{'、'.join(CHANNELS)} 之一")
            if code not in out:
                out.append(code)
        params["channels"] = [c for c in CHANNELS if c in out]
    if item.get("blocks_redemption_months") not in (None, ""):
        months = str(item["blocks_redemption_months"]).strip()
        if not months.isdigit() or not 1 <= int(months) <= 120:
            raise RulesError(f"{where}：blocks_redemption_months 须是 1 到 120 的整数（月）")
        params["blocks_redemption_months"] = int(months)
    return params


def _channel_code(value):
    """A channel code from its code or Chinese name, or None."""
    text = str(value).strip()
    if text in CHANNELS:
        return text
    return next((c for c, name in CHANNEL_NAMES.items() if name == text), None)


def check_privileges(rules: dict) -> list:
    """``rules.privileges`` checked: [{min: "80", label, kind?}], numbers as exact strings.
    Raises RulesError."""
    out = []
    for i, band in enumerate(rules.get("privileges") or [], start=1):
        where = f"rules.privileges 第 {i} 项"
        if not isinstance(band, dict):
            raise RulesError(f"{where}：须写成 {{min: 80, label: 信用贷款额度 5 万元}}")
        try:
            minimum = format(to_points(band.get("min")), "f")
        except (Refusal, TypeError):
            raise RulesError(f"{where}：min 须是分数") from None
        label = str(band.get("label") or "").strip()
        if not label or len(label) > 64:
            raise RulesError(f"{where}：label 不能为空，最多 64 个字")
        entry = {"min": minimum, "label": label}
        if str(band.get("kind") or "").strip():
            entry["kind"] = str(band["kind"]).strip()[:32]
        out.append(entry)
    return out


def privileges(bands: tuple, score: Decimal) -> list:
    """Labels of the privileges a confirmed earned ``score`` (to date) reaches, lowest
    minimum first. ``bands`` are (min Decimal, label, kind or None); among bands of one
    ``kind`` (e.g. "loan": 5 万 at 80, 10 万 at 90) only the highest reached counts."""
    reached = [b for b in sorted(bands, key=lambda b: b[0]) if score >= b[0]]
    best = {}
    for band in reached:
        if band[2]:
            best[band[2]] = band
    return [label for minimum, label, kind in reached if not kind or best[kind][1] == label]


def dividend_shares(pool: Decimal, ranked: list) -> dict:
    """Share a ``pool`` (Decimal yuan, 2 decimals at most, >= 0) among ``ranked``: a list of
    (key, points) in standings order (rank 1 first, the standings tie-break already
    applied). Only positive points take part. Each share is pool × points / total, floored
    to the fen; the fen left over go one each to the largest remainders, equal remainders
    in standings order. Returns {key: Decimal yuan}; the shares add up to ``pool`` exactly
    (all zero, and nothing shared, when no household has positive points).
    Raises Refusal("bad_pool") for a negative or non-fen pool."""
    if not isinstance(pool, Decimal) or pool < 0 or pool != pool.quantize(FEN):
        raise Refusal("bad_pool", N_("分红总额须是不小于 0、最多两位小数的金额"))
    taking = [(k, int(Decimal(p) / FEN)) for k, p in ranked if Decimal(p) > 0]
    shares = {k: Decimal("0.00") for k, _p in ranked}
    total = sum(p for _k, p in taking)
    if total == 0:
        return shares
    fen = int(pool / FEN)
    rests, given = [], 0
    for order, (key, points) in enumerate(taking):  # exact integer arithmetic, in fen
        whole, rest = divmod(fen * points, total)
        given += whole
        shares[key] = Decimal(whole) * FEN
        rests.append((-rest, order, key))
    for _rest, _order, key in sorted(rests)[:fen - given]:
        shares[key] += FEN
    return shares


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def redemption_blocked_until(deed_date: date, months: int) -> date:
    """The first day a household may redeem again after a sanction of ``months`` months for
    a deed of ``deed_date`` (row 26: "sanctions blocking redemption for a year")."""
    return add_months(deed_date, months)
