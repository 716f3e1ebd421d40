"""leads/mailer.py `build`: what the acknowledgment and the clinic's alert say, and what they never say."""

import pytest

from leads import mailer
from leads.models import Condition, Message
from tests.factories import receive

# Distinctive strings, so that "not in the email" cannot pass by accident.
LAST_NAME = "Quillfeatherby"
MESSAGE_TEXT = "Zorblax tincture made my headaches vanish-ish"
HEARD_ABOUT = "Heard-Via-Glimmerwick-Podcast"
CONDITION_WORDS = ("ptsd", "post-traumatic")


@pytest.fixture
def inquiry(clocked_app, clock) -> dict[str, Message]:
    _, messages = receive(
        clock(),
        first_name="Dana",
        last_name=LAST_NAME,
        condition=Condition.PTSD,
        message=MESSAGE_TEXT,
        heard_about=HEARD_ABOUT,
    )
    return {message.kind: message for message in messages}


@pytest.fixture
def ack(inquiry) -> Message:
    return inquiry["inquiry_received"]


@pytest.fixture
def alert(inquiry) -> Message:
    return inquiry["new_lead_alert"]


def texts(email) -> dict[str, str]:
    return {"subject": email.subject, "text": email.body, "html": email.html}


def test_acknowledgment_subject_has_first_name_and_clinic(ack):
    email = mailer.build(ack)

    assert email.subject == "We received your message, Dana | Riverside Ketamine Clinic"
    assert email.recipients == ["dana.whitfield@example.org"]


def test_acknowledgment_has_a_text_and_an_html_part(ack):
    email = mailer.build(ack)

    assert "Hi Dana," in email.body
    assert "<html" in email.html and "Hi Dana," in email.html
    assert "<" not in email.body


def test_acknowledgment_replies_go_to_the_clinic_inbox(ack):
    assert mailer.build(ack).reply_to == "frontdesk@riverside.test"


def test_message_id_is_derived_from_the_row_and_stable(ack):
    first, second = mailer.build(ack), mailer.build(ack)

    assert first.msgId == mailer.message_id(ack) == second.msgId
    assert first.msgId == f"<{ack.public_id}@riverside.test>"


def test_alert_and_acknowledgment_have_different_message_ids(ack, alert):
    assert mailer.build(ack).msgId != mailer.build(alert).msgId


@pytest.mark.parametrize("part", ["text", "html"])
def test_acknowledgment_carries_the_clinics_name_address_and_phone(ack, part):
    content = texts(mailer.build(ack))[part]

    assert "Riverside Ketamine Clinic" in content
    assert "100 Main Street, Springfield" in content
    assert "+1 555-010-0100" in content


def test_alert_goes_to_the_clinic_inbox_with_a_dashboard_link(alert):
    email = mailer.build(alert)
    link = f"http://clinic.test/leads/{alert.lead.public_id}"

    assert email.recipients == ["frontdesk@riverside.test"]
    assert email.subject == "New inquiry from Dana"
    assert link in email.body
    assert f'href="{link}"' in email.html


@pytest.mark.parametrize("part", ["subject", "text", "html"])
def test_alert_names_the_prospect_by_first_name(alert, part):
    assert "Dana" in texts(mailer.build(alert))[part]


def test_alert_has_no_reply_to_the_inbox_itself(alert):
    assert mailer.build(alert).reply_to is None


@pytest.mark.parametrize("kind", ["inquiry_received", "new_lead_alert"])
@pytest.mark.parametrize("part", ["subject", "text", "html"])
@pytest.mark.parametrize("secret", [MESSAGE_TEXT, HEARD_ABOUT, *CONDITION_WORDS])
def test_no_email_carries_health_details_or_the_prospects_words(inquiry, kind, part, secret):
    content = texts(mailer.build(inquiry[kind]))[part]

    assert secret.lower() not in content.lower()


@pytest.mark.parametrize("part", ["subject", "text", "html"])
def test_alert_does_not_carry_the_last_name(alert, part):
    assert LAST_NAME not in texts(mailer.build(alert))[part]


def test_a_repeat_inquirys_alert_says_returning(inquiry, clock):
    clock.advance(days=3)
    _, messages = receive(clock(), last_name=LAST_NAME)
    [repeat_alert] = [message for message in messages if message.kind == "new_lead_alert"]

    email = mailer.build(repeat_alert)

    assert email.subject == "Returning inquiry from Dana"
    assert "returning inquiry from Dana" in email.body
    assert "returning inquiry from Dana" in email.html


def test_a_first_inquirys_alert_does_not_say_returning(alert):
    email = mailer.build(alert)

    assert "returning" not in (email.subject + email.body + email.html).lower()


def test_first_alert_built_after_a_repeat_inquiry_still_says_new(alert, clock):
    clock.advance(minutes=1)
    receive(clock(), last_name=LAST_NAME)

    email = mailer.build(alert)

    assert email.subject == "New inquiry from Dana"
