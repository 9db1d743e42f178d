"""Shipped reference data survives transactional tests (which flush every table)."""

import pytest

from oa_platform.models import Area


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_sees_the_areas():
    assert Area.objects.filter(level=Area.LEVEL_PROVINCE).count() == 34


@pytest.mark.django_db(transaction=True)
def test_a_second_transactional_test_sees_them_too():
    assert Area.objects.filter(code="79").exists()


@pytest.mark.django_db
def test_and_so_does_the_next_ordinary_test():
    assert Area.objects.filter(code="01").exists()
