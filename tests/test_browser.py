"""The inquiry form and the dashboard in a real browser (Debian's Chromium driven by Playwright)."""

import pytest
import sqlalchemy as sa

from leads import accounts
from leads.extensions import db
from leads.models import Lead, LeadEvent, Role

pytestmark = pytest.mark.browser


def fill_inquiry(page, **overrides):
    values = {
        "#first_name": "Dana",
        "#last_name": "Whitfield",
        "#email": "dana@example.org",
        "#phone": "201 555 0143",
        "#message": "Migraines most days.",
    }
    values.update(overrides)
    for selector, value in values.items():
        page.fill(selector, value)
    page.check("#preferred_contact-text")
    page.select_option("#condition", "migraine")
    page.check("#consent")


def test_a_prospect_submits_the_form_and_sees_what_happens_next(app, live_server, page):
    page.goto(f"{live_server}/inquire?utm_source=newsletter")
    assert "Interested in learning more" in page.content()
    fill_inquiry(page)

    page.click("button[type=submit]")

    page.wait_for_url("**/thanks**")
    assert "Thank you" in page.inner_text("h1")
    with app.app_context():
        lead = db.session.scalar(sa.select(Lead))
        assert (lead.first_name, lead.phone, lead.utm_source) == ("Dana", "+12015550143", "newsletter")


def test_field_errors_show_beside_the_fields_and_keep_what_was_typed(app, live_server, page):
    page.goto(f"{live_server}/inquire")
    fill_inquiry(page, **{"#email": "not-an-address"})
    page.uncheck("#consent")

    page.click("button[type=submit]")

    assert page.is_visible("#email-error")
    assert page.is_visible("#consent-error")
    assert page.input_value("#first_name") == "Dana"
    assert page.input_value("#email") == "not-an-address"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Lead.id))) == 0


def test_the_form_works_without_javascript(app, live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/inquire")
    fill_inquiry(page)
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks**")
    context.close()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Lead.id))) == 1


def test_a_coordinator_signs_in_and_opens_the_new_lead(app, live_server, page):
    page.goto(f"{live_server}/inquire")
    fill_inquiry(page)
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks**")
    with app.app_context():
        accounts.create_coordinator(
            db.session, email="sam@riverside.example", password="a long pass phrase", role=Role.ADMIN
        )
        db.session.commit()

    page.goto(f"{live_server}/dashboard")
    page.fill("#email", "sam@riverside.example")
    page.fill("#password", "a long pass phrase")
    page.click("button[type=submit]")
    page.click("text=Dana Whitfield")

    assert "dana@example.org" in page.content()
    with app.app_context():
        viewed = db.session.scalars(sa.select(LeadEvent).where(LeadEvent.kind == "viewed")).all()
        assert [event.actor.email for event in viewed] == ["sam@riverside.example"]
