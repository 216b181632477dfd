"""The KKPD roles' scopes, enforced by the database: regional for the administrator and the
inspector, one OPD for a card holder."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from cityeval.web.accounts.models import Membership, Role


@pytest.mark.parametrize(
    "role, with_region, with_opd",
    [
        (Role.KKPD_ADMIN, True, True),
        (Role.KKPD_ADMIN, False, False),
        (Role.KKPD_INSPECTOR, True, True),
        (Role.CARD_HOLDER, True, False),
        (Role.CARD_HOLDER, False, False),
    ],
)
def test_a_kkpd_role_out_of_its_scope_is_refused(world, role, with_region, with_opd):
    user = get_user_model().objects.create_user(username="someone")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=user, role=role, region=world.region_a if with_region else None,
            opd=world.opd_health if with_opd else None,
        )  # fmt: skip


def test_a_contributor_may_also_hold_a_card_of_the_same_opd(world):
    user = get_user_model().objects.create_user(username="both")
    Membership.objects.create(
        user=user, role=Role.OPD_CONTRIBUTOR, region=world.region_a, opd=world.opd_health
    )
    Membership.objects.create(user=user, role=Role.CARD_HOLDER, region=world.region_a, opd=world.opd_health)
    assert user.memberships.count() == 2
