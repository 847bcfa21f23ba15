"""Customers answering by email: Postmark's inbound webhook through anymail, routing by
the signed Reply-To address or by sender and recipient, and only the new text of a reply
reaching the model. Claude is the local fake; Celery runs inline; the clock is controlled."""

import base64
import itertools
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.utils import timezone

from channels.email import reply_address
from channels.email_inbound import html_to_text
from channels.models import Sender
from conversations.models import Contact, Conversation, Message, Role
from conversations.services import conversation_create, message_create
from tests.channels.test_inbound_sms import Clock, run_due_work
from tests.factories import MessageFlowFactory

URL = "/v1/webhooks/email/inbound/postmark"
SECRET = "postmark:s3cret-inbound"
CUSTOMER = "ada@example.com"
OUR_ADDRESS = "care@clinic.example"
REPLY = """Thursday at 10 works for me.

Thanks,
Ada Lovelace
Lovelace Analytics

On Tue, Nov 24, 2026 at 11:00 AM Clinic <care@clinic.example> wrote:
> Could you come in this week? We have Thursday at 10 or Friday at 3.
> Just reply to this email.
"""


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))  # a Tuesday noon
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def flow(workspace, fake_anthropic, celery_eager, settings):
    settings.REPLY_SWEEP_GRACE = 0
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    sender = Sender.objects.create(
        workspace=workspace, channel="Email", address=OUR_ADDRESS, is_default=True
    )
    return MessageFlowFactory(
        workspace=workspace,
        is_active=True,
        autopilot=True,
        direction="bidirectional",
        message_channel="Email",
        sender=sender,
        reply_delay_seconds=30,
        email_subject_line="Your appointment",
    )


@pytest.fixture
def conversation(flow):
    contact = Contact.objects.create(workspace=flow.workspace, channel="Email", address=CUSTOMER)
    conversation = conversation_create(workspace=flow.workspace, flow=flow, contact=contact)
    message_create(
        conversation=conversation,
        role=Role.AGENT,
        text="Could you come in this week? We have Thursday at 10 or Friday at 3.",
        sender_type="flow",
    )
    return conversation


@pytest.fixture
def email(client, django_capture_on_commit_callbacks):
    counter = itertools.count()

    def send(
        text: str,
        *,
        to: str,
        sender: str = CUSTOMER,
        message_id: str | None = None,
        html: str = "",
        auth: str = SECRET,
    ) -> object:
        message_id = message_id or f"<reply.{next(counter)}@mail.example.com>"
        payload = {  # Postmark's inbound JSON, without "Include raw email content"
            "FromName": "Ada Lovelace",
            "From": sender,
            "FromFull": {"Email": sender, "Name": "Ada Lovelace", "MailboxHash": ""},
            "To": to,
            "ToFull": [{"Email": to, "Name": "", "MailboxHash": ""}],
            "Cc": "",
            "CcFull": [],
            "Bcc": "",
            "BccFull": [],
            "OriginalRecipient": to,
            "Subject": "Re: Your appointment",
            "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
            "ReplyTo": "",
            "MailboxHash": "",
            "Date": "Tue, 24 Nov 2026 12:00:00 +0000",
            "TextBody": text,
            "HtmlBody": html,
            "StrippedTextReply": "",
            "Tag": "",
            "Headers": [
                {"Name": "Return-Path", "Value": f"<{sender}>"},
                {"Name": "Message-ID", "Value": message_id},
                {"Name": "X-Spam-Status", "Value": "No"},
            ],
            "Attachments": [],
        }
        credentials = base64.b64encode(auth.encode()).decode()
        with django_capture_on_commit_callbacks(execute=True):  # as after a real commit
            return client.post(
                URL,
                payload,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Basic {credentials}",
            )

    return send


def routing_address(conversation: Conversation) -> str:
    return reply_address(conversation_id=str(conversation.pk), domain="localhost")


def customer_texts() -> list[str]:
    return [m.content for m in Message.objects.filter(role=Role.USER).order_by("created_at")]


def test_an_email_reply_threads_into_its_conversation_with_the_quoted_history_removed(
    conversation, email, clock, fake_anthropic, django_capture_on_commit_callbacks
):
    response = email(REPLY, to=routing_address(conversation))

    assert response.status_code == 200
    assert customer_texts() == ["Thursday at 10 works for me."]
    assert Message.objects.get(role=Role.USER).conversation_id == conversation.pk
    assert fake_anthropic.requests == []  # no model call inside the request

    clock.advance(31)
    run_due_work(django_capture_on_commit_callbacks)

    assert len(fake_anthropic.requests) == 1
    prompt = str(fake_anthropic.requests[0]["json"]["messages"])
    assert "Thursday at 10 works for me." in prompt
    assert "wrote:" not in prompt
    assert "Just reply to this email" not in prompt
    assert "Lovelace Analytics" not in prompt
    assert len(mail.outbox) == 1  # the agent's answer goes back by email
    assert mail.outbox[0].to == [CUSTOMER]


def test_the_same_message_id_twice_stores_one_message(conversation, email):
    email(REPLY, to=routing_address(conversation), message_id="<same@mail.example.com>")
    email(REPLY, to=routing_address(conversation), message_id="<same@mail.example.com>")

    assert customer_texts() == ["Thursday at 10 works for me."]


def test_wrong_basic_auth_is_refused_and_nothing_is_stored(conversation, email):
    response = email(REPLY, to=routing_address(conversation), auth="postmark:guess")

    assert response.status_code == 400  # anymail's answer to a failed authentication
    assert response.json()["status"] == "error"
    assert customer_texts() == []


def test_without_a_configured_secret_inbound_mail_is_ignored(conversation, email, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": ""}

    with pytest.warns(Warning, match="insecure"):
        response = email(REPLY, to=routing_address(conversation))

    assert response.status_code == 200
    assert customer_texts() == []


def test_without_the_routing_address_mail_is_routed_by_sender_and_recipient(conversation, email):
    email("Can we make it Friday instead?", to="Care@Clinic.example")  # case aside

    message = Message.objects.get(role=Role.USER)
    assert message.content == "Can we make it Friday instead?"
    assert message.conversation_id == conversation.pk


def test_a_known_contact_writing_to_our_address_with_no_open_conversation_gets_one(flow, email):
    Contact.objects.create(workspace=flow.workspace, channel="Email", address=CUSTOMER)

    email("Hello, do you have any openings next week?", to=OUR_ADDRESS)

    conversation = Conversation.objects.get()
    assert conversation.flow_id == flow.pk
    assert [m.content for m in conversation.messages.all()] == [
        "Hello, do you have any openings next week?"
    ]


def test_unroutable_mail_is_accepted_and_nothing_is_stored(conversation, email):
    stranger = email("hi", to="someone@elsewhere.example", sender="eve@example.org")
    unknown_contact = email("hi", to=OUR_ADDRESS, sender="eve@example.org")

    assert stranger.status_code == 200  # no retries from the provider
    assert unknown_contact.status_code == 200
    assert customer_texts() == []


def test_a_tampered_routing_address_does_not_route(conversation, email, workspace):
    other = conversation_create(workspace=workspace)
    genuine = routing_address(conversation)
    local, domain = genuine.split("@")
    token, mac = local.removeprefix("reply+").split(".")
    forged_token = routing_address(other).split("@")[0].removeprefix("reply+").split(".")[0]

    for forged in (f"reply+{forged_token}.{mac}@{domain}", f"reply+{token}.{mac[::-1]}@{domain}"):
        assert email(REPLY, to=forged).status_code == 200

    assert customer_texts() == []


def test_an_html_only_reply_drops_the_blockquoted_history(conversation, email):
    html = (
        "<div>Friday works better.<br>Ada</div>"
        '<div class="gmail_quote"><div>On Tue, Nov 24, 2026 Clinic wrote:</div>'
        "<blockquote><p>Could you come in this week?</p></blockquote></div>"
    )

    email("", to=routing_address(conversation), html=html)

    assert customer_texts() == ["Friday works better.\nAda"]
    assert html_to_text("<p>a&amp;b</p><style>p{}</style>") == "a&b"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"Headers": [{}]}',
        b'{"Attachments": [{}]}',
        b'{"RecordType": "Bounce"}',
        b'{"FromFull": "x"}',
    ],
    ids=["empty", "not-json", "list", "header", "attachment", "bounce", "from"],
)
def test_a_body_that_is_no_inbound_email_is_a_400(client, settings, db, body):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    credentials = base64.b64encode(SECRET.encode()).decode()

    response = client.post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Basic {credentials}"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert not Message.objects.exists()


def test_a_mail_whose_text_part_is_unreadable_is_taken_without_its_text(
    client, conversation, settings
):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    credentials = base64.b64encode(SECRET.encode()).decode()
    payload = {
        "FromFull": {"Email": CUSTOMER, "Name": "Ada"},
        "ToFull": [{"Email": routing_address(conversation), "Name": ""}],
        "TextBody": {},  # not a string: the MIME part cannot be decoded
        "Headers": [{"Name": "Message-ID", "Value": "<odd@mail.example.com>"}],
    }

    response = client.post(
        URL, payload, content_type="application/json", HTTP_AUTHORIZATION=f"Basic {credentials}"
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "odd",
    [{"OriginalRecipient": [None, None]}, {"TextBody": "hi\u0000there"}, {"FromFull": {}}],
    ids=["recipient-list", "nul-in-text", "no-sender"],
)
def test_odd_fields_of_a_parsed_mail_never_give_a_500(client, conversation, settings, odd):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    credentials = base64.b64encode(SECRET.encode()).decode()
    payload = {
        "FromFull": {"Email": CUSTOMER, "Name": "Ada"},
        "ToFull": [{"Email": routing_address(conversation), "Name": ""}],
        "TextBody": "Thursday works.",
        "Headers": [{"Name": "Message-ID", "Value": "<odd2@mail.example.com>"}],
        **odd,
    }

    response = client.post(
        URL, payload, content_type="application/json", HTTP_AUTHORIZATION=f"Basic {credentials}"
    )

    assert response.status_code in (200, 400)  # taken, or refused as malformed
