"""Access matrix rows of honours and star households (issue 5): an honour under notice and a
star conferment in village A."""

from flask import url_for

ROUTES = {
    "honours.index": ("scoped+view", lambda i: url_for("honours.index",
                                                       village_id=i["village_id"])),
    "honours.nominate": ("scoped+score", lambda i: url_for("honours.nominate",
                                                           village_id=i["village_id"])),
    "honours.show": ("scoped+view", lambda i: url_for("honours.show",
                                                      honour_id=i["honour_id"])),
    "honours.notice": ("post:scoped+review", lambda i: url_for("honours.notice",
                                                               honour_id=i["honour_id"])),
    "honours.award": ("post:scoped+review", lambda i: url_for("honours.award",
                                                              honour_id=i["honour_id"])),
    "honours.decline": ("post:scoped+review", lambda i: url_for("honours.decline",
                                                                honour_id=i["honour_id"])),
    "honours.titles": ("scoped+review", lambda i: url_for("honours.titles",
                                                          village_id=i["village_id"])),
    "honours.poster": ("scoped+view", lambda i: url_for("honours.poster",
                                                        village_id=i["village_id"])),
    "stars.index": ("scoped+view", lambda i: url_for("stars.index",
                                                     village_id=i["village_id"])),
    "stars.confer": ("post:scoped+review", lambda i: url_for("stars.confer",
                                                             village_id=i["village_id"])),
    "stars.plates": ("scoped+view", lambda i: url_for("stars.plates",
                                                      conferment_id=i["conferment_id"])),
    "honours_public.index": ("public", lambda i: url_for("honours_public.index",
                                                         token=i["token"])),
    "honours_public.nominate": ("public", lambda i: url_for("honours_public.nominate",
                                                            token=i["token"])),
    "honours_public.object_honour": ("public", lambda i: url_for(
        "honours_public.object_honour", token=i["token"], honour_id=i["honour_id"])),
}


def ids(world):
    """An honour of household a1 under notice, and a conferment of 2026 in village A."""
    from app.honours import services
    from app.scoring.periods import local_today, year_period
    h = world["hh"]["a1"]
    honour = services.nominate(h, title="好人榜", year=local_today().year, reason="拾金不昧",
                               by_user=world["users"]["scorer"])
    services.start_notice(honour, days=5)
    conferment = services.confer_stars(world["village_a"], "year",
                                       year_period(local_today()),
                                       by_user=world["users"]["vadmin"],
                                       decision_date=local_today(), note="村民代表会议")
    assert conferment.period_start <= local_today()
    return {"honour_id": honour.id, "conferment_id": conferment.id}
