import smtplib
import uuid

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from channels.email import (
    build_email,
    conversation_id_from_reply_address,
    message_id_for,
    reply_address,
    send_email,
    unsubscribe_token,
    unsubscribe_verify,
)
from channels.errors import PermanentError, TransientError

DOMAIN = "mail.example.com"
TO = "customer@example.org"


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({TO: (550, b"no such user")})


class GreylistingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({TO: (451, b"try again later")})


class DisconnectingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class TimingOutBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise TimeoutError("timed out")


class RejectingDataBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPDataError(554, b"message rejected as spam")


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _email(**overrides):
    values = {
        "message_id": "0190a1b2-0000-7000-8000-000000000001",
        "to": TO,
        "from_email": "Acme Support <support@mail.example.com>",
        "subject": "Your order",
        "body": "Hello there.\n\nYour order has shipped.",
        "signature": "Ada\nAcme Support",
        "domain": DOMAIN,
    }
    return build_email(**(values | overrides))


def _html(email):
    [(content, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    return content


def test_subject_and_signature_appear_in_text_and_html_bodies():
    email = _email()

    assert email.subject == "Your order"
    assert "<title>Your order</title>" in _html(email)
    assert "\n-- \nAda\nAcme Support" in email.body
    assert "Ada<br>Acme Support" in _html(email)
    assert "Your order has shipped." in email.body
    assert "<p>Your order has shipped.</p>" in _html(email)


def test_blank_subject_becomes_no_subject():
    assert _email(subject="  ").subject == "(no subject)"


def test_html_body_escapes_markup_but_text_body_keeps_it_verbatim():
    email = _email(body="<script>alert(1)</script>\nline two")
    html = _html(email)

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>line two" in html
    assert "<script>alert(1)</script>\nline two" in email.body


def test_reply_in_a_thread_carries_message_id_in_reply_to_and_references():
    earlier = [message_id_for("first", DOMAIN), message_id_for("second", DOMAIN)]

    headers = _email(message_id="third", references=earlier).message()

    assert headers["Message-ID"] == "<msg.third@mail.example.com>"
    assert headers["In-Reply-To"] == "<msg.second@mail.example.com>"
    assert headers["References"] == "<msg.first@mail.example.com> <msg.second@mail.example.com>"


def test_first_email_of_a_thread_has_no_in_reply_to_or_references():
    headers = _email().message()

    assert headers["Message-ID"] == "<msg.0190a1b2-0000-7000-8000-000000000001@mail.example.com>"
    assert headers["In-Reply-To"] is None
    assert headers["References"] is None


def test_message_id_is_the_same_for_every_send_of_one_message():
    assert message_id_for("abc", DOMAIN) == message_id_for("abc", DOMAIN)
    assert message_id_for("abc", DOMAIN) != message_id_for("abd", DOMAIN)


def test_reply_to_address_routes_back_to_its_conversation():
    conversation_id = str(uuid.uuid4())
    address = reply_address(conversation_id=conversation_id, domain=DOMAIN)

    headers = _email(reply_to=address).message()

    assert headers["Reply-To"] == address
    assert conversation_id_from_reply_address(headers["Reply-To"]) == conversation_id
    assert conversation_id_from_reply_address(f"Acme <{address}>") == conversation_id


def test_reply_address_is_a_short_lower_case_safe_local_part():
    address = reply_address(conversation_id=str(uuid.uuid4()), domain=DOMAIN)
    local, domain = address.split("@")

    assert domain == DOMAIN
    assert len(local) <= 64
    assert local == local.lower()
    assert all(c.isalnum() or c in "+._-" for c in local)
    assert conversation_id_from_reply_address(address.upper()) is not None


def test_tampered_or_foreign_reply_address_gives_none():
    conversation_id = uuid.uuid4()
    address = reply_address(conversation_id=str(conversation_id), domain=DOMAIN)
    local, domain = address.split("@")
    other = reply_address(conversation_id=str(uuid.uuid4()), domain=DOMAIN)
    # The first conversation's id with the second one's signature.
    spliced = local.split(".")[0] + "." + other.split("@")[0].split(".")[1] + "@" + domain
    flipped = ("b" if local[-1] == "a" else "a").join([local[:-1], "@" + domain])

    assert conversation_id_from_reply_address(spliced) is None
    assert conversation_id_from_reply_address(flipped) is None
    assert conversation_id_from_reply_address("reply+garbage@" + DOMAIN) is None
    assert conversation_id_from_reply_address("support@" + DOMAIN) is None
    assert conversation_id_from_reply_address("") is None


def test_reply_address_stops_verifying_after_the_secret_key_changes(settings):
    conversation_id = str(uuid.uuid4())
    address = reply_address(conversation_id=conversation_id, domain=DOMAIN)
    old_key = settings.SECRET_KEY

    settings.SECRET_KEY = "a-brand-new-secret-key"
    assert conversation_id_from_reply_address(address) is None

    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert conversation_id_from_reply_address(address) == conversation_id


def test_one_click_unsubscribe_headers_are_present_only_with_an_unsubscribe_url():
    url = "https://app.example.com/unsubscribe/tok"

    with_url = _email(unsubscribe_url=url)
    without_url = _email().message()

    assert with_url.message()["List-Unsubscribe"] == f"<{url}>"
    assert with_url.message()["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in with_url.body
    assert f'href="{url}"' in _html(with_url)
    assert without_url["List-Unsubscribe"] is None
    assert without_url["List-Unsubscribe-Post"] is None
    assert "unsubscribe" not in _email().body.lower()


def test_unsubscribe_token_verifies_to_contact_and_workspace():
    contact_id, workspace_id = str(uuid.uuid4()), str(uuid.uuid4())

    token = unsubscribe_token(contact_id=contact_id, workspace_id=workspace_id)

    assert unsubscribe_verify(token) == (contact_id, workspace_id)


def test_tampered_unsubscribe_token_does_not_verify():
    token = unsubscribe_token(contact_id=str(uuid.uuid4()), workspace_id=str(uuid.uuid4()))
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")

    assert unsubscribe_verify(flipped) is None
    assert unsubscribe_verify("not-a-token") is None
    assert unsubscribe_verify("") is None


def test_cr_lf_in_header_values_cannot_inject_a_header():
    email = _email(
        subject="Hello\r\nBcc: victim@example.net",
        reply_to="reply@example.com\nX-Injected: yes",
    )

    raw = email.message().as_string()

    assert "\nBcc:" not in raw
    assert "\nX-Injected:" not in raw
    assert email.message()["Subject"] == "Hello Bcc: victim@example.net"


def test_send_email_returns_the_message_id_and_delivers_exactly_one_email():
    email = _email(reply_to=reply_address(conversation_id=str(uuid.uuid4()), domain=DOMAIN))

    message_id = send_email(email)

    assert message_id == message_id_for("0190a1b2-0000-7000-8000-000000000001", DOMAIN)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [TO]
    assert mail.outbox[0].message()["Message-ID"] == message_id


def test_recipient_refused_with_5xx_is_a_permanent_error(settings):
    settings.EMAIL_BACKEND = "tests.channels.test_email.RefusingBackend"

    with pytest.raises(PermanentError) as excinfo:
        send_email(_email())

    assert "550" in excinfo.value.message
    assert "no such user" in excinfo.value.message


def test_recipient_refused_with_4xx_is_a_transient_error(settings):
    settings.EMAIL_BACKEND = "tests.channels.test_email.GreylistingBackend"

    with pytest.raises(TransientError, match="451"):
        send_email(_email())


def test_rejected_data_with_5xx_is_a_permanent_error(settings):
    settings.EMAIL_BACKEND = "tests.channels.test_email.RejectingDataBackend"

    with pytest.raises(PermanentError, match="554"):
        send_email(_email())


@pytest.mark.parametrize("backend", ["DisconnectingBackend", "TimingOutBackend"])
def test_server_disconnect_or_timeout_is_a_transient_error(settings, backend):
    settings.EMAIL_BACKEND = f"tests.channels.test_email.{backend}"

    with pytest.raises(TransientError) as excinfo:
        send_email(_email())

    assert excinfo.value.message
