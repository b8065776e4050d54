"""Store an uploaded photo safely: type and size checks, EXIF/GPS stripped, a thumbnail.

The upload is decoded with Pillow (so a file that is not an image is refused whatever its
name), limited in pixels, re-encoded as JPEG from its pixels only (no EXIF, no GPS, no ICC
text), and stored with a 320-pixel thumbnail. Services flush; the caller commits.
"""
import hashlib
import io
import os

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from app.evidence.models import Evidence
from app.extensions import db
from app.rules.engine import N_, Refusal

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
ALLOWED = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}
MAX_SIDE = 2048
THUMB_SIDE = 320


def evidence_dir(village_id: int) -> str:
    """The folder holding a village's evidence files (created when missing)."""
    path = os.path.join(current_app.instance_path, "evidence", str(village_id))
    os.makedirs(path, exist_ok=True)
    return path


def store_photo(data: bytes, *, village_id: int, uploaded_by=None) -> Evidence:
    """Check and store photo bytes; return the flushed Evidence.

    Raises Refusal("bad_photo") with a Chinese message when the file is empty, larger than
    5 MB, not an image of an allowed type, or too many pixels.
    """
    if not data:
        raise Refusal("bad_photo", N_("照片是空文件"))
    if len(data) > MAX_BYTES:
        raise Refusal("bad_photo", N_("照片不能超过 5 MB"))
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            probe.verify()
        if kind not in ALLOWED:
            raise Refusal("bad_photo", N_("只能上传 JPG、PNG、WEBP 或 GIF 照片"))
        with Image.open(io.BytesIO(data)) as img:
            img = ImageOps.exif_transpose(img)
            img = img.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        raise Refusal("bad_photo", N_("上传的文件不是有效的照片")) from None
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    clean = _jpeg(img)
    digest = hashlib.sha256(clean).hexdigest()
    folder = evidence_dir(village_id)
    with open(os.path.join(folder, digest + ".jpg"), "wb") as f:
        f.write(clean)
    thumb = img.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    with open(os.path.join(folder, digest + "_thumb.jpg"), "wb") as f:
        f.write(_jpeg(thumb))
    evidence = Evidence(village_id=village_id, sha256=digest, width=img.width,
                        height=img.height, size_bytes=len(clean),
                        uploaded_by_id=uploaded_by.id if uploaded_by else None)
    db.session.add(evidence)
    db.session.flush()
    return evidence


def _jpeg(img) -> bytes:
    """Encode pixels as JPEG with no metadata at all."""
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85, optimize=True)
    return buf.getvalue()


def file_path(evidence: Evidence, thumb: bool = False) -> str:
    """Path of an evidence file (the photo, or its thumbnail)."""
    suffix = "_thumb.jpg" if thumb else ".jpg"
    return os.path.join(evidence_dir(evidence.village_id), evidence.sha256 + suffix)
