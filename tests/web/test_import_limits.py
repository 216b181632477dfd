"""Every table import is bounded before it is parsed, answers 400 when it refuses, names the
limit and saves nothing; row errors are capped with a count of the rest.

The bombs are small because the limits are lowered through settings; the engine's tests
(tests/engine/test_limits.py) and the benchmark (bench/bench_bombs.py) use real-size ones.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from cityeval.engine.limits import MB, LimitError
from cityeval.web.evaluations.models import Cycle, FrameworkVersion, Participation
from cityeval.web.imports import MAX_ROW_ERRORS, limit_message
from cityeval.web.panels.models import PanelRegion
from cityeval.web.regions.models import Province, Region
from tests.zipbombs import OLE_XLS, declare_unpacked, lie_about_size, sheet_xlsx

CYCLE = "gmsc-2024"
PATHS = {
    "regions": ("/regions/import/", {}),
    "participants": (f"/cycles/{CYCLE}/participants/import/", {}),
    "assignments": (f"/panels/cycles/{CYCLE}/import/", {}),
    "history": ("/results/history/import/", {"year": "2023", "framework": "builtin:gmsc-2023"}),
}


def _saved() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Region, Province, Participation, PanelRegion, Cycle))


def _post(client, path: str, data: bytes, name: str = "table.csv"):
    url, fields = PATHS[path]
    return client.post(url, {**fields, "file": SimpleUploadedFile(name, data)})


def _xlsx_declaring(unpacked: int) -> bytes:
    return declare_unpacked(
        sheet_xlsx([["region", "group"], ["Kota Medan", "REGULER"]]), "xl/worksheets/sheet1.xml", unpacked
    )


BOMBS = {
    # name: (settings, file name, bytes, the message naming the limit)
    "rows": (
        {"IMPORT_MAX_ROWS": 2},
        "t.csv",
        b"region,group\n" + b"Kota Medan,REGULER\n" * 3,
        "The table has more rows than the limit of 2.",
    ),
    "columns": (
        {"IMPORT_MAX_COLUMNS": 3},
        "t.csv",
        b"a,b,c,d,e\n1,2,3,4,5\n",
        "The table has 5 columns, over the limit of 3.",
    ),
    "size": (
        {"IMPORT_MAX_MB": 1},
        "t.csv",
        b"region,group\n" + b"x" * MB,
        "The file is larger than the limit of 1 MB.",
    ),
    "unpacked": (
        {"IMPORT_MAX_UNPACKED_MB": 1},
        "t.xlsx",
        _xlsx_declaring(2 * MB),
        "The spreadsheet unpacks to 2 MB, over the limit of 1 MB.",
    ),
    "ratio": ({"IMPORT_MAX_RATIO": 100}, "t.xlsx", _xlsx_declaring(20 * MB), "The spreadsheet is compressed"),
    # An .xls is only bounded after loading (a 5.6 kB one cost 1.3 GB): the forms offer CSV or XLSX.
    "xls": ({}, "t.xls", OLE_XLS, "Old Excel .xls files are not accepted: save the file as .xlsx or CSV."),
    # The sheet declares 100 bytes: Python's zip reader stopped there, the spreadsheet reader did not.
    "damaged": (
        {},
        "t.xlsx",
        lie_about_size(
            sheet_xlsx([["region", "group"], ["Kota Medan", "REGULER"]]), "xl/worksheets/sheet1.xml", 100
        ),
        "The file is damaged: a part is larger or smaller than it declares.",
    ),
}


@pytest.mark.parametrize("bomb", BOMBS)
@pytest.mark.parametrize("path", PATHS)
def test_a_file_over_a_limit_is_refused_with_400_naming_the_limit(
    world, coordinator, as_user, settings, path, bomb
):
    overrides, name, data, message = BOMBS[bomb]
    for key, value in overrides.items():
        setattr(settings, key, value)
    before = _saved()
    response = _post(as_user(coordinator), path, data, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _saved() == before


def test_a_file_at_the_row_limit_is_read(world, coordinator, as_user, settings):
    settings.IMPORT_MAX_ROWS = 2
    response = _post(
        as_user(coordinator), "regions", b"province,region\nBali,Kab. Badung\nBali,Kota Denpasar\n"
    )
    assert response.status_code == 302
    assert Region.objects.filter(province__name="Bali").count() == 2


def test_row_errors_stop_at_the_cap_and_say_how_many_more(world, coordinator, as_user):
    """60 rows without a province: 50 are listed, then one line counts the other 10."""
    rows = "".join(f",Kota {n}\n" for n in range(60))
    response = _post(as_user(coordinator), "regions", f"province,region\n{rows}".encode())
    assert response.status_code == 400
    errors = response.context["errors"]
    assert len(errors) == MAX_ROW_ERRORS + 1
    assert errors[0] == "row 2, column 'province': the province is empty"
    assert errors[-1] == "… and 10 more errors"


def test_a_region_name_longer_than_its_column_is_a_row_error(world, coordinator, as_user):
    """Region.name holds 120 characters; a 5,000-character name was stored before."""
    before = _saved()
    rows = ["Bali,Kab. Badung,51.03", f"Bali,Kota {'x' * 4995},", f"Bali,Kab. Bangli,{'9' * 21}"]
    data = "province,region,code\n" + "\n".join(rows) + "\n"
    response = _post(as_user(coordinator), "regions", data.encode())
    assert response.status_code == 400
    assert response.context["errors"] == [
        "row 3, column 'region': the value has 5000 characters; at most 120 are allowed",
        "row 4, column 'code': the value has 21 characters; at most 20 are allowed",
    ]
    assert _saved() == before


def test_the_limit_messages_are_translated():
    with translation.override("id"):
        text = limit_message(LimitError("rows", allowed=20_000, found=20_001))
    assert text == "Tabel memiliki lebih banyak baris daripada batas 20000."
    with translation.override("id"):
        assert limit_message(LimitError("xls", allowed=0, found=1)) == (
            "Berkas Excel lama .xls tidak diterima: simpan berkas sebagai .xlsx atau CSV."
        )


# --- framework YAML --------------------------------------------------------------------------------


def test_a_framework_yaml_alias_bomb_is_refused_with_400(world, coordinator, as_user):
    lines = ['a0: &a0 ["lol"]'] + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    before = FrameworkVersion.objects.count()
    upload = SimpleUploadedFile("bomb.yaml", "\n".join(lines).encode())
    response = as_user(coordinator).post("/frameworks/upload/", {"file": upload})
    assert response.status_code == 400
    assert "aliases (*name) are not allowed" in response.content.decode()
    assert FrameworkVersion.objects.count() == before


def test_a_framework_over_2_mb_is_refused_with_400(world, coordinator, as_user):
    before = FrameworkVersion.objects.count()
    upload = SimpleUploadedFile("big.yaml", b"# padding\n" * (2 * MB // 10 + 1))
    response = as_user(coordinator).post("/frameworks/upload/", {"file": upload})
    assert response.status_code == 400
    assert "larger than 2 MB" in response.content.decode()
    assert FrameworkVersion.objects.count() == before
