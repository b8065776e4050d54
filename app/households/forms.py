"""Forms of the households feature."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired


class RosterImportForm(FlaskForm):
    file = FileField(_l("花名册文件（.xlsx）"), validators=[
        FileRequired(_l("请选择要导入的 Excel 文件")),
        FileAllowed(["xlsx"], _l("只能导入 .xlsx 格式的 Excel 文件")),
    ])
