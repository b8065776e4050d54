"""Forms of the households feature."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class RosterImportForm(FlaskForm):
    file = FileField(_l("花名册文件（.xlsx）"), validators=[
        FileRequired(_l("请选择要导入的 Excel 文件")),
        FileAllowed(["xlsx"], _l("只能导入 .xlsx 格式的 Excel 文件")),
    ])


class ArchiveForm(FlaskForm):
    """Archive a household that moved away: the reason is kept with the change."""

    reason = TextAreaField(_l("迁出原因"), validators=[
        DataRequired(_l("请填写迁出原因，例如：全家迁往南昌市区")),
        Length(max=500, message=_l("原因不能超过 500 个字"))])


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
