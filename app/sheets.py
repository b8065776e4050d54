"""Reading the header of a workbook a cadre filled in (the roster, the rulebook): a note
after a column's name is not a different column, and a title row above the header is not
the header."""
import io
import re
from zipfile import BadZipFile, ZipFile

from openpyxl.utils.cell import range_boundaries

#: How many rows from the top may hold a title above the header.
HEADER_SEARCH_ROWS = 10
#: A cadre's note after a header: in brackets of any kind, or after a colon; and a *.
_ANNOTATION = re.compile(r"[（(【\[［〔][^）)】\]］〕]*[）)】\]］〕]|[:：].*$|[*＊]")
#: The most merged cells ``fill_merged`` fills (a file with more is read as it is).
MAX_MERGED_CELLS = 200_000
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


def header_name(value) -> str:
    """A header cell as its column's name: text without the note a cadre added in brackets
    or after a colon, or a * ("检查项目（顿号分隔）", "门牌号【必填】", "户主：姓名",
    "*户主" are 检查项目, 门牌号, 户主), and spaces that align it are dropped ("户  主").
    None is ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", "", _ANNOTATION.sub("", str(value)))


def find_header(top_rows, key: str, aliases: dict | None = None) -> tuple:
    """(0-based index, [column names]) of the first of ``top_rows`` (the first rows of a
    sheet as tuples of values, at most HEADER_SEARCH_ROWS of them) that names the column
    ``key``: the header under a title row such as "斗门村农户花名册". ``aliases`` maps other
    names cadres give a column to its name (电话 -> 联系电话). The first row when none
    does (its names then say what is missing); (0, []) for an empty sheet."""
    aliases = aliases or {}
    rows = [[aliases.get(name, name) for name in map(header_name, row)] for row in top_rows]
    for i, names in enumerate(rows):
        if key in names:
            return i, names
    return 0, rows[0] if rows else []


def fill_merged(ws, data: bytes, rows, first_row: int):
    """``rows`` (value tuples of read-only worksheet ``ws`` of the workbook bytes ``data``,
    the first being row ``first_row``) with each cell of a merged range given the value of
    its top-left cell, as Excel shows it: a 村民小组 merged down a group's households is
    that group on every row. openpyxl's read-only mode gives None there; the ranges are read
    from the sheet's XML. Yields the rows (lists where a merged range was filled)."""
    cover, tops = _merged_cells(ws, data)
    if not cover:
        yield from rows
        return
    seen = {}   # the values of the top-left cells, as the rows go by
    for r, values in enumerate(rows, start=first_row):
        values = list(values)
        for c, value in enumerate(values, start=1):
            if (r, c) in tops:
                seen[(r, c)] = value
            top = cover.get((r, c))
            if top is not None and value is None:
                values[c - 1] = seen.get(top)
        yield values


def _merged_cells(ws, data: bytes) -> tuple:
    """({(row, col): (top row, top col)} of the merged cells of ``ws`` other than their
    range's top-left cell, {the top-left cells}); empty without merged cells, for another
    kind of worksheet, or past MAX_MERGED_CELLS."""
    path = getattr(ws, "_worksheet_path", None)   # openpyxl's read-only worksheet
    if not path:
        return {}, set()
    try:
        with ZipFile(io.BytesIO(data)) as zf:
            refs = _MERGE.findall(zf.read(path.lstrip("/")))
    except (BadZipFile, KeyError, OSError):
        return {}, set()
    cover, tops = {}, set()
    for ref in refs:
        min_col, min_row, max_col, max_row = range_boundaries(ref.decode())
        if len(cover) + (max_col - min_col + 1) * (max_row - min_row + 1) > MAX_MERGED_CELLS:
            return {}, set()
        tops.add((min_row, min_col))
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                if (r, c) != (min_row, min_col):
                    cover[(r, c)] = (min_row, min_col)
    return cover, tops
