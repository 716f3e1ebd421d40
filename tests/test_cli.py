"""`flask --app leads …` commands: coordinators, API tokens and clinics."""

import hashlib

import pytest
import sqlalchemy as sa

from leads import clock
from leads.accounts import coordinator_for_token
from leads.extensions import db
from leads.models import ApiToken, Clinic, Coordinator, Role

EMAIL = "ada@riverside.example"
PASSWORD = "correct horse battery"
TIMEZONE = "America/Chicago"


def create_coordinator(runner, *extra, email=EMAIL, password=PASSWORD):
    return runner.invoke(args=["coordinators", "create", "--email", email, "--password", password, *extra])


def create_clinic(runner, *extra, slug="north", timezone=TIMEZONE):
    return runner.invoke(
        args=[
            "clinics",
            "create",
            "--slug",
            slug,
            "--name",
            "North",
            "--timezone",
            timezone,
            "--inbox",
            "north@riverside.example",
            *extra,
        ]
    )


def coordinators(app) -> list[Coordinator]:
    with app.app_context():
        return db.session.scalars(sa.select(Coordinator)).all()


# --- coordinators --------------------------------------------------------------------------------


def test_coordinators_create_makes_an_admin(app, runner):
    result = create_coordinator(runner, "--role", "admin")

    assert result.exit_code == 0, result.output
    (coordinator,) = coordinators(app)
    assert (coordinator.email, coordinator.role, coordinator.active) == (EMAIL, Role.ADMIN, True)


def test_coordinators_create_defaults_to_coordinator_role(app, runner):
    create_coordinator(runner)

    (coordinator,) = coordinators(app)
    assert coordinator.role == Role.COORDINATOR


def test_coordinators_create_stores_argon2_hash_not_password(app, runner):
    create_coordinator(runner)

    (coordinator,) = coordinators(app)
    assert coordinator.password_hash.startswith("$argon2id$")
    assert PASSWORD not in coordinator.password_hash


def test_coordinators_create_refuses_short_password(app, runner):
    result = create_coordinator(runner, password="short")

    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert coordinators(app) == []


def test_coordinators_create_refuses_duplicate(app, runner):
    create_coordinator(runner)

    result = create_coordinator(runner, email=EMAIL.upper())

    assert result.exit_code != 0
    assert "already an account" in result.output
    assert len(coordinators(app)) == 1


def test_coordinators_create_refuses_invalid_email(app, runner):
    result = create_coordinator(runner, email="not-an-address")

    assert result.exit_code != 0
    assert "Error" in result.output
    assert coordinators(app) == []


def test_coordinators_create_refuses_unknown_role(app, runner):
    result = create_coordinator(runner, "--role", "owner")

    assert result.exit_code != 0
    assert coordinators(app) == []


def test_coordinators_create_refuses_unknown_clinic(app, runner):
    result = create_coordinator(runner, "--clinic", "nowhere")

    assert result.exit_code != 0
    assert "no clinic" in result.output
    assert coordinators(app) == []


def test_coordinators_create_binds_account_to_clinic(app, runner):
    create_clinic(runner)

    result = create_coordinator(runner, "--clinic", "north")

    assert result.exit_code == 0, result.output
    (coordinator,) = coordinators(app)
    with app.app_context():
        assert db.session.get(Coordinator, coordinator.id).clinic.slug == "north"


# --- API tokens ----------------------------------------------------------------------------------


def test_tokens_create_prints_token_alone_on_last_line(runner):
    create_coordinator(runner)

    result = runner.invoke(args=["tokens", "create", "--email", EMAIL])

    assert result.exit_code == 0, result.output
    token = result.output.splitlines()[-1]
    assert token == token.strip() and " " not in token and len(token) >= 32


def test_token_resolves_to_its_coordinator(app, runner):
    create_coordinator(runner)
    token = runner.invoke(args=["tokens", "create", "--email", EMAIL]).output.splitlines()[-1]

    with app.app_context():
        coordinator = coordinator_for_token(db.session, token, clock.now())
        assert coordinator is not None and coordinator.email == EMAIL


def test_database_holds_only_the_token_sha256(app, runner):
    create_coordinator(runner)
    token = runner.invoke(args=["tokens", "create", "--email", EMAIL]).output.splitlines()[-1]

    with app.app_context():
        (stored,) = db.session.scalars(sa.select(ApiToken)).all()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in stored.token_hash


def test_each_token_is_new(runner):
    create_coordinator(runner)

    tokens = {runner.invoke(args=["tokens", "create", "--email", EMAIL]).output.splitlines()[-1] for _ in range(2)}

    assert len(tokens) == 2


def test_tokens_create_refuses_unknown_email(app, runner):
    result = runner.invoke(args=["tokens", "create", "--email", "nobody@riverside.example"])

    assert result.exit_code != 0
    assert "no active coordinator" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_tokens_create_refuses_deactivated_coordinator(app, runner):
    create_coordinator(runner)
    with app.app_context():
        db.session.scalar(sa.select(Coordinator)).active = False
        db.session.commit()

    result = runner.invoke(args=["tokens", "create", "--email", EMAIL])

    assert result.exit_code != 0


# --- clinics -------------------------------------------------------------------------------------


def test_clinics_create_makes_a_clinic(app, runner):
    result = create_clinic(runner)

    assert result.exit_code == 0, result.output
    with app.app_context():
        clinic = db.session.scalar(sa.select(Clinic).where(Clinic.slug == "north"))
        assert (clinic.name, clinic.timezone, clinic.inbox) == ("North", "America/Chicago", "north@riverside.example")


def test_clinics_create_also_makes_the_default_clinic(app, runner):
    create_clinic(runner)

    with app.app_context():
        assert set(db.session.scalars(sa.select(Clinic.slug))) == {"main", "north"}


def test_new_clinic_has_an_inquiry_form(runner, client):
    create_clinic(runner)

    response = client.get("/inquire?clinic=north")

    assert response.status_code == 200
    assert "North" in response.text


def test_clinics_create_without_inbox_uses_clinic_inbox(app, runner):
    app.config["CLINIC_INBOX"] = "frontdesk@riverside.example"

    result = runner.invoke(args=["clinics", "create", "--slug", "north", "--name", "North", "--timezone", TIMEZONE])

    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(Clinic.inbox).where(Clinic.slug == "north")) == "frontdesk@riverside.example"


def test_clinics_create_accepts_the_inbox_the_default_clinic_uses(app, runner):
    result = runner.invoke(args=["clinics", "create", "--slug", "north", "--name", "North", "--timezone", TIMEZONE])

    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("timezone", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_clinics_create_refuses_bad_timezone(app, runner, timezone):
    result = create_clinic(runner, timezone=timezone)

    assert result.exit_code != 0
    assert "not an IANA timezone" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(Clinic).where(Clinic.slug == "north")) is None


def test_clinics_create_refuses_duplicate_slug(app, runner):
    create_clinic(runner)

    result = create_clinic(runner)

    assert result.exit_code != 0
    assert "exists already" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Clinic).where(Clinic.slug == "north")) == 1


def test_clinics_create_refuses_default_clinic_slug(runner):
    result = create_clinic(runner, slug="main")

    assert result.exit_code != 0
    assert "exists already" in result.output
