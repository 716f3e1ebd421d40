"""The coordinators' pages: overview, leads (filters, keyset pages, CSV), one lead and its actions, the outbox,
security headers, session limits and sign-in throttling, through the test client on both backends."""

import csv
import html
import io
import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from leads import consultations, create_app, lifecycle, outbox, policy
from leads.durations import parse_duration
from leads.extensions import db
from leads.models import (
    AuditEntry,
    Condition,
    Consultation,
    ConsultationStatus,
    Lead,
    LeadEvent,
    LeadStatus,
    Message,
    MessageStatus,
    Role,
    Suppression,
)
from tests.api_helpers import PASSWORD, book, events, make_clinic, make_coordinator, messages
from tests.factories import receive

ADMIN = "sam@riverside.example"
COORDINATOR = "ada@riverside.example"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York


@pytest.fixture
def app(app):
    # Most tests exercise the actions; the CSRF tests switch protection back on.
    app.config["WTF_CSRF_ENABLED"] = False
    # Tests move the clock by hours and days; the session tests set the real limits back.
    app.config.update(SESSION_IDLE_TIMEOUT="30d", SESSION_LIFETIME="60d")
    return app


@pytest.fixture
def admin(clocked_app):
    return make_coordinator(ADMIN, Role.ADMIN)


@pytest.fixture
def coordinator(clocked_app):
    return make_coordinator(COORDINATOR, Role.COORDINATOR)


def sign_in(client, email: str):
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return client


@pytest.fixture
def as_admin(client, admin):
    return sign_in(client, ADMIN)


@pytest.fixture
def as_coordinator(client, coordinator):
    return sign_in(client, COORDINATOR)


def synced():
    """End the test's own read transaction so that it sees what the requests committed."""
    db.session.rollback()


def new_lead(clock, number: int = 0, **overrides) -> Lead:
    overrides.setdefault("email", f"prospect{number}@example.org")
    lead, _ = receive(clock(), **overrides)
    return lead


def lead_url(lead: Lead, action: str = "") -> str:
    return f"/leads/{lead.public_id}" + (f"/{action}" if action else "")


def flashes(page: str) -> list[str]:
    return [html.unescape(text) for text in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)]


def errors(page: str) -> list[str]:
    return [html.unescape(text) for text in re.findall(r'<p class="flash flash-error"[^>]*>(.*?)</p>', page, re.S)]


def options(page: str, select_id: str) -> list[str]:
    select = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


def links(page: str, label: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(rf'<a [^>]*href="([^"]+)"[^>]*>{label}</a>', page)]


def lead_ids_on(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/leads/([0-9a-f-]{36})">', page)


def actor_emails(lead: Lead, kind: str) -> list[str | None]:
    return [event.actor.email if event.actor else None for event in events(lead, kind)]


# --- the overview ----------------------------------------------------------------------------


def test_overview_shows_waiting_leads_with_age_and_marks_the_late_ones(clocked_app, clock, as_admin):
    new_lead(clock, 1, first_name="Latecase")
    clock.advance(hours=1, minutes=50)
    new_lead(clock, 2, first_name="Freshcase")
    clock.advance(minutes=10)  # 12:00 in New York: two business hours after the first inquiry

    page = as_admin.get("/dashboard").text

    late_row = re.search(r'<tr class="late">(.*?)</tr>', page, re.S).group(1)
    assert "Latecase" in late_row
    assert "2 h" in late_row
    assert "Freshcase" not in late_row
    assert page.index("Latecase") < page.index("Freshcase")
    assert "within 1 h of business time" in page


def test_overview_lists_todays_and_tomorrows_consultations_and_those_needing_an_outcome(
    clocked_app, clock, admin, client
):
    soon, today, tomorrow = (
        new_lead(clock, n, first_name=name) for n, name in enumerate(["Pastone", "Todaycase", "Morrow"])
    )
    book(soon, START + timedelta(minutes=30), clock(), admin)
    book(today, START + timedelta(hours=5), clock(), admin)  # 15:00 in New York
    book(tomorrow, START + timedelta(days=1), clock(), admin)
    clock.advance(hours=2)
    sign_in(client, ADMIN)

    page = client.get("/dashboard").text

    today_section = page[page.index("Today’s consultations") : page.index("Tomorrow’s consultations")]
    tomorrow_section = page[page.index("Tomorrow’s consultations") : page.index("needing an outcome")]
    outcome_section = page[page.index("needing an outcome") : page.index("Failed emails")]
    assert "Todaycase" in today_section and "3:00 PM EST" in today_section
    assert "Morrow" in tomorrow_section and "Tuesday, March 3 at 10:00 AM EST" in tomorrow_section
    assert "Pastone" in outcome_section and "Record outcome" in outcome_section
    assert f"/leads/{soon.public_id}#consultation" in outcome_section


def test_overview_lists_failed_emails_with_a_link_to_the_outbox(clocked_app, clock, as_admin):
    lead = new_lead(clock, first_name="Bounced")
    outbox.mark_failed(messages(lead, "inquiry_received")[0], "550 mailbox unavailable")
    db.session.commit()

    page = as_admin.get("/dashboard").text

    failed = page[page.index("Failed emails") :]
    assert "550 mailbox unavailable" in failed
    assert "/outbox?view=failed" in failed


def _convert(lead: Lead, clock, admin) -> None:
    consultation = book(lead, clock() + timedelta(hours=1), clock(), admin)
    clock.advance(hours=2)
    consultations.complete(db.session, consultation, clock(), policy.current(), actor=admin)
    lifecycle.change_status(db.session, lead, LeadStatus.CONVERTED, clock(), policy.current(), actor=admin)
    db.session.commit()


def test_overview_funnel_counts_each_stage_and_conversion_by_source(clocked_app, clock, admin, client):
    won = new_lead(clock, 1, utm_source="google")
    new_lead(clock, 2, utm_source="google")
    new_lead(clock, 3)
    _convert(won, clock, admin)
    sign_in(client, ADMIN)

    page = client.get("/dashboard").text

    chart = re.search(r'<svg class="funnel-chart".*?</svg>', page, re.S).group(0)
    values = re.findall(r'class="funnel-value"[^>]*>([^<]+)<', chart)
    assert values == ["3 · 100%", "1 · 33%", "1 · 33%", "1 · 33%", "1 · 33%"]
    assert "style=" not in chart and "<script" not in chart
    rows = re.findall(
        r'<th scope="row">(\w+)</th>\s*<td class="num">(\d+)</td>\s*<td class="num">(\d+)</td>\s*<td class="num">([\d.]+) %',
        page,
    )
    assert rows == [("google", "2", "1", "50.0"), ("web", "1", "0", "0.0")]


def test_overview_funnel_period_comes_from_the_query_string(clocked_app, clock, as_admin):
    new_lead(clock)

    before = as_admin.get("/dashboard?from=2026-02-01&to=2026-02-28").text
    including = as_admin.get("/dashboard?from=2026-03-02&to=2026-03-02").text

    assert re.findall(r'class="funnel-value"[^>]*>([^<]+)<', before)[0] == "0 · 0%"
    assert re.findall(r'class="funnel-value"[^>]*>([^<]+)<', including)[0] == "1 · 100%"
    assert 'value="2026-03-02"' in including


@pytest.mark.parametrize("query", ["from=yesterday", "to=2026-02-30", "from=2026-03-10&to=2026-03-01", "to=9999-12-31"])
def test_overview_bad_period_is_flashed_and_the_last_30_days_shown(clocked_app, clock, as_admin, query):
    response = as_admin.get(f"/dashboard?{query}")

    assert response.status_code == 200
    assert any("last 30 days" in text for text in flashes(response.text))
    assert 'name="from" value="2026-02-01"' in response.text
    assert 'name="to" value="2026-03-02"' in response.text


# --- the leads list --------------------------------------------------------------------------


def test_leads_page_shows_the_columns(clocked_app, clock, as_admin, admin):
    lead = new_lead(clock, first_name="Rosalind", last_name="Okafor", condition=Condition.MIGRAINE)
    lead.assignee = admin
    db.session.commit()

    page = as_admin.get("/leads").text

    row = re.search(r"<tr>\s*<th scope=\"row\">.*?</tr>", page, re.S).group(0)
    for text in ("Rosalind Okafor", "status-new", "Riverside Ketamine Clinic", "Refractory migraine", "web", ADMIN):
        assert text in row


def test_leads_are_shown_in_their_clinics_timezone(clocked_app, clock, as_admin):
    new_lead(clock, 1, first_name="Eastern")
    new_lead(clock, 2, clinic=make_clinic("uptown", "America/Chicago"), first_name="Central")

    page = as_admin.get("/leads").text

    assert "Monday, March 2 at 10:00 AM EST" in page
    assert "Monday, March 2 at 9:00 AM CST" in page
    assert "3:00 PM" not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=closed", {"Closedcase"}),
        ("condition=migraine", {"Migrainecase"}),
        ("clinic=uptown", {"Uptowncase"}),
        ("source=newsletter", {"Newslettercase"}),
        ("assignee=sam@riverside.example", {"Assignedcase"}),
        ("assignee=none", {"Closedcase", "Migrainecase", "Uptowncase", "Newslettercase", "Latercase"}),
        ("created_from=2026-03-03", {"Latercase"}),
        ("created_to=2026-03-02", {"Closedcase", "Migrainecase", "Uptowncase", "Newslettercase", "Assignedcase"}),
        ("q=migrainecase", {"Migrainecase"}),
        ("q=0143", {"Migrainecase"}),
    ],
)
def test_leads_filters(clocked_app, clock, admin, client, query, expected):
    closed = new_lead(clock, 1, first_name="Closedcase", phone="+12015550009")
    lifecycle.change_status(
        db.session, closed, LeadStatus.CLOSED, clock(), policy.current(), actor=admin, reason="Spam."
    )
    db.session.commit()
    new_lead(clock, 2, first_name="Migrainecase", condition=Condition.MIGRAINE, phone="+12015550143")
    new_lead(clock, 3, first_name="Uptowncase", clinic=make_clinic("uptown"), phone="+12015550000")
    new_lead(clock, 4, first_name="Newslettercase", utm_source="newsletter", phone="+12015550001")
    assigned = new_lead(clock, 5, first_name="Assignedcase", phone="+12015550002")
    assigned.assignee = admin
    db.session.commit()
    clock.advance(days=1)
    new_lead(clock, 6, first_name="Latercase", phone="+12015550003")
    sign_in(client, ADMIN)

    page = client.get(f"/leads?{query}").text

    assert set(re.findall(r'<th scope="row"><a href="[^"]+">(\w+) ', page)) == expected


def test_leads_filter_form_shows_the_filters_from_the_url(clocked_app, clock, as_admin):
    make_coordinator("far@uptown.example", Role.COORDINATOR, clinic=make_clinic("uptown"))

    page = as_admin.get("/leads?status=contacted&clinic=uptown&condition=ptsd&q=dana&sort=oldest").text

    assert '<option value="contacted" selected>' in page
    assert '<option value="uptown" selected>' in page
    assert '<option value="ptsd" selected>' in page
    assert '<option value="oldest" selected>' in page
    assert 'name="q" value="dana"' in page
    assert options(page, "assignee") == ["", "none", "far@uptown.example", ADMIN]


def test_a_bad_filter_is_flashed_and_left_out(clocked_app, clock, as_admin):
    new_lead(clock, first_name="Visible")

    page = as_admin.get("/leads?status=bogus&created_from=yesterday").text

    messages_shown = flashes(page)
    assert any(text.startswith("Status:") for text in messages_shown)
    assert any(text.startswith("Created from:") for text in messages_shown)
    assert "Visible" in page


def test_next_page_walks_every_lead_once_and_keeps_the_filters(clocked_app, clock, as_admin):
    wanted = set()
    for number in range(123):
        if number % 40 == 0:
            clock.advance(minutes=1)  # many leads share a creation time: the id breaks the tie
        condition = Condition.MIGRAINE if number % 10 else Condition.ANXIETY
        lead = new_lead(clock, number, condition=condition)
        if condition == Condition.MIGRAINE:
            wanted.add(str(lead.public_id))

    seen, url, pages = [], "/leads?condition=migraine&sort=oldest", 0
    while url:
        page = as_admin.get(url).text
        pages += 1
        seen += lead_ids_on(page)
        next_links = links(page, "Next page")
        if next_links:
            assert "condition=migraine" in next_links[0] and "sort=oldest" in next_links[0]
            assert links(page, "First page") or pages == 1
        url = next_links[0] if next_links else None

    assert pages == 3
    assert len(seen) == len(set(seen)) == len(wanted)
    assert set(seen) == wanted


def test_a_bad_cursor_is_flashed_and_the_first_page_shown(clocked_app, clock, as_admin):
    new_lead(clock, first_name="Firstpage")

    page = as_admin.get("/leads?cursor=garbage").text

    assert any("cursor" in text for text in flashes(page))
    assert "Firstpage" in page


def test_a_clinic_bound_coordinator_sees_only_their_clinics_leads(clocked_app, clock, client):
    uptown = make_clinic("uptown")
    make_coordinator(COORDINATOR, Role.COORDINATOR, clinic=uptown)
    theirs = new_lead(clock, 1, first_name="Uptowner", clinic=uptown)
    other = new_lead(clock, 2, first_name="Riversider")
    sign_in(client, COORDINATOR)

    page = client.get("/leads").text

    assert "Uptowner" in page and "Riversider" not in page
    assert client.get(lead_url(theirs)).status_code == 200
    assert client.get(lead_url(other)).status_code == 404
    assert client.post(lead_url(other, "notes"), data={"body": "Hello"}).status_code == 404
    assert "Riversider" not in client.get("/dashboard").text


# --- the CSV export --------------------------------------------------------------------------


def test_csv_export_is_for_admins_only(clocked_app, clock, as_coordinator):
    new_lead(clock)

    assert as_coordinator.get("/leads/export.csv").status_code == 403
    assert "Export CSV" not in as_coordinator.get("/leads").text
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_csv_export_streams_the_filtered_leads_and_is_audited(clocked_app, clock, admin, client):
    new_lead(clock, 1, first_name="Mia", condition=Condition.MIGRAINE, message="Secret-history-xyz")
    new_lead(clock, 2, first_name="=HYPERLINK(1)", condition=Condition.MIGRAINE, phone="+12015550000")
    new_lead(clock, 3, first_name="Dee", condition=Condition.DEPRESSION, phone="+12015550001")
    sign_in(client, ADMIN)
    assert "/leads/export.csv?condition=migraine" in client.get("/leads?condition=migraine").text

    response = client.get("/leads/export.csv?condition=migraine")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="leads-20260302.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "id", "created_at", "status", "clinic", "first_name", "last_name", "email", "phone",
        "preferred_contact", "condition", "source", "utm_source", "utm_medium", "utm_campaign", "assignee",
    ]  # fmt: skip
    assert sorted(row["first_name"] for row in rows) == ["'=HYPERLINK(1)", "Mia"]
    assert {row["condition"] for row in rows} == {"migraine"}
    assert rows[0]["created_at"] == "2026-03-02T10:00:00-05:00"
    assert {row["phone"] for row in rows} == {"+12015550143", "+12015550000"}
    assert "Secret-history-xyz" not in response.text
    synced()
    (entry,) = db.session.scalars(sa.select(AuditEntry)).all()
    assert (entry.action, entry.actor.email) == ("leads_exported", ADMIN)
    assert entry.data == {"filters": {"condition": "migraine"}, "count": 2}


def test_csv_export_with_a_bad_filter_exports_nothing(clocked_app, clock, as_admin):
    new_lead(clock)

    response = as_admin.get("/leads/export.csv?status=bogus")

    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


# --- one lead --------------------------------------------------------------------------------


def test_lead_page_shows_contact_inquiry_consent_and_timeline(clocked_app, clock, as_admin):
    lead = new_lead(
        clock, first_name="Rosalind", message="Nothing has helped.", heard_about="Friend", utm_campaign="spring"
    )

    page = as_admin.get(lead_url(lead)).text

    for text in (
        "+1 201-555-0143",
        "Phone call",
        "Treatment-resistant depression",
        "Nothing has helped.",
        "Friend",
        "spring",
        "I agree.",
        "203.0.113.9",
        "Monday, March 2 at 10:00 AM EST",
        "Inquiry received",
        "Email: inquiry received",
    ):
        assert text in page, text


def test_access_log_shows_who_opened_the_record_and_when(clocked_app, clock, admin, coordinator, client):
    lead = new_lead(clock)
    sign_in(client, COORDINATOR).get(lead_url(lead))
    client.post("/logout")
    clock.advance(minutes=5)
    sign_in(client, ADMIN)

    page = client.get(lead_url(lead)).text

    log = page[page.index("Access log") :]
    assert log.index(ADMIN) < log.index(COORDINATOR)
    assert "10:05 AM EST" in log and "10:00 AM EST" in log
    assert actor_emails(lead, "viewed") == [COORDINATOR, ADMIN]


def test_only_the_allowed_status_changes_are_offered(clocked_app, clock, as_admin):
    lead = new_lead(clock)

    page = as_admin.get(lead_url(lead)).text

    assert options(page, "status-to") == [status.value for status in lifecycle.manual_targets(lead)]
    assert options(page, "status-to") == ["contacted", "unresponsive", "closed"]


@pytest.mark.parametrize("forged", ["converted", "consultation_scheduled", "consulted", "no_show", "new"])
def test_a_forged_status_change_is_refused(clocked_app, clock, as_admin, forged):
    lead = new_lead(clock)

    response = as_admin.post(lead_url(lead, "status"), data={"status": forged}, follow_redirects=True)

    assert errors(response.text)
    synced()
    assert lead.status == LeadStatus.NEW
    assert events(lead, "status_changed") == []


def test_closing_needs_a_reason_and_is_recorded_with_the_coordinator(clocked_app, clock, as_admin):
    lead = new_lead(clock)

    refused = as_admin.post(lead_url(lead, "status"), data={"status": "closed"}, follow_redirects=True)
    response = as_admin.post(lead_url(lead, "status"), data={"status": "closed", "reason": "Not a fit."})

    assert any("reason" in text for text in flashes(refused.text))
    assert response.status_code == 302
    assert response.location == f"{lead_url(lead)}#actions"
    synced()
    assert lead.status == LeadStatus.CLOSED
    (event,) = events(lead, "status_changed")
    assert (event.actor.email, event.data["to_status"], event.data["reason"]) == (ADMIN, "closed", "Not a fit.")


def test_assigning_offers_who_may_see_the_lead_and_records_it(clocked_app, clock, admin, client):
    lead = new_lead(clock)
    colleague = make_coordinator(COORDINATOR, Role.COORDINATOR)
    make_coordinator("far@uptown.example", Role.COORDINATOR, clinic=make_clinic("uptown"))
    gone = make_coordinator("gone@riverside.example", Role.COORDINATOR)
    gone.active = False
    db.session.commit()
    sign_in(client, ADMIN)

    offered = options(client.get(lead_url(lead)).text, "assignee-choice")
    outsider = client.post(lead_url(lead, "assign"), data={"assignee": str(gone.public_id)}, follow_redirects=True)
    client.post(lead_url(lead, "assign"), data={"assignee": str(colleague.public_id)})

    assert offered == ["none", str(colleague.public_id), str(admin.public_id)]
    assert any("Not a valid choice" in text for text in flashes(outsider.text))
    synced()
    assert lead.assignee.email == COORDINATOR
    client.post(lead_url(lead, "assign"), data={"assignee": "none"})
    synced()
    assert lead.assignee is None
    assert [(e.actor.email, e.data["from_assignee"], e.data["to_assignee"]) for e in events(lead, "assigned")] == [
        (ADMIN, None, COORDINATOR),
        (ADMIN, COORDINATOR, None),
    ]


def test_a_note_is_added_with_the_coordinator_and_shown(clocked_app, clock, as_coordinator):
    lead = new_lead(clock)

    empty = as_coordinator.post(lead_url(lead, "notes"), data={"body": "  "}, follow_redirects=True)
    as_coordinator.post(lead_url(lead, "notes"), data={"body": "Prefers mornings."})

    assert any("Write the note" in text for text in flashes(empty.text))
    (note,) = events(lead, "note")
    assert (note.actor.email, note.data["body"]) == (COORDINATOR, "Prefers mornings.")
    assert "Prefers mornings." in as_coordinator.get(lead_url(lead)).text


def test_a_logged_call_that_reached_the_prospect_makes_the_lead_contacted(clocked_app, clock, as_coordinator):
    lead = new_lead(clock)

    page = as_coordinator.get(lead_url(lead)).text
    as_coordinator.post(lead_url(lead, "calls"), data={"outcome": "reached", "note": "Call back Friday."})

    assert options(page, "call-outcome") == list(lifecycle.CALL_OUTCOMES)
    synced()
    assert lead.status == LeadStatus.CONTACTED
    (call,) = events(lead, "call_logged")
    assert (call.actor.email, call.data["outcome"], call.data["note"]) == (COORDINATOR, "reached", "Call back Friday.")
    assert actor_emails(lead, "status_changed") == [COORDINATOR]


def test_a_call_with_an_unknown_outcome_is_refused(clocked_app, clock, as_coordinator):
    lead = new_lead(clock)

    as_coordinator.post(lead_url(lead, "calls"), data={"outcome": "maybe"})

    assert events(lead, "call_logged") == []


def test_booking_reads_the_time_in_the_clinics_timezone(clocked_app, clock, as_coordinator):
    lead = new_lead(clock)
    assert 'id="book-starts_at"' in as_coordinator.get(lead_url(lead)).text

    as_coordinator.post(
        lead_url(lead, "consultation"), data={"starts_at": "2026-03-03T14:00", "duration_minutes": "45"}
    )

    synced()
    consultation = db.session.scalar(sa.select(Consultation).where(Consultation.lead_id == lead.id))
    assert consultation.starts_at == datetime(2026, 3, 3, 19, 0, tzinfo=UTC)
    assert consultation.duration_minutes == 45
    assert lead.status == LeadStatus.CONSULTATION_SCHEDULED
    assert actor_emails(lead, "consultation_booked") == [COORDINATOR]
    page = as_coordinator.get(lead_url(lead)).text
    assert 'id="book-starts_at"' not in page
    assert "Tuesday, March 3 at 2:00 PM EST" in page
    assert 'id="reschedule-starts_at"' in page and 'id="cancel-reason"' in page
    assert 'id="outcome"' not in page  # not before it starts


@pytest.mark.parametrize(
    ("starts_at", "duration", "message"),
    [("2026-03-01T10:00", "30", "future"), ("2026-03-03T10:00", "2", "minutes"), ("9999-12-31T23:59", "30", "year")],
)
def test_a_bad_booking_is_refused_with_the_reason(clocked_app, clock, as_coordinator, starts_at, duration, message):
    lead = new_lead(clock)

    response = as_coordinator.post(
        lead_url(lead, "consultation"),
        data={"starts_at": starts_at, "duration_minutes": duration},
        follow_redirects=True,
    )

    assert any(message in text for text in flashes(response.text))
    synced()
    assert lead.status == LeadStatus.NEW
    assert db.session.scalar(sa.select(sa.func.count(Consultation.id))) == 0


def test_rescheduling_and_cancelling_the_consultation(clocked_app, clock, admin, client):
    lead = new_lead(clock)
    consultation = book(lead, START + timedelta(days=1), clock(), admin)
    sign_in(client, ADMIN)

    client.post(
        lead_url(lead, "consultation/reschedule"),
        data={"consultation": str(consultation.public_id), "starts_at": "2026-03-04T09:30"},
    )
    synced()
    assert consultation.starts_at == datetime(2026, 3, 4, 14, 30, tzinfo=UTC)
    client.post(
        lead_url(lead, "consultation/cancel"), data={"consultation": str(consultation.public_id), "reason": "Ill."}
    )

    synced()
    assert consultation.status == ConsultationStatus.CANCELLED
    assert lead.status == LeadStatus.CONTACTED
    assert actor_emails(lead, "consultation_rescheduled") == [ADMIN]
    (cancelled,) = events(lead, "consultation_cancelled")
    assert (cancelled.actor.email, cancelled.data["reason"]) == (ADMIN, "Ill.")


def test_an_action_on_a_consultation_the_page_no_longer_shows_is_refused(clocked_app, clock, admin, as_admin):
    lead = new_lead(clock)
    book(lead, START + timedelta(days=1), clock(), admin)

    response = as_admin.post(
        lead_url(lead, "consultation/cancel"), data={"consultation": "stale", "reason": "x"}, follow_redirects=True
    )

    assert any("changed since the page was shown" in text for text in flashes(response.text))
    assert events(lead, "consultation_cancelled") == []


def test_the_outcome_is_offered_and_recorded_once_the_consultation_started(clocked_app, clock, admin, client):
    lead = new_lead(clock)
    consultation = book(lead, START + timedelta(hours=1), clock(), admin)
    sign_in(client, ADMIN)
    early = client.post(
        lead_url(lead, "consultation/outcome"),
        data={"consultation": str(consultation.public_id), "outcome": "completed"},
        follow_redirects=True,
    )
    assert any("once the consultation has started" in text for text in flashes(early.text))
    clock.advance(hours=2)

    assert 'id="outcome"' in client.get(lead_url(lead)).text
    client.post(
        lead_url(lead, "consultation/outcome"), data={"consultation": str(consultation.public_id), "outcome": "no_show"}
    )

    synced()
    assert consultation.status == ConsultationStatus.NO_SHOW
    assert lead.status == LeadStatus.NO_SHOW
    (outcome,) = events(lead, "consultation_outcome")
    assert (outcome.actor.email, outcome.data["outcome"]) == (ADMIN, "no_show")


def test_unsubscribing_the_prospect_stops_marketing_and_names_the_coordinator(clocked_app, clock, as_coordinator):
    lead = new_lead(clock)

    as_coordinator.post(lead_url(lead, "unsubscribe"))
    again = as_coordinator.post(lead_url(lead, "unsubscribe"), follow_redirects=True)

    assert db.session.scalar(sa.select(Suppression.email)) == lead.email
    assert len(events(lead, "unsubscribed")) == 1
    assert actor_emails(lead, "unsubscribed") == [COORDINATOR]
    assert any("already unsubscribed" in text for text in flashes(again.text))
    assert "This address is unsubscribed" in again.text


def test_only_an_admin_may_erase(clocked_app, clock, as_coordinator):
    lead = new_lead(clock)

    assert 'id="erase-confirm"' not in as_coordinator.get(lead_url(lead)).text
    response = as_coordinator.post(lead_url(lead, "erase"), data={"confirm": "ERASE", "reason": "Asked."})

    assert response.status_code == 403
    synced()
    assert lead.erased_at is None


def test_erasing_needs_the_typed_confirmation_and_leaves_a_tombstone(clocked_app, clock, as_admin):
    lead = new_lead(clock, first_name="Forgetme", message="Secret-history-xyz")

    unconfirmed = as_admin.post(
        lead_url(lead, "erase"), data={"confirm": "erase", "reason": "Asked."}, follow_redirects=True
    )
    assert any("Type ERASE" in text for text in flashes(unconfirmed.text))
    as_admin.post(lead_url(lead, "erase"), data={"confirm": "ERASE", "reason": "Asked by phone."})

    synced()
    assert lead.erased_at is not None
    (tombstone,) = events(lead, "erased")
    assert (tombstone.actor.email, tombstone.data["reason"]) == (ADMIN, "Asked by phone.")
    page = as_admin.get(lead_url(lead)).text
    assert "Erased." in page and "Personal data erased" in page
    assert "Forgetme" not in page and "Secret-history-xyz" not in page and "prospect0" not in page
    assert 'id="note-body"' not in page
    assert as_admin.post(lead_url(lead, "notes"), data={"body": "More data"}).status_code == 302
    assert events(lead, "note") == []


# --- the outbox ------------------------------------------------------------------------------


def _failed_and_scheduled(clock) -> tuple[Lead, Message, Message]:
    lead = new_lead(clock, first_name="Mailcase")
    failed, scheduled = messages(lead)
    outbox.mark_failed(failed, "550 mailbox unavailable")
    scheduled.send_at = clock() + timedelta(hours=3)
    db.session.commit()
    return lead, failed, scheduled


def test_outbox_tabs_show_scheduled_failed_and_recent_emails(clocked_app, clock, as_admin):
    lead, failed, scheduled = _failed_and_scheduled(clock)
    other = new_lead(clock, 2)
    sent = messages(other)[0]
    outbox.mark_sent(sent, clock())
    db.session.commit()

    tabs = {view: as_admin.get(f"/outbox?view={view}").text for view in ("scheduled", "failed", "recent")}

    assert "new lead alert" in tabs["scheduled"] and "Cancel" in tabs["scheduled"]
    assert "Monday, March 2 at 1:00 PM EST" in tabs["scheduled"]
    assert "550 mailbox unavailable" in tabs["failed"] and "Retry" in tabs["failed"]
    assert f"/leads/{lead.public_id}" in tabs["failed"]
    assert "status-sent" in tabs["recent"] and "status-failed" not in tabs["recent"]
    assert "status-sent" in as_admin.get("/outbox").text


def test_retrying_a_failed_email_puts_it_back_and_is_recorded(clocked_app, clock, as_coordinator, coordinator):
    lead, failed, _ = _failed_and_scheduled(clock)

    response = as_coordinator.post(f"/outbox/{failed.public_id}/retry")

    assert response.location == "/outbox?view=failed"
    synced()
    assert (failed.status, failed.attempts, failed.send_at) == (MessageStatus.SCHEDULED, 0, clock())
    (event,) = events(lead, "email_retried")
    assert (event.actor.email, event.data["email"]) == (COORDINATOR, failed.kind)


def test_cancelling_a_scheduled_email_is_recorded(clocked_app, clock, as_coordinator):
    lead, _, scheduled = _failed_and_scheduled(clock)

    response = as_coordinator.post(f"/outbox/{scheduled.public_id}/cancel", data={"next": lead_url(lead)})
    again = as_coordinator.post(f"/outbox/{scheduled.public_id}/cancel", follow_redirects=True)

    assert response.location == lead_url(lead)
    synced()
    assert scheduled.status == MessageStatus.CANCELLED
    assert actor_emails(lead, "email_cancelled") == [COORDINATOR]
    assert any("Too late" in text for text in flashes(again.text))


def test_outbox_shows_and_touches_only_the_coordinators_clinic(clocked_app, clock, client):
    uptown = make_clinic("uptown")
    make_coordinator(COORDINATOR, Role.COORDINATOR, clinic=uptown)
    _, failed, _ = _failed_and_scheduled(clock)
    sign_in(client, COORDINATOR)

    assert "550 mailbox unavailable" not in client.get("/outbox?view=failed").text
    assert client.post(f"/outbox/{failed.public_id}/retry").status_code == 404
    assert client.post("/outbox/not-a-uuid/retry").status_code == 404


def test_outbox_pages_through_more_than_fifty(clocked_app, clock, as_admin):
    for number in range(30):
        new_lead(clock, number)  # two emails each

    first = as_admin.get("/outbox?view=scheduled").text
    (next_url,) = links(first, "Next page")
    second = as_admin.get(next_url).text

    first_rows = re.findall(r'<tr class="message-', first)
    second_rows = re.findall(r'<tr class="message-', second)
    assert (len(first_rows), len(second_rows)) == (50, 10)
    assert links(second, "Next page") == [] and links(second, "First page") == ["/outbox?view=scheduled"]


# --- CSRF, headers, no inline code -------------------------------------------------------------


def test_a_post_without_csrf_token_is_refused(clocked_app, clock, app, as_admin):
    lead = new_lead(clock)
    app.config["WTF_CSRF_ENABLED"] = True

    response = as_admin.post(lead_url(lead, "notes"), data={"body": "Forged"})

    assert response.status_code == 400
    assert events(lead, "note") == []


def test_a_post_with_the_csrf_token_from_the_page_is_accepted(clocked_app, clock, app, as_admin):
    lead = new_lead(clock)
    app.config["WTF_CSRF_ENABLED"] = True
    page = as_admin.get(lead_url(lead)).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    response = as_admin.post(lead_url(lead, "notes"), data={"body": "Real", "csrf_token": token})

    assert response.status_code == 302
    assert [event.data["body"] for event in events(lead, "note")] == ["Real"]


def test_every_post_form_on_the_pages_carries_a_csrf_token(clocked_app, clock, admin, as_admin):
    lead, _, _ = _failed_and_scheduled(clock)
    book(new_lead(clock, 2), START + timedelta(hours=1), clock(), admin)
    pages = [as_admin.get(path).text for path in ("/dashboard", "/leads", lead_url(lead), "/outbox?view=failed")]

    for page in pages:
        forms = re.findall(r"<form[^>]*>.*?</form>", page, re.S)
        posts = [form for form in forms if 'method="post"' in form]
        assert posts
        assert all('name="csrf_token"' in form for form in posts)


@pytest.mark.parametrize("path", ["/dashboard", "/leads", "LEAD", "/outbox", "/outbox?view=failed"])
def test_dashboard_pages_send_strict_security_headers_and_no_inline_code(clocked_app, clock, as_admin, path):
    lead = new_lead(clock)

    response = as_admin.get(lead_url(lead) if path == "LEAD" else path)

    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in response.text
    assert "style=" not in response.text and "<style" not in response.text
    assert not re.search(r"\son[a-z]+\s*=", response.text)


def test_the_public_form_may_be_framed_by_the_clinic_site_only(app_config, app):
    framed = create_app(app_config | {"FORM_FRAME_ANCESTORS": "https://www.riverside.example"})
    try:
        response = framed.test_client().get("/inquire")
        dashboard = framed.test_client().get("/login")
    finally:
        with framed.app_context():
            db.session.remove()
            db.engine.dispose()

    assert "frame-ancestors 'self' https://www.riverside.example" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors 'none'" in dashboard.headers["Content-Security-Policy"]


def test_the_public_form_is_framed_by_itself_when_no_origin_is_configured(client):
    response = client.get("/inquire")

    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'self'")


# --- query counts --------------------------------------------------------------------------------


@contextmanager
def counted_statements(engine):
    statements: list[str] = []

    def count(_connection, _cursor, statement, _parameters, _context, _executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _leads_with_assignees_and_failures(clock, numbers: range, assignee_ids: list[int]) -> None:
    for number in numbers:
        lead = new_lead(clock, number, utm_source=("google", "newsletter", "")[number % 3])
        lead.assignee_id = assignee_ids[number % len(assignee_ids)] if number % 3 else None
        outbox.mark_failed(messages(lead)[0], "550 mailbox unavailable")
        db.session.commit()


@pytest.mark.parametrize("path", ["/leads", "/dashboard", "/outbox?view=failed", "/outbox?view=scheduled"])
def test_pages_run_as_many_statements_for_30_leads_as_for_5(app, clock, client, path):
    # Each request in its own app context and session, as in production (no test context around it).
    app.config["CLOCK"] = clock
    with app.app_context():
        team = [make_coordinator(ADMIN, Role.ADMIN)]
        team += [make_coordinator(f"c{n}@riverside.example", Role.COORDINATOR) for n in range(3)]
        team_ids = [member.id for member in team]
        make_clinic("uptown")
        _leads_with_assignees_and_failures(clock, range(5), team_ids)
        engine = db.engine
    sign_in(client, ADMIN)
    client.get(path)

    with counted_statements(engine) as few:
        assert client.get(path).status_code == 200
    with app.app_context():
        _leads_with_assignees_and_failures(clock, range(5, 30), team_ids)
    with counted_statements(engine) as many:
        page = client.get(path).text

    if path == "/leads":
        assert len(lead_ids_on(page)) == 30
    assert len(many) == len(few), "\n\n".join(many)
    assert len(few) <= 10, "\n\n".join(few)


# --- sessions and sign-in --------------------------------------------------------------------------


def test_an_idle_session_ends(clocked_app, clock, client, admin):
    clocked_app.config.update(SESSION_IDLE_TIMEOUT="15m", SESSION_LIFETIME="12h")
    sign_in(client, ADMIN)
    idle = parse_duration(clocked_app.config["SESSION_IDLE_TIMEOUT"])
    clock.advance(seconds=idle.total_seconds() - 60)
    assert client.get("/dashboard").status_code == 200

    clock.advance(seconds=idle.total_seconds() + 60)
    response = client.get("/dashboard")

    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_a_session_ends_after_its_lifetime_however_active(clocked_app, clock, client, admin):
    clocked_app.config.update(SESSION_IDLE_TIMEOUT="15m", SESSION_LIFETIME="12h")
    sign_in(client, ADMIN)
    lifetime = parse_duration(clocked_app.config["SESSION_LIFETIME"])
    step = parse_duration(clocked_app.config["SESSION_IDLE_TIMEOUT"]) - timedelta(minutes=1)
    while clock() + step < START + lifetime:
        clock.advance(seconds=step.total_seconds())
        assert client.get("/leads").status_code == 200

    clock.advance(seconds=step.total_seconds())
    response = client.get("/leads")

    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_failed_sign_ins_are_throttled_per_account(app_config, app, clock):
    throttled = create_app(
        app_config
        | {"LOGIN_RATE_LIMIT": "3 per 15 minutes", "RATELIMIT_STORAGE_URI": "memory://", "WTF_CSRF_ENABLED": False}
    )
    throttled.config["CLOCK"] = clock
    try:
        with throttled.app_context():
            make_coordinator(COORDINATOR, Role.COORDINATOR)
            make_coordinator(ADMIN, Role.ADMIN)
        client = throttled.test_client()
        wrong = {"email": COORDINATOR, "password": "not the pass phrase"}

        attempts = [client.post("/login", data=wrong).status_code for _ in range(3)]
        blocked = client.post("/login", data=wrong)
        right_but_blocked = client.post("/login", data={"email": COORDINATOR, "password": PASSWORD})
        other = client.post("/login", data={"email": ADMIN, "password": PASSWORD})
    finally:
        with throttled.app_context():
            db.session.remove()
            db.engine.dispose()

    assert attempts == [200, 200, 200]
    assert blocked.status_code == 429
    assert right_but_blocked.status_code == 429
    assert other.status_code == 302


def test_every_dashboard_page_needs_a_signed_in_coordinator(clocked_app, clock, client):
    lead = new_lead(clock)

    for path in ("/dashboard", "/leads", "/leads/export.csv", lead_url(lead), "/outbox"):
        assert client.get(path).location.startswith("/login"), path
    for action in ("status", "assign", "notes", "calls", "consultation", "unsubscribe", "erase"):
        assert client.post(lead_url(lead, action)).location.startswith("/login"), action
    assert events(lead, "viewed") == []
    synced()
    assert db.session.scalar(sa.select(sa.func.count(LeadEvent.id))) == 1
