"""The CSV reader: one csv reader over the whole file, yet each line read as its own."""
from __future__ import annotations

import pytest

from zhongwei.feeds import readers


@pytest.mark.parametrize("lines", [
    ["a,b,c", 'd,"e,f', "g,h,i", 'j,"k"x,l', "m,n,o", "", "p\x00q,r"],
    ['"open', '"open again', "x,y", '"last open'],
    ['a,"b ""c"" d",e', '"', '""', 'x,"y\u2028', "z"],
    [],
])
def test_one_csv_reader_reads_each_line_as_its_own(lines: list[str]) -> None:
    """The file-wide reader yields what a reader per line would: an open quote spoils its own line only."""
    assert list(readers._csv_rows(lines)) == [(n + 2, readers._line_fields(line)) for n, line in enumerate(lines)]
