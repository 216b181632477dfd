"""Survey forms are named for people by their sub-dimension and the programme they ask about
(issue 11), not by their code: the plan fixture surveys E-Padi for Public service."""

from __future__ import annotations

import pytest

from tests.helpers.web_surveys import OUTSIDERS, persona, url


def test_the_overview_names_a_form_by_sub_dimension_and_programme(as_user, admin_a, plan):
    page = as_user(admin_a).get(url("overview")).content.decode()
    row = page[page.index('id="form-service"') :]
    assert "Public service — E-Padi" in row[: row.index("</tr>")]
    policy = page[page.index('id="form-policy"') :]
    # The plan fixture names Lapor Bupati for Public policy too (a form names its service, or
    # it is never opened).
    assert "Public policy — Lapor Bupati<br>" in policy[: policy.index("</tr>")]


def test_the_quality_page_names_forms_too(as_user, admin_a, plan):
    page = as_user(admin_a).get(url("quality")).content.decode()
    row = page[page.index('id="quality-service"') :]
    assert "Public service — E-Padi" in row[: row.index("</tr>")]


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_do_not_see_the_names(request, as_user, plan, name):
    response = as_user(persona(request, name)).get(url("overview"))
    assert response.status_code == 404 and b"E-Padi" not in response.content
