"""Staff access is rechecked on every request and on the open inbox socket: removing ``is_staff`` or the
membership shuts the staff inbox at once; a login's refused ``next`` lands on the admin index."""

import pytest

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Staff-123"  # factories.make_staff's


# --- login redirect  ---
@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/x", "https://evil.example/admin/"])
def test_a_refused_next_after_the_admin_login_lands_on_the_admin_index(client, tenant_a, unsafe):
    response = client.post(
        f"/admin/login/?next={unsafe}", {"username": "agency-a-manager", "password": PASSWORD, "next": unsafe}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(response["Location"]).status_code == 200


def test_a_safe_next_after_the_admin_login_is_followed(client, tenant_a):
    # the staff inbox sends people to the admin login with next=/staff/...
    login = client.get("/staff/agency-a/")
    assert login.status_code == 302 and login["Location"] == "/admin/login/?next=/staff/agency-a/"
    response = client.post(login["Location"], {"username": "agency-a-editor", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/staff/agency-a/"
