"""A coordinator's API tokens, the admins' account pages and the global audit trail."""

import re
import uuid

import pytest
import sqlalchemy as sa

from leads import accounts
from leads.dashboard import admin
from leads.extensions import db
from leads.models import ApiToken, AuditEntry, Coordinator, Role
from tests.api_helpers import PASSWORD, bearer, make_clinic, make_coordinator, make_token
from tests.factories import receive

ADMIN = "ada@riverside.example"
COORDINATOR = "cole@riverside.example"
OTHER = "olga@riverside.example"


@pytest.fixture
def app(app, clock):
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["CLOCK"] = clock
    return app


@pytest.fixture
def accounts_made(app):
    """An admin and a coordinator; returns their public ids by email."""
    with app.app_context():
        made = {
            ADMIN: make_coordinator(ADMIN, role=Role.ADMIN),
            COORDINATOR: make_coordinator(COORDINATOR, role=Role.COORDINATOR),
        }
        return {email: str(account.public_id) for email, account in made.items()}


def sign_in(app, email: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.text
    return client


@pytest.fixture
def admin_client(app, accounts_made):
    return sign_in(app, ADMIN)


@pytest.fixture
def coordinator_client(app, accounts_made):
    return sign_in(app, COORDINATOR)


def audit_entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        query = sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        entries = db.session.scalars(query).all()
        return [(entry.actor.email if entry.actor else None, entry.data) for entry in entries]


def account(app, email: str) -> Coordinator:
    with app.app_context():
        found = db.session.scalar(sa.select(Coordinator).where(Coordinator.email == email))
        db.session.expunge(found)
        return found


def token_for(app, email: str) -> str:
    with app.app_context():
        return make_token(db.session.scalar(sa.select(Coordinator).where(Coordinator.email == email)))


def shown_token(html: str) -> str:
    match = re.search(r'class="token-value"[^>]*>(lds_[^<]+)<', html)
    assert match, "the new token is on the page"
    return match.group(1)


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+"[^>]*>([^<]*)</p>', html)


def rows(html: str) -> list[str]:
    """The body rows of the page's table, as plain text with single spaces."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr.*?</tr>", body, re.S)]


# --- API tokens ----------------------------------------------------------------------------------


def test_tokens_page_lists_only_own_tokens(app, accounts_made, admin_client):
    with app.app_context():
        for email, name in ((ADMIN, "ada laptop"), (COORDINATOR, "cole script")):
            owner = db.session.scalar(sa.select(Coordinator).where(Coordinator.email == email))
            accounts.create_api_token(db.session, owner, name)
        db.session.commit()

    response = admin_client.get("/account/tokens")

    assert response.status_code == 200
    assert "ada laptop" in response.text
    assert "cole script" not in response.text


def test_creating_a_token_shows_it_once_and_stores_only_its_hash(app, accounts_made, admin_client):
    response = admin_client.post("/account/tokens", data={"name": "Reception script"})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = shown_token(response.text)
    assert "Reception script" in response.text
    with app.app_context():
        stored = db.session.scalars(sa.select(ApiToken)).one()
        assert stored.name == "Reception script"
        assert token not in stored.token_hash
    assert app.test_client().get("/api/v1/leads", headers=bearer(token)).status_code == 200
    again = admin_client.get("/account/tokens")
    assert token not in again.text
    assert "Reception script" in again.text
    assert audit_entries(app, "api_token_created") == [(ADMIN, {"token_name": "Reception script"})]


def test_a_token_needs_a_name(app, accounts_made, admin_client):
    response = admin_client.post("/account/tokens", data={"name": "  "})

    assert "Name the token" in response.text
    assert "token-value" not in response.text
    with app.app_context():
        assert db.session.scalars(sa.select(ApiToken)).all() == []


def test_revoking_a_token_refuses_it_at_the_api_and_is_audited(app, accounts_made, admin_client):
    token = shown_token(admin_client.post("/account/tokens", data={"name": "laptop"}).text)
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))

    response = admin_client.post(f"/account/tokens/{token_id}/revoke")

    assert response.status_code == 302
    assert response.location == "/account/tokens"
    assert app.test_client().get("/api/v1/leads", headers=bearer(token)).status_code == 401
    page = admin_client.get("/account/tokens").text
    assert "revoked" in page
    assert "/revoke" not in page
    assert audit_entries(app, "api_token_revoked") == [(ADMIN, {"token_name": "laptop"})]


def test_a_coordinator_cannot_revoke_someone_elses_token(app, accounts_made, coordinator_client):
    token = token_for(app, ADMIN)
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))

    response = coordinator_client.post(f"/account/tokens/{token_id}/revoke", follow_redirects=True)

    assert "not one of yours" in response.text
    assert app.test_client().get("/api/v1/leads", headers=bearer(token)).status_code == 200
    assert audit_entries(app, "api_token_revoked") == []


def test_a_post_without_csrf_token_is_refused(app, accounts_made):
    client = sign_in(app, ADMIN)
    app.config["WTF_CSRF_ENABLED"] = True

    assert client.post("/account/tokens", data={"name": "laptop"}).status_code == 400
    assert client.post(f"/admin/coordinators/{accounts_made[COORDINATOR]}/deactivate").status_code == 400
    with app.app_context():
        assert db.session.scalars(sa.select(ApiToken)).all() == []
        assert db.session.scalar(sa.select(Coordinator.active).where(Coordinator.email == COORDINATOR))


def test_forms_carry_a_csrf_token(app, accounts_made):
    client = sign_in(app, ADMIN)
    app.config["WTF_CSRF_ENABLED"] = True
    pages = ["/account/tokens", "/admin/coordinators", f"/admin/coordinators/{accounts_made[COORDINATOR]}"]

    for url in pages:
        html = client.get(url).text
        forms = re.findall(r'<form method="post".*?</form>', html, re.S)
        assert forms
        assert all('name="csrf_token"' in form for form in forms), url


# --- access --------------------------------------------------------------------------------------


ADMIN_PAGES = ["/admin/coordinators", "/admin/audit"]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_are_forbidden_to_coordinators(coordinator_client, url):
    assert coordinator_client.get(url).status_code == 403


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_are_served_to_admins(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code == 200
    assert "style=" not in response.text
    assert "<script" not in response.text


@pytest.mark.parametrize("url", [*ADMIN_PAGES, "/account/tokens"])
def test_pages_ask_strangers_to_sign_in(client, accounts_made, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_a_coordinator_cannot_change_accounts(app, accounts_made, coordinator_client):
    target = accounts_made[ADMIN]

    assert coordinator_client.post(f"/admin/coordinators/{target}/deactivate").status_code == 403
    assert (
        coordinator_client.post(f"/admin/coordinators/{target}/role", data={"role": "coordinator"}).status_code == 403
    )
    response = coordinator_client.post(
        "/admin/coordinators", data={"email": "x@riverside.example", "password": "a long pass phrase", "role": "admin"}
    )
    assert response.status_code == 403
    assert account(app, ADMIN).active and account(app, ADMIN).role == Role.ADMIN


def test_an_unknown_account_is_404(admin_client):
    assert admin_client.get(f"/admin/coordinators/{uuid.uuid4()}").status_code == 404
    assert admin_client.get("/admin/coordinators/42").status_code == 404


# --- accounts ------------------------------------------------------------------------------------


def test_the_list_shows_every_account(admin_client):
    page = admin_client.get("/admin/coordinators").text

    assert ADMIN in page and COORDINATOR in page
    assert any(COORDINATOR in row and "coordinator" in row and "active" in row for row in rows(page))


def test_an_admin_creates_an_account(app, accounts_made, admin_client):
    with app.app_context():
        make_clinic("uptown")
    data = {"email": "New.Person@Riverside.example", "password": "a long pass phrase", "role": "coordinator"}

    response = admin_client.post("/admin/coordinators", data=dict(data, clinic="uptown"))

    assert response.status_code == 302
    created = account(app, "new.person@riverside.example")
    assert created.role == Role.COORDINATOR and created.active
    assert audit_entries(app, "coordinator_created") == [
        (ADMIN, {"target": "new.person@riverside.example", "role": "coordinator", "clinic": "uptown"})
    ]
    assert sign_in(app, "new.person@riverside.example", "a long pass phrase").get("/dashboard").status_code == 200


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password1234", "among the most common"),
        ("short one", "at least 12 characters"),
        ("newperson-is-me", "from your email address"),
        ("", "Enter an initial password"),
    ],
)
def test_a_weak_initial_password_is_refused_with_the_reason(app, admin_client, password, message):
    data = {"email": "newperson@riverside.example", "password": password, "role": "coordinator", "clinic": ""}

    response = admin_client.post("/admin/coordinators", data=data)

    assert response.status_code == 200
    assert re.search(r'id="new-password-error">[^<]*' + re.escape(message), response.text)
    assert 'value="newperson@riverside.example"' in response.text
    with app.app_context():
        assert accounts_lookup("newperson@riverside.example") is None
    assert audit_entries(app, "coordinator_created") == []


def accounts_lookup(email: str):
    return db.session.scalar(sa.select(Coordinator).where(Coordinator.email == email))


@pytest.mark.parametrize(
    ("email", "message"),
    [(COORDINATOR.upper(), "already an account"), ("not an address", "email address"), ("", "Enter the person")],
)
def test_a_bad_or_taken_email_is_refused_next_to_the_field(admin_client, email, message):
    data = {"email": email, "password": "a long pass phrase", "role": "coordinator", "clinic": ""}

    response = admin_client.post("/admin/coordinators", data=data)

    assert response.status_code == 200
    assert re.search(r'id="new-email-error">[^<]*' + re.escape(message), response.text)


def test_an_unknown_role_or_clinic_is_refused(app, admin_client):
    for extra in ({"role": "owner", "clinic": ""}, {"role": "coordinator", "clinic": "nowhere"}):
        data = {"email": "newperson@riverside.example", "password": "a long pass phrase", **extra}
        assert 'class="field-error"' in admin_client.post("/admin/coordinators", data=data).text
    with app.app_context():
        assert accounts_lookup("newperson@riverside.example") is None


def test_deactivating_signs_the_account_out_and_stops_its_tokens(app, accounts_made, admin_client):
    token = token_for(app, COORDINATOR)
    coordinator_client = sign_in(app, COORDINATOR)
    assert coordinator_client.get("/dashboard").status_code == 200

    response = admin_client.post(f"/admin/coordinators/{accounts_made[COORDINATOR]}/deactivate")

    assert response.status_code == 302
    assert not account(app, COORDINATOR).active
    next_request = coordinator_client.get("/dashboard")
    assert next_request.status_code == 302
    assert next_request.location.startswith("/login")
    assert app.test_client().get("/api/v1/leads", headers=bearer(token)).status_code == 401
    assert audit_entries(app, "coordinator_deactivated") == [(ADMIN, {"target": COORDINATOR})]
    page = admin_client.get("/admin/coordinators").text
    assert any(COORDINATOR in row and "deactivated" in row for row in rows(page))


def test_reactivating_lets_the_account_back_in(app, accounts_made, admin_client):
    token = token_for(app, COORDINATOR)
    admin_client.post(f"/admin/coordinators/{accounts_made[COORDINATOR]}/deactivate")

    admin_client.post(f"/admin/coordinators/{accounts_made[COORDINATOR]}/reactivate")

    assert account(app, COORDINATOR).active
    assert app.test_client().get("/api/v1/leads", headers=bearer(token)).status_code == 200
    assert sign_in(app, COORDINATOR).get("/dashboard").status_code == 200
    assert audit_entries(app, "coordinator_reactivated") == [(ADMIN, {"target": COORDINATOR})]


def test_an_admin_cannot_deactivate_themselves(app, accounts_made, admin_client):
    response = admin_client.post(f"/admin/coordinators/{accounts_made[ADMIN]}/deactivate", follow_redirects=True)

    assert any("cannot deactivate your own account" in text for text in flashes(response.text))
    assert account(app, ADMIN).active
    assert admin_client.get("/admin/coordinators").status_code == 200
    assert audit_entries(app, "coordinator_deactivated") == []


def test_an_admin_cannot_demote_themselves(app, accounts_made, admin_client):
    url = f"/admin/coordinators/{accounts_made[ADMIN]}/role"

    response = admin_client.post(url, data={"role": "coordinator"}, follow_redirects=True)

    assert any("cannot give up your own admin role" in text for text in flashes(response.text))
    assert account(app, ADMIN).role == Role.ADMIN
    assert audit_entries(app, "role_changed") == []


def test_the_own_account_page_offers_no_self_lockout(admin_client, accounts_made):
    page = admin_client.get(f"/admin/coordinators/{accounts_made[ADMIN]}").text

    assert "/deactivate" not in page
    assert "/role" not in page
    assert "/password" in page


def test_changing_a_role_takes_effect_and_is_audited(app, accounts_made, admin_client):
    coordinator_client = sign_in(app, COORDINATOR)
    assert coordinator_client.get("/admin/audit").status_code == 403

    response = admin_client.post(f"/admin/coordinators/{accounts_made[COORDINATOR]}/role", data={"role": "admin"})

    assert response.status_code == 302
    assert account(app, COORDINATOR).role == Role.ADMIN
    assert coordinator_client.get("/admin/audit").status_code == 200
    assert audit_entries(app, "role_changed") == [
        (ADMIN, {"target": COORDINATOR, "from_role": "coordinator", "to_role": "admin"})
    ]
    # Another admin may demote an admin: the one acting stays an admin.
    admin_client.post(f"/admin/coordinators/{accounts_made[COORDINATOR]}/role", data={"role": "coordinator"})
    assert account(app, COORDINATOR).role == Role.COORDINATOR
    assert coordinator_client.get("/admin/audit").status_code == 403


def test_an_unknown_role_changes_nothing(app, accounts_made, admin_client):
    response = admin_client.post(
        f"/admin/coordinators/{accounts_made[COORDINATOR]}/role", data={"role": "owner"}, follow_redirects=True
    )

    assert any("Choose a role" in text for text in flashes(response.text))
    assert account(app, COORDINATOR).role == Role.COORDINATOR


def test_resetting_a_password_works_and_is_audited(app, accounts_made, admin_client):
    response = admin_client.post(
        f"/admin/coordinators/{accounts_made[COORDINATOR]}/password", data={"password": "a brand new phrase"}
    )

    assert response.status_code == 302
    assert sign_in(app, COORDINATOR, "a brand new phrase").get("/dashboard").status_code == 200
    refused = app.test_client().post("/login", data={"email": COORDINATOR, "password": PASSWORD})
    assert refused.status_code == 200
    assert audit_entries(app, "password_reset") == [(ADMIN, {"target": COORDINATOR})]


def test_a_weak_reset_password_is_refused_next_to_the_field(app, accounts_made, admin_client):
    response = admin_client.post(
        f"/admin/coordinators/{accounts_made[COORDINATOR]}/password", data={"password": "password1234"}
    )

    assert response.status_code == 200
    assert re.search(r'id="password-error">[^<]*among the most common', response.text)
    assert sign_in(app, COORDINATOR).get("/dashboard").status_code == 200
    assert audit_entries(app, "password_reset") == []


# --- the audit trail -----------------------------------------------------------------------------


@pytest.fixture
def leads_made(app, clock, accounts_made):
    """Two leads; returns their public ids by first name."""
    with app.app_context():
        dana, _ = receive(clock(), first_name="Dana")
        evan, _ = receive(clock(), first_name="Evan", email="evan@example.org", phone="+12015550199")
        return {"Dana": str(dana.public_id), "Evan": str(evan.public_id)}


def test_the_audit_page_shows_who_viewed_a_lead(app, clock, leads_made, admin_client):
    coordinator_client = sign_in(app, COORDINATOR)
    clock.advance(minutes=5)
    assert coordinator_client.get(f"/leads/{leads_made['Dana']}").status_code == 200

    page = admin_client.get("/admin/audit").text

    assert f"{COORDINATOR} viewed Dana" in rows(page)[0]
    # 15:05 UTC on 2 March 2026 is 10:05 in New York, the default clinic's timezone.
    assert "2026-03-02 10:05 EST" in rows(page)[0]
    assert f'href="/leads/{leads_made["Dana"]}"' in page
    assert "Whitfield" not in page  # first names only


def test_the_audit_page_merges_account_entries_newest_first(app, clock, leads_made, admin_client):
    coordinator_client = sign_in(app, COORDINATOR)
    coordinator_client.get(f"/leads/{leads_made['Dana']}")
    clock.advance(minutes=1)
    coordinator_client.post("/account/tokens", data={"name": "laptop"})
    clock.advance(minutes=1)
    admin_client.post(f"/admin/coordinators/{accounts_made_id(app, COORDINATOR)}/role", data={"role": "admin"})

    texts = rows(admin_client.get("/admin/audit").text)

    assert texts[0].startswith("2026-03-02 10:02 EST")
    assert f"{ADMIN} changed the role of {COORDINATOR} coordinator → admin" in texts[0]
    assert f"{COORDINATOR} created the API token “laptop”" in texts[1]
    assert f"{COORDINATOR} viewed Dana" in texts[2]
    assert len(texts) == 3  # the system's inquiry events have no coordinator


def accounts_made_id(app, email: str) -> str:
    return str(account(app, email).public_id)


def test_the_audit_page_filters_by_coordinator_lead_and_action(app, clock, leads_made, admin_client):
    coordinator_client = sign_in(app, COORDINATOR)
    for first_name in ("Dana", "Evan"):
        coordinator_client.get(f"/leads/{leads_made[first_name]}")
        admin_client.get(f"/leads/{leads_made[first_name]}")
    admin_client.post("/account/tokens", data={"name": "laptop"})

    by_coordinator = rows(admin_client.get("/admin/audit", query_string={"coordinator": COORDINATOR.upper()}).text)
    by_lead = rows(admin_client.get("/admin/audit", query_string={"lead": leads_made["Dana"]}).text)
    by_both = rows(
        admin_client.get("/admin/audit", query_string={"coordinator": ADMIN, "lead": leads_made["Evan"]}).text
    )
    by_action = rows(admin_client.get("/admin/audit", query_string={"action": "api_token_created"}).text)

    assert len(by_coordinator) == 2 and all(COORDINATOR in row for row in by_coordinator)
    assert len(by_lead) == 2 and all("viewed Dana" in row for row in by_lead)
    assert by_both == [row for row in by_both if f"{ADMIN} viewed Evan" in row] and len(by_both) == 1
    assert len(by_action) == 1 and "laptop" in by_action[0]


def test_the_audit_page_filters_by_date_in_the_home_timezone(app, clock, leads_made):
    # Each step signs in afresh: the clock jumps past the session's idle timeout.
    sign_in(app, COORDINATOR).get(f"/leads/{leads_made['Dana']}")  # 2 March, 10:00 in New York
    clock.advance(hours=10)  # 3 March 01:00 UTC, still 2 March in New York
    sign_in(app, COORDINATOR).get(f"/leads/{leads_made['Evan']}")
    clock.advance(days=1)
    sign_in(app, COORDINATOR).get(f"/leads/{leads_made['Evan']}")
    admin_client = sign_in(app, ADMIN)

    march_2 = rows(admin_client.get("/admin/audit", query_string={"from": "2026-03-02", "to": "2026-03-02"}).text)
    from_march_3 = rows(admin_client.get("/admin/audit", query_string={"from": "2026-03-03"}).text)

    assert len(march_2) == 2 and all("2026-03-02" in row for row in march_2)
    assert len(from_march_3) == 1 and "2026-03-03 20:00 EST" in from_march_3[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"coordinator": "nobody@riverside.example"}, "There is no account"),
        ({"lead": "not-a-uuid"}, "There is no lead"),
        ({"lead": str(uuid.uuid4())}, "There is no lead"),
        ({"action": "<b>"}, "not an action name"),
        ({"from": "yesterday"}, "not a date"),
        ({"to": "9999-12-31"}, "not a date"),
        ({"before": "0001-01-01T00:00:00+14:00"}, "page marker"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "after the “to” date"),
        ({"before": "soon"}, "page marker"),
    ],
)
def test_a_bad_filter_is_explained_and_ignored(app, leads_made, admin_client, args, message):
    sign_in(app, COORDINATOR).get(f"/leads/{leads_made['Dana']}")

    response = admin_client.get("/admin/audit", query_string=args)

    assert response.status_code == 200
    assert any(message in text for text in flashes(response.text))
    assert any("viewed Dana" in row for row in rows(response.text))


def test_the_audit_page_pages_through_rows_of_one_instant_without_loss(app, leads_made, admin_client, monkeypatch):
    monkeypatch.setattr(admin, "PAGE_SIZE", 3)
    coordinator_client = sign_in(app, COORDINATOR)
    for _ in range(4):  # the fake clock stands still: every row has the same time
        coordinator_client.get(f"/leads/{leads_made['Dana']}")
        coordinator_client.post("/account/tokens", data={"name": "laptop"})

    seen, url = [], "/admin/audit"
    while url:
        page = admin_client.get(url).text
        seen += rows(page)
        older = re.search(r'rel="next" href="([^"]+)">Older entries</a>', page)
        url = older.group(1).replace("&amp;", "&") if older else None

    assert len(seen) == 8
    assert sum("viewed Dana" in row for row in seen) == 4
    assert sum("created the API token" in row for row in seen) == 4
    assert "Newest entries" in page


def test_older_entries_keep_the_filters(app, leads_made, admin_client, monkeypatch):
    monkeypatch.setattr(admin, "PAGE_SIZE", 1)
    coordinator_client = sign_in(app, COORDINATOR)
    for _ in range(2):
        coordinator_client.get(f"/leads/{leads_made['Dana']}")
        coordinator_client.get(f"/leads/{leads_made['Evan']}")

    page = admin_client.get("/admin/audit", query_string={"lead": leads_made["Evan"]}).text
    older = re.search(r'rel="next" href="([^"]+)">Older entries</a>', page).group(1).replace("&amp;", "&")
    second = rows(admin_client.get(older).text)

    assert f"lead={leads_made['Evan']}" in older
    assert len(second) == 1 and "viewed Evan" in second[0]


def test_a_clinic_admin_sees_only_their_clinics_leads_in_the_trail(app, clock, leads_made, admin_client):
    with app.app_context():
        uptown = make_clinic("uptown")
        make_coordinator(OTHER, role=Role.ADMIN, clinic=uptown)
    sign_in(app, COORDINATOR).get(f"/leads/{leads_made['Dana']}")

    seen_by_uptown = rows(sign_in(app, OTHER).get("/admin/audit").text)
    seen_by_all_clinics = rows(admin_client.get("/admin/audit").text)

    assert not any("viewed Dana" in row for row in seen_by_uptown)
    assert any("viewed Dana" in row for row in seen_by_all_clinics)


def test_a_coordinator_cannot_reach_the_audit_page(coordinator_client):
    response = coordinator_client.get("/admin/audit", query_string={"coordinator": ADMIN})

    assert response.status_code == 403
    assert ADMIN not in response.text


def test_the_audit_page_shows_changes_made_on_the_command_line(app, accounts_made, admin_client):
    result = app.test_cli_runner().invoke(args=["coordinators", "deactivate", "--email", COORDINATOR])
    assert result.exit_code == 0, result.output

    texts = rows(admin_client.get("/admin/audit").text)

    assert f"command line deactivated {COORDINATOR}" in texts[0]
