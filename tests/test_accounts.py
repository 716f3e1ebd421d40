"""leads/accounts.py: password rules, and sessions that end when the password or the account changes."""

import pytest

from leads import accounts, clock
from leads.extensions import db
from leads.models import Coordinator, Role
from tests.api_helpers import PASSWORD, make_coordinator

EMAIL = "sam@riverside.example"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 12"),
        ("password1234", "most common"),
        ("qwertyuiop12", "most common"),
        ("Sunshine!!!!", "most common"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, message):
    with pytest.raises(accounts.AccountError, match=message):
        accounts.check_password(password, EMAIL)


def test_a_password_built_from_the_mailbox_name_is_refused():
    with pytest.raises(accounts.AccountError, match="email address"):
        accounts.check_password("samuel-harbour-2026", "samuel@riverside.example")


def test_a_short_mailbox_name_does_not_rule_out_most_passwords():
    accounts.check_password("password1234x-harbour", "x@riverside.example")


def signed_in_client(app):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302
    return client


def account() -> Coordinator:
    return accounts.find_coordinator(db.session, EMAIL)


def test_a_password_reset_ends_the_sessions_signed_in_before_it(app):
    with app.app_context():
        make_coordinator(EMAIL, role=Role.ADMIN)
    client = signed_in_client(app)
    assert client.get("/dashboard").status_code == 200

    with app.app_context():
        accounts.set_password(account(), "a brand new harbour phrase")
        db.session.commit()

    assert client.get("/dashboard").headers["Location"].startswith("/login")


def test_reactivating_an_account_brings_no_old_session_back(app):
    with app.app_context():
        make_coordinator(EMAIL, role=Role.ADMIN)
    client = signed_in_client(app)

    with app.app_context():
        accounts.set_active(db.session, account(), False, clock.now(), actor=None)
        db.session.commit()
        accounts.set_active(db.session, account(), True, clock.now(), actor=None)
        db.session.commit()

    assert client.get("/dashboard").headers["Location"].startswith("/login")
