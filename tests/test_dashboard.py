"""The coordinators' pages: sign-in, access control and the audited lead view."""

import re
import uuid
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from leads import lifecycle, policy
from leads.accounts import create_coordinator
from leads.extensions import db
from leads.models import Coordinator, Lead, LeadEvent, LeadStatus, Role
from tests.factories import receive

EMAIL = "ada@riverside.example"
PASSWORD = "correct horse battery"


@pytest.fixture
def app(app):
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def coordinator_id(app) -> int:
    with app.app_context():
        coordinator = create_coordinator(db.session, email=EMAIL, password=PASSWORD, role=Role.ADMIN)
        db.session.commit()
        return coordinator.id


@pytest.fixture
def signed_in(client, coordinator_id):
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302
    return client


def make_lead(app, clock, **overrides) -> str:
    with app.app_context():
        lead, _ = receive(clock(), **overrides)
        return str(lead.public_id)


def viewed_events(app, public_id: str) -> list[LeadEvent]:
    with app.app_context():
        return db.session.scalars(
            sa.select(LeadEvent)
            .join(Lead)
            .where(Lead.public_id == uuid.UUID(public_id), LeadEvent.kind == "viewed")
            .order_by(LeadEvent.id)
        ).all()


def signed_in_user(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


# --- sign-in -------------------------------------------------------------------------------------


def test_login_page_is_served(client):
    response = client.get("/login")

    assert response.status_code == 200
    assert 'name="password"' in response.text


def test_wrong_password_stays_on_login_with_error(client, coordinator_id):
    response = client.post("/login", data={"email": EMAIL, "password": "incorrect horse battery"})

    assert response.status_code == 200
    assert "do not match an active account" in response.text
    assert signed_in_user(client) is None


def test_unknown_email_stays_on_login_with_same_error(client, coordinator_id):
    response = client.post("/login", data={"email": "eve@riverside.example", "password": PASSWORD})

    assert response.status_code == 200
    assert "do not match an active account" in response.text
    assert signed_in_user(client) is None


def test_right_password_redirects_to_dashboard(client, coordinator_id):
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})

    assert response.status_code == 302
    assert response.location == "/dashboard"
    assert client.get("/dashboard").status_code == 200


def test_login_email_is_case_insensitive(client, coordinator_id):
    response = client.post("/login", data={"email": "ADA@Riverside.example", "password": PASSWORD})

    assert response.location == "/dashboard"


def test_login_records_last_login_time(app, client, coordinator_id):
    client.post("/login", data={"email": EMAIL, "password": PASSWORD})

    with app.app_context():
        assert db.session.get(Coordinator, coordinator_id).last_login_at is not None


def test_deactivated_coordinator_cannot_sign_in(app, client, coordinator_id):
    with app.app_context():
        db.session.get(Coordinator, coordinator_id).active = False
        db.session.commit()

    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})

    assert response.status_code == 200
    assert signed_in_user(client) is None


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "//evil.example/leads"])
def test_next_off_site_goes_to_dashboard(client, coordinator_id, target):
    response = client.post("/login", query_string={"next": target}, data={"email": EMAIL, "password": PASSWORD})

    assert response.location == "/dashboard"


def _resolved_by_browser(location: str) -> str:
    # Browsers read a backslash as a slash and drop tabs and newlines before they resolve a URL.
    return re.sub(r"[\t\n\r]", "", location.replace("\\", "/"))


@pytest.mark.parametrize("target", ["/\\evil.example", "/%2F/evil.example", " //evil.example"])
def test_next_with_browser_quirks_stays_on_site(client, coordinator_id, target):
    response = client.post("/login", query_string={"next": target}, data={"email": EMAIL, "password": PASSWORD})

    assert urlsplit(_resolved_by_browser(response.location)).netloc == ""


def test_next_with_tab_does_not_redirect_off_site(client, coordinator_id):
    response = client.post(
        "/login", query_string={"next": "/\t/evil.example"}, data={"email": EMAIL, "password": PASSWORD}
    )

    assert urlsplit(_resolved_by_browser(response.location)).netloc == ""


def test_next_with_newline_still_redirects_to_dashboard(client, coordinator_id):
    response = client.post(
        "/login", query_string={"next": "/\n/evil.example"}, data={"email": EMAIL, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.location == "/dashboard"


def test_next_on_site_is_followed(client, coordinator_id):
    response = client.post("/login", query_string={"next": "/outbox"}, data={"email": EMAIL, "password": PASSWORD})

    assert response.location == "/outbox"


def test_logout_ends_the_session(signed_in):
    response = signed_in.post("/logout")

    assert response.status_code == 302
    assert signed_in.get("/dashboard").location.startswith("/login")


# --- CSRF ----------------------------------------------------------------------------------------


def test_login_without_csrf_token_is_refused(app, client, coordinator_id):
    app.config["WTF_CSRF_ENABLED"] = True

    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})

    assert response.status_code == 400
    assert signed_in_user(client) is None


def test_login_with_csrf_token_from_the_page_succeeds(app, client, coordinator_id):
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})

    assert response.location == "/dashboard"


# --- access control ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/dashboard", "/leads", f"/leads/{uuid.uuid4()}", "/outbox"])
def test_signed_out_visitor_is_sent_to_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_deactivated_coordinator_is_logged_out_on_next_request(app, signed_in, coordinator_id):
    with app.app_context():
        db.session.get(Coordinator, coordinator_id).active = False
        db.session.commit()

    response = signed_in.get("/dashboard")

    assert response.status_code == 302
    assert response.location.startswith("/login")


@pytest.mark.parametrize("path", ["/dashboard", "/leads", "/outbox"])
def test_signed_in_coordinator_sees_page(signed_in, path):
    assert signed_in.get(path).status_code == 200


# --- the lead page -------------------------------------------------------------------------------


def test_lead_page_shows_the_lead(app, clock, signed_in):
    public_id = make_lead(app, clock, first_name="Rosalind", last_name="Okafor")

    response = signed_in.get(f"/leads/{public_id}")

    assert response.status_code == 200
    assert "Rosalind Okafor" in response.text


def test_lead_view_is_recorded_with_the_coordinator(app, clock, signed_in, coordinator_id):
    public_id = make_lead(app, clock)

    signed_in.get(f"/leads/{public_id}")

    (event,) = viewed_events(app, public_id)
    assert event.actor_id == coordinator_id


def test_each_lead_view_is_one_more_event(app, clock, signed_in):
    public_id = make_lead(app, clock)

    for _ in range(3):
        signed_in.get(f"/leads/{public_id}")

    assert len(viewed_events(app, public_id)) == 3


@pytest.mark.parametrize("key", ["not-a-uuid", "1", str(uuid.uuid4())])
def test_unknown_lead_is_404(signed_in, key):
    assert signed_in.get(f"/leads/{key}").status_code == 404


def test_lead_page_is_not_reachable_by_sequential_id(app, clock, signed_in):
    make_lead(app, clock)

    assert signed_in.get("/leads/1").status_code == 404


# --- the overview --------------------------------------------------------------------------------


def test_dashboard_lists_new_leads_oldest_first(app, clock, signed_in):
    clock.advance(hours=2)
    make_lead(app, clock, first_name="Middle", email="middle@example.org")
    clock.advance(hours=1)
    make_lead(app, clock, first_name="Newest", email="newest@example.org")
    clock.advance(hours=-5)
    make_lead(app, clock, first_name="Oldest", email="oldest@example.org")

    page = signed_in.get("/dashboard").text

    assert page.index("Oldest") < page.index("Middle") < page.index("Newest")


def test_dashboard_leaves_out_leads_that_are_not_new(app, clock, signed_in):
    make_lead(app, clock, first_name="Waiting", email="waiting@example.org")
    with app.app_context():
        lead, _ = receive(clock(), first_name="Closedcase", email="closed@example.org")
        lifecycle.transition(db.session, lead, LeadStatus.CLOSED, clock(), policy.current(), reason="Duplicate.")
        db.session.commit()

    page = signed_in.get("/dashboard").text

    assert "Waiting" in page
    assert "Closedcase" not in page


def test_dashboard_does_not_show_health_details(app, clock, signed_in):
    make_lead(app, clock, message="Secret-history-xyz")

    assert "Secret-history-xyz" not in signed_in.get("/dashboard").text
