"""Words said once: a wrong login in Indonesian read "Masukkan nama pengguna nama pengguna dan
sandi yang benar" (Django's own text around the field's name), and creating a panel named
"Panel Sumut A" said "Panel Panel Sumut A dibuat"."""

from __future__ import annotations

from tests.helpers.web import PASSWORD


def test_a_wrong_login_in_indonesian_names_the_username_once(world, client, admin_a, settings):
    settings.LANGUAGE_CODE = "id"
    wrong = {"username": "admin_a", "password": PASSWORD + "x"}
    page = client.post("/accounts/login/", wrong).content.decode()
    assert "Nama pengguna atau kata sandi salah." in page
    assert "nama pengguna nama pengguna" not in page.lower()


def test_creating_a_panel_does_not_repeat_the_word_panel(world, as_user, coordinator, settings):
    settings.LANGUAGE_CODE = "id"
    response = as_user(coordinator).post(
        f"/panels/cycles/{world.cycle.slug}/", {"name": "Panel Sumut A", "stage": "stage_2"}, follow=True
    )
    page = response.content.decode()
    assert "Panel Sumut A dibuat." in page and "Panel Panel" not in page
