"""Reading the header of a workbook a cadre filled in (the roster, the rulebook): a note
after a column's name is not a different column, and a title row above the header is not
the header."""
import re

#: How many rows from the top may hold a title above the header.
HEADER_SEARCH_ROWS = 10
#: A cadre's note after a header: in brackets of any kind, or after a colon; and a *.
_ANNOTATION = re.compile(r"[（(【\[［〔][^）)】\]］〕]*[）)】\]］〕]|[:：].*$|[*＊]")


def header_name(value) -> str:
    """A header cell as its column's name: text without the note a cadre added in brackets
    or after a colon, or a * ("检查项目（顿号分隔）", "门牌号【必填】", "户主：姓名",
    "*户主" are 检查项目, 门牌号, 户主). None is ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _ANNOTATION.sub("", str(value).strip()).strip()


def find_header(top_rows, key: str) -> tuple:
    """(0-based index, [column names]) of the first of ``top_rows`` (the first rows of a
    sheet as tuples of values, at most HEADER_SEARCH_ROWS of them) that names the column
    ``key``: the header under a title row such as "斗门村农户花名册". The first row when
    none does (its names then say what is missing); (0, []) for an empty sheet."""
    rows = [[header_name(v) for v in row] for row in top_rows]
    for i, names in enumerate(rows):
        if key in names:
            return i, names
    return 0, rows[0] if rows else []
