"""``cityeval survey``: forms, XLSForms and checks of real-shaped exports from the command line.

The exports are laid out as the tools write them (the headers of tests/engine/survey/test_survey_imports):
ODK Central's CSV (``SubmissionDate`` … ``KEY``, ``ReviewState``, groups joined by ``-``),
also zipped as ODK Central's ``.csv.zip`` download; KoboToolbox's ``;``-separated CSV with
``_uuid`` and ``_validation_status``; cityeval's template as XLSX.

Six submissions to the ``service`` form (statements service.1–3):

====  ========  ===========  ============  =======================================
row   used      answers      duration      expected
====  ========  ===========  ============  =======================================
r1    yes       3, 4, 2      5 min         valid
r2    yes       4, 4, 3      5 min         valid
r3    yes       2, 3, 3      5 min         valid
r4    yes       0, 1, 0      5 min         rejected by the reviewer
r5    no        –            1 min         did not use the service
r6    yes       1, 2, 1      30 s          too fast (under 60 s)
====  ========  ===========  ============  =======================================

By hand, over r1–r3: service.1 mean (3 + 4 + 2)/3 = 3, service.2 (4 + 4 + 3)/3 = 11/3,
service.3 (2 + 3 + 3)/3 = 8/3, n = 3 each.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import fastexcel
import pytest
import xlsxwriter
from tests.helpers.survey_exports import KOBO_HEADER, ODK_HEADER

from cityeval.cli import main
from cityeval.engine import load_framework
from cityeval.engine.survey import form_by_code, template_csv

ROWS = [  # id, used, answers, start, end, review state
    ("r1", "yes", ("3", "4", "2"), "09:00:00", "09:05:00", "approved"),
    ("r2", "yes", ("4", "4", "3"), "10:00:00", "10:05:00", ""),
    ("r3", "yes", ("2", "3", "3"), "11:00:00", "11:05:00", "hasIssues"),
    ("r4", "yes", ("0", "1", "0"), "12:00:00", "12:05:00", "rejected"),
    ("r5", "no", ("", "", ""), "13:00:00", "13:01:00", ""),
    ("r6", "yes", ("1", "2", "1"), "14:00:00", "14:00:30", ""),
]
MEANS = {"service.1": 3.0, "service.2": 11 / 3, "service.3": 8 / 3}
KOBO_STATUS = {"approved": "validation_status_approved", "rejected": "validation_status_not_approved"}


def _person(used: str) -> list[str]:
    return ["25-34", "f", "Lubuk Pakam", "", "no"] if used == "yes" else ["", "", "", "", ""]


def odk_csv() -> bytes:
    lines = [",".join(ODK_HEADER)]
    for rid, used, answers, start, end, review in ROWS:
        values = ["2024-10-02T01:00:00.000Z", f"2024-10-01T{start}.000+07:00", f"2024-10-01T{end}.000+07:00"]
        values += [used, *answers, *_person(used), f"uuid:{rid}", f"uuid:{rid}", "7", "enumerator 1"]
        values += ["0", "0", "", review, "collect:abc", "0", "2024100101"]
        lines.append(",".join(values))
    return ("\n".join(lines) + "\n").encode()


def odk_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cityeval_service.csv", odk_csv())
        archive.writestr("cityeval_service-statements.csv", b"PARENT_KEY,KEY\n")
        archive.writestr("media/1700000000000.jpg", b"\xff\xd8\xff\xe0")
    return buffer.getvalue()


def kobo_csv() -> bytes:
    lines = [";".join(f'"{h}"' for h in KOBO_HEADER)]
    for i, (rid, used, answers, start, end, review) in enumerate(ROWS, start=1):
        values = [f"2024-10-01T{start}.000+07:00", f"2024-10-01T{end}.000+07:00", used, *answers]
        values += [*_person(used), f"uuid:{rid}", str(100 + i), rid, "2024-10-02T01:00:00"]
        values += [KOBO_STATUS.get(review, ""), "[]", "submitted_via_web", "", "vAbC", "[]", str(i)]
        lines.append(";".join(f'"{v}"' for v in values))
    return ("\n".join(lines) + "\n").encode()


def template_xlsx(path: Path) -> Path:
    form = form_by_code(load_framework("gmsc-2024"), "service")
    header = template_csv(form).decode().strip().split(",")
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, header)
    for r, (rid, used, answers, start, end, _) in enumerate(ROWS[:3], start=1):
        values = [rid, f"2024-10-01 {start}+07:00", f"2024-10-01 {end}+07:00", used, *answers]
        sheet.write_row(r, 0, values + _person(used))
    book.close()
    return path


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def check(capsys, path: Path, *extra: object) -> tuple[int, str, str]:
    return run(capsys, "survey", "check", path, "--framework", "gmsc-2024", "--form", "service", *extra)


def test_forms_lists_combined_and_split_codes(capsys):
    code, out, _ = run(capsys, "survey", "forms", "--framework", "gmsc-2024")
    assert code == 0
    assert "governance" in out and "combined" in out and "service.1, service.2, service.3" in out
    assert out.count("split") >= 18


def test_form_writes_the_xlsform_of_a_split_and_a_combined_form(capsys, tmp_path):
    for code_, statements in (("service", 3), ("governance", 9)):
        target = tmp_path / f"{code_}.xlsx"
        args = ("survey", "form", "--framework", "gmsc-2024", "--form", code_, "-o", target)
        code, out, _ = run(capsys, *args)
        assert code == 0 and f"{statements} statements" in out
        book = fastexcel.read_excel(target.read_bytes())
        assert book.sheet_names == ["survey", "choices", "settings"]
        settings = book.load_sheet("settings").to_polars()
        assert settings["form_id"][0] == f"cityeval_{code_}"
        names = book.load_sheet("survey").to_polars()["name"].to_list()
        assert sum(1 for n in names if n and n.startswith("s_")) == statements


def test_check_of_an_odk_central_zip_prints_means_intervals_and_exclusions(capsys, tmp_path):
    path = tmp_path / "cityeval_service.csv.zip"
    path.write_bytes(odk_zip())
    code, out, err = check(capsys, path)
    assert code == 0 and err == ""
    assert "│ service.1 │ 3 │ 3.00 │" in out
    assert "│ service.2 │ 3 │ 3.67 │" in out
    assert "│ service.3 │ 3 │ 2.67 │" in out
    assert "received 6, valid 3 (target 50)" in out
    reasons = "rejected by reviewer 1, did not use the service 1, completed implausibly fast 1"
    assert f"excluded 3: {reasons}" in out
    assert "  r4: rejected by reviewer" in out and "  r5: did not use the service" in out
    assert "r6: completed implausibly fast" in out
    assert "identity salt random per run" in out


def test_check_json_of_a_kobo_export_matches_the_hand_means(capsys, tmp_path, monkeypatch):
    path = tmp_path / "kobo.csv"
    path.write_bytes(kobo_csv())
    monkeypatch.setenv("CITYEVAL_SURVEY_SALT", "region-secret")
    code, out, _ = check(capsys, path, "--format", "json")
    assert code == 0
    report = json.loads(out)
    means = {s["statement"]: s["mean"] for s in report["statements"]}
    assert means == pytest.approx(MEANS)
    for s in report["statements"]:
        assert s["n"] == 3 and s["ci_low"] <= s["mean"] <= s["ci_high"]
    assert report["quality"]["excluded"] | {} == {
        "rejected": 1, "not_user": 1, "duplicate_id": 0, "straight_lining": 0, "too_fast": 1,
        "burst": 0, "duplicate_respondent": 0,
    }  # fmt: skip
    assert {r["response_id"]: r["why"] for r in report["excluded_rows"]} == {
        "r4": "rejected by reviewer",
        "r5": "did not use the service",
        "r6": "completed implausibly fast",
    }
    assert report["parameters"]["identity_salt"] == "given"


def test_check_can_count_rejected_rows_and_write_csv_to_a_file(capsys, tmp_path):
    """With r4 counted: service.1 mean (3 + 4 + 2 + 0)/4 = 2.25 (by hand)."""
    path, output = tmp_path / "odk.csv", tmp_path / "out.csv"
    path.write_bytes(odk_csv())
    code, out, _ = check(capsys, path, "--include-rejected", "--format", "csv", "-o", output)
    assert code == 0 and out == ""
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("form,statement,n,n_effective,mean,ci_low,ci_high")
    assert lines[1].startswith("service,service.1,4,4.0,2.25,")


def test_check_reads_the_template_as_xlsx(capsys, tmp_path):
    code, out, _ = check(capsys, template_xlsx(tmp_path / "template.xlsx"), "--format", "json", "--salt", "s")
    assert code == 0
    assert {s["statement"]: s["mean"] for s in json.loads(out)["statements"]} == pytest.approx(MEANS)


@pytest.mark.parametrize(
    ("args", "content", "expected"),
    [
        (("--form", "nope"), None, "framework gmsc-2024 has no form 'nope' (its forms: governance, service,"),
        (("--form", "policy"), None, "column 's_policy_1': the file has no column 's_policy_1'"),
        (("--form", "service"), b'"start";"Apakah Anda menggunakan layanan ini?";"_uuid"\n"x";"Ya";"u1"\n',
         'KoboToolbox export with labels (question texts) as headers, not XML names; export it again in '
         'KoboToolbox under Data → Downloads with Value and header format "XML values and headers"'),
        (("--form", "service"), b"PK\x03\x04 broken", "not a readable spreadsheet"),
    ],
    ids=["unknown-form", "other-form", "kobo-labels", "broken-zip"],
)  # fmt: skip
def test_bad_input_exits_2_with_one_clear_line(capsys, tmp_path, args, content, expected):
    path = tmp_path / "export.csv"
    path.write_bytes(odk_csv() if content is None else content)
    code, out, err = run(capsys, "survey", "check", path, "--framework", "gmsc-2024", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("cityeval: error: ")
    assert expected in err


def test_a_missing_export_is_named(capsys, tmp_path):
    code, _, err = check(capsys, tmp_path / "nope.csv")
    assert code == 2 and "nope.csv: file not found" in err
