"""The live benchmark's set-up (broadcasts/management/commands/bench_live.py) on the real schema."""

from __future__ import annotations

import pytest

from broadcasts.management.commands.bench_live import Command
from oa_platform.models import Citizen, Follow

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_setup_makes_browser_followers_and_can_run_again(tenant_a):
    # ON CONFLICT must name the browser identities' partial unique index, and a second run adds nothing
    for _ in range(2):
        Command().setup(tenant_a.account, 3)
    citizens = Citizen.objects.filter(external_id__startswith="w_bench-live-")
    assert citizens.count() == 3 and not citizens.exclude(account=None).exists()
    assert Follow.objects.filter(account=tenant_a.account, citizen__in=citizens).count() == 3
