"""QR door-plate tokens as capability URLs.

Each household holds ``qr_nonce``, 128 random bits. Its token is
``base64url(HMAC-SHA256(QR_TOKEN_KEY, "qr:<nonce>"))`` (43 characters, 256
bits), so the database alone never reveals a working link: it stores the nonce and the token's
SHA-256, and the public page looks households up by that hash. The app, holding the key, can
re-derive the token to reprint a plate. Reissuing (a new nonce) stops the old plate at once.
"""
import base64
import hashlib
import hmac
import io
import secrets

import qrcode
import qrcode.image.svg
from flask import current_app, request, url_for


def new_nonce() -> str:
    """128 random bits as 32 hex characters."""
    return secrets.token_hex(16)


def derive_token(nonce: str) -> str:
    """The door-plate token for a nonce (str, 43 url-safe characters)."""
    key = current_app.config["QR_TOKEN_KEY"].encode()
    mac = hmac.new(key, f"qr:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    """SHA-256 of a token as 64 hex characters: what the database stores."""
    return hashlib.sha256(token.encode()).hexdigest()


def assign_token(household) -> str:
    """Give ``household`` a fresh nonce and token hash; return the token.

    Any earlier door plate of this household stops working.
    """
    household.qr_nonce = new_nonce()
    token = derive_token(household.qr_nonce)
    household.qr_token_hash = token_hash(token)
    return token


def public_url(household) -> str:
    """The absolute URL printed on the household's door plate."""
    token = derive_token(household.qr_nonce)
    path = url_for("public.household", token=token)
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")
    return base + path


def qr_svg(data: str) -> str:
    """An SVG (str, no XML declaration) of a QR code for ``data``, scalable to any size."""
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2,
                      error_correction=qrcode.constants.ERROR_CORRECT_M)
    buf = io.BytesIO()
    img.save(buf)
    svg = buf.getvalue().decode()
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1]
    return svg.strip()
