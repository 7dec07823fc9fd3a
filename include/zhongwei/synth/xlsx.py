"""A streaming writer of plain one-sheet .xlsx workbooks.

Platform exports hold hundreds of thousands of rows a day at full scale;
general-purpose writers manage a few thousand rows a second, which would make
generating a month take an hour. This writes the sheet XML straight into the
zip (inline strings, numbers as numbers), the way export systems do.
"""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""


# Entries are stamped with a fixed time so that the same seed gives the same bytes.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def restamp(path: Path) -> None:
    """Rewrite a workbook written by another library with fixed times (zip entries, core properties)."""
    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2020-01-01T00:00:00Z", data)
            z.writestr(_entry(name), data)


def _column_letters(n: int) -> list[str]:
    letters = []
    for i in range(n):
        s, k = "", i + 1
        while k:
            k, r = divmod(k - 1, 26)
            s = chr(65 + r) + s
        letters.append(s)
    return letters


def _cell(ref: str, value) -> str:
    kind = type(value)
    if kind is str:
        if not value:
            return ""
        if "&" in value or "<" in value or ">" in value:
            value = escape(value)
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    if value is None or value != value:  # nothing, or NaN: no cell
        return ""
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    return f'<c r="{ref}"><v>{value!r}</v></c>'


def write_xlsx(path: Path, sheet: str, header: list[str], rows: list[list], *, truncate: bool = False) -> None:
    """Write header + rows as the only sheet; `truncate` cuts the finished file short (a broken upload)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    cols = _column_letters(len(header))
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(_entry("[Content_Types].xml"), _CONTENT_TYPES)
        z.writestr(_entry("_rels/.rels"), _RELS)
        z.writestr(_entry("xl/workbook.xml"), _WORKBOOK.format(name=escape(sheet)))
        z.writestr(_entry("xl/_rels/workbook.xml.rels"), _WORKBOOK_RELS)
        z.writestr(_entry("xl/styles.xml"), _STYLES)
        with z.open(_entry("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            buf = []
            for r, row in enumerate([header, *rows], start=1):
                cells = "".join(_cell(f"{c}{r}", v) for c, v in zip(cols, row))
                buf.append(f'<row r="{r}">{cells}</row>')
                if len(buf) >= 5000:
                    f.write("".join(buf).encode())
                    buf.clear()
            f.write("".join(buf).encode())
            f.write(b"</sheetData></worksheet>")
    if truncate:
        size = os.path.getsize(tmp)
        with open(tmp, "r+b") as f:
            f.truncate(int(size * 0.6))
    tmp.replace(path)
