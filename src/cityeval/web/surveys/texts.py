"""The questionnaire's own wording, in Bahasa Indonesia and English.

These are survey content, like the framework's statements, not interface text: a respondent
reads them in the page's language whatever the translation catalogue holds. They repeat the
wording of the engine's XLSForm (``cityeval.engine.survey.xlsform``), so that the web form and
the offline form ask the same questions.
"""

from __future__ import annotations

from cityeval.engine.framework import Label
from cityeval.engine.survey import AGE_BANDS, ANSWER_LABELS, SEXES
from cityeval.web.labels import page_label, page_language

SCREEN = Label(
    id="Apakah Anda pernah menggunakan layanan atau program yang dimaksud survei ini?",
    en="Have you used the service or programme this survey is about?",
)
SCREEN_HINT = Label(
    id="Hanya pengguna layanan yang menjawab pernyataan berikutnya. Jika belum pernah, pilih "
    "“Tidak” dan langsung kirim formulir.",
    en="Only users of the service answer the statements that follow. If you have not, choose "
    "“No” and send the form straight away.",
)
YES = Label(id="Ya", en="Yes")
NO = Label(id="Tidak", en="No")
SCALE_HINT = Label(
    id="0 = Sangat tidak setuju … 4 = Sangat setuju", en="0 = Strongly disagree … 4 = Strongly agree"
)
AGE = Label(id="Kelompok umur", en="Age group")
SEX = Label(id="Jenis kelamin", en="Sex")
DISTRICT = Label(id="Kecamatan tempat tinggal", en="District (kecamatan) of residence")
PHONE = Label(id="Nomor HP (opsional)", en="Mobile number (optional)")
PHONE_HINT = Label(
    id="Hanya untuk mengenali responden ganda; disimpan sebagai kode acak, bukan nomornya.",
    en="Only to recognise repeated respondents; kept as a salted hash, never the number.",
)
TITLE = Label(id="Survei dampak Smart City", en="Smart City impact survey")


def answer_choices() -> list[tuple[int, str]]:
    return [(value, page_label(label)) for value, label in ANSWER_LABELS.items()]


def age_choices() -> list[tuple[str, str]]:
    suffix = " years" if page_language() == "en" else " tahun"
    return [(band, band + suffix) for band in AGE_BANDS]


def sex_choices() -> list[tuple[str, str]]:
    return [(code, page_label(label)) for code, label in SEXES.items()]
