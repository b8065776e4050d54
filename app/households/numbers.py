"""House numbers as typed: a Chinese input method often gives full-width digits and letters
("１２号" for 12), and a roster may hold them too. Normalised with Unicode NFKC, so that
"１２" and "12" are the same house wherever one is typed (the roster import, the lookups by
house number)."""
import unicodedata


def house_number(text) -> str:
    """``text`` (str or None) as a house number: NFKC-normalised (full-width digits,
    letters and spaces become their ASCII forms) and stripped; '' for None."""
    return unicodedata.normalize("NFKC", str(text or "")).strip()
