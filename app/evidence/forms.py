"""The optional photo field shared by every form that takes evidence."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField
from wtforms.validators import Optional

PHOTO_TYPES = ["jpg", "jpeg", "png", "webp", "gif"]


def photo_field():
    """An optional photo upload limited by file name to JPG, PNG, WEBP or GIF (the content
    itself is checked by ``evidence.services.store_photo``)."""
    return FileField(_l("照片（可不传）"), validators=[
        Optional(), FileAllowed(PHOTO_TYPES, _l("只能上传 JPG、PNG、WEBP 或 GIF 照片"))])


def photo_id(field, village_id):
    """Store the form's optional photo (``evidence.services.store_photo``) and return its
    Evidence id, or None when no file was chosen. Raises Refusal("bad_photo")."""
    from flask_login import current_user

    from app.evidence.services import store_photo
    if field.data and getattr(field.data, "filename", ""):
        user = current_user if current_user.is_authenticated else None
        return store_photo(field.data.read(), village_id=village_id, uploaded_by=user).id
    return None


def photo_or_form_error(exc, field):
    """Put a photo refusal under the photo ``field`` and return None; return any other
    refusal's text (in the user's locale) for the top of the form."""
    from app.i18n import refusal_text
    if exc.code == "bad_photo":
        field.errors = [refusal_text(exc)]
        return None
    return refusal_text(exc)
