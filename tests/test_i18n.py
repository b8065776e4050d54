"""English, the second locale: pages switch with ?lang=en and stay switched; the catalog is
complete, has no fuzzy entries, covers every string in the source, and its compiled .mo
matches the .po.

When a test here says a string is missing, update and recompile the catalog:

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location \
        -o app/translations/messages.pot .
    .venv/bin/pybabel update -i app/translations/messages.pot -d app/translations
    (translate the new entries in app/translations/en/LC_MESSAGES/messages.po; check and
     clear every "fuzzy" flag)
    .venv/bin/pybabel compile -d app/translations

The English catalog is compiled here (when the .mo is missing or older than the .po) at import
time, i.e. during collection and before any test loads translations: Flask-Babel caches the
catalog per process, so compiling later would not be seen by the app.
"""
import os
import re
from datetime import date

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import g

from app.extensions import db
from app.scoring.services import post_entry
from tests.conftest import item

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSLATIONS = os.path.join(ROOT, "app", "translations")
PO = os.path.join(TRANSLATIONS, "en", "LC_MESSAGES", "messages.po")
MO = os.path.join(TRANSLATIONS, "en", "LC_MESSAGES", "messages.mo")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _read_po():
    with open(PO, "rb") as f:
        return read_po(f, locale="en")


def _ensure_compiled():
    """Compile the .po to the .mo (like `pybabel compile`) when the .mo is missing or stale;
    written to a temporary file and renamed, so parallel workers never read half a file."""
    if os.path.exists(MO) and os.path.getmtime(MO) >= os.path.getmtime(PO):
        return
    catalog = _read_po()
    tmp = f"{MO}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        write_mo(f, catalog)
    os.replace(tmp, MO)


_ensure_compiled()


def _extract(tmp_path):
    """The msgids in the source, extracted exactly as documented (babel.cfg, -k _l -k
    lazy_gettext) into a temporary .pot."""
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", os.path.join(ROOT, "babel.cfg"),
        "-k", "_l", "-k", "lazy_gettext", "-k", "N_", "--no-location", "-o", str(pot), ROOT])
    with open(pot, "rb") as f:
        return read_po(f)


def _get(client, url, **kwargs):
    """``client.get``, with Flask-Babel's per-request cache cleared first. The ``app`` fixture
    keeps one app context open for the whole test and Flask reuses it for every test-client
    request, so ``g`` (where Flask-Babel caches the request's locale) would otherwise carry
    the first request's locale over; in the running app each request gets a fresh ``g``."""
    g.pop("_flask_babel", None)
    return client.get(url, **kwargs)


def _text(resp):
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def _visible(html):
    """The page without tags, so attribute values and markup do not count as text."""
    return re.sub(r"<[^>]+>", " ", html)


# --- pages -------------------------------------------------------------------------------

def test_login_page_in_english(app):
    html = _text(_get(app.test_client(), "/login?lang=en"))
    assert '<html lang="en">' in html
    for english in ("Username", "Password", "Log in", "Login for village cadres",
                    "Village Governance Points System"):
        assert english in html, english
    for chinese in ("用户名", "密码", "村干部登录", "乡村治理积分制"):
        assert chinese not in html, chinese
    # the only Chinese left is the language switch link
    assert CJK.findall(_visible(html).replace("中文", "")) == []


def test_login_page_is_chinese_by_default(app):
    html = _text(_get(app.test_client(), "/login"))
    assert "用户名" in html and "村干部登录" in html and "Username" not in html


def test_logged_in_page_switches_to_english_and_stays(app, world, login):
    a1, v = world["hh"]["a1"], world["village_a"]
    post_entry(household=a1, item_id=item(v, "红白喜事简办").id, deed_date=date(2026, 11, 2),
               recorded_by=world["users"]["scorer"])
    db.session.commit()
    client = login("scorer")
    url = f"/households/{a1.id}"

    html = _text(_get(client, url))
    assert "累计积分" in html and "Earned score" not in html

    html = _text(_get(client, url + "?lang=en"))
    for english in ("Earned score", "Spendable balance", "Rank in village", "Points history",
                    "Record points", "Head of household", "Village scorer", "Log out"):
        assert english in html, english
    for chinese in ("累计积分", "可用积分", "积分明细", "户主", "村评分员", "退出"):
        assert chinese not in html, chinese

    # the next request, without ?lang, is still English (remembered in the session)
    html = _text(_get(client, url))
    assert '<html lang="en">' in html
    assert "Earned score" in html and "累计积分" not in html
    html = _text(_get(client, f"/villages/{v.id}/board"))
    assert "Red board" in html and "红榜" not in html

    # and ?lang=zh_CN switches back
    html = _text(_get(client, url + "?lang=zh_CN"))
    assert "累计积分" in html and "Earned score" not in html


def test_form_errors_and_refusals_in_english(app, world, login):
    client = login("scorer")
    a1 = world["hh"]["a1"]
    _text(_get(client, f"/households/{a1.id}?lang=en"))
    g.pop("_flask_babel", None)
    html = _text(client.post(f"/households/{a1.id}/score",
                             data={"deed_date": "2026-11-02", "quantity": "1"}))
    assert "Please choose a rule item." in html and "请选择一个评分项" not in html
    # a refusal of the rules engine, translated when shown
    g.pop("_flask_babel", None)
    html = _text(client.post(f"/households/{a1.id}/score",
                             data={"item_id": item(world["village_a"], "红白喜事简办").id,
                                   "deed_date": "2099-01-01", "quantity": "1"}))
    assert "The date it happened cannot be later than today." in html
    assert "事情发生日期不能晚于今天" not in html


# --- the catalog -------------------------------------------------------------------------

def test_every_message_is_translated_and_none_is_fuzzy():
    catalog = _read_po()
    messages = [m for m in catalog if m.id]
    assert messages
    untranslated = [m.id for m in messages
                    if not (m.string if isinstance(m.string, str) else all(m.string))]
    assert untranslated == [], f"untranslated in {PO}: {untranslated}"
    assert [m.id for m in messages if m.fuzzy] == [], f"fuzzy entries left in {PO}"
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    # what `pybabel compile` checks: placeholders of msgid and msgstr agree
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == []
    # English text: no Chinese left in a translation (except the pinyin search example)
    chinese = [m.id for m in messages
               if CJK.search("".join([m.string] if isinstance(m.string, str) else m.string)
                             .replace("张三", ""))]
    assert chinese == []


def test_catalog_covers_every_string_in_the_source(tmp_path):
    extracted = {m.id for m in _extract(tmp_path) if m.id}
    assert len(extracted) > 50  # extraction really found the app's strings
    in_po = {m.id for m in _read_po() if m.id}
    missing = sorted(extracted - in_po, key=str)
    assert missing == [], (
        "strings in the source missing from the English catalog; run the extract and "
        f"`pybabel update` commands (see the docstring of tests/test_i18n.py) and translate "
        f"them: {missing}")


def test_compiled_catalog_matches_the_po():
    with open(MO, "rb") as f:
        compiled = read_mo(f)
    stale = []
    for m in _read_po():
        if not m.id or m.fuzzy:  # fuzzy entries are left out of the .mo (and fail above)
            continue
        got = compiled.get(m.id, context=m.context)
        if got is None or got.string != m.string:
            stale.append(m.id)
    assert stale == [], f"{MO} is out of date; run `pybabel compile -d app/translations`"
