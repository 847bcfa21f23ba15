"""Inbound email, the transport side: anymail's inbound webhook views authenticate the
provider's POST (its shared-secret basic auth) and normalise the mail; the helpers here
read its addresses and keep only the customer's new text. The receiver that routes it
to a conversation is conversations.edges.email.

Wired: Postmark (POST /v1/webhooks/email/inbound/postmark). Another provider is one URL
line with `anymail_inbound_view(<anymail's inbound view for it>)`: the receiver is the
same for all of them."""

import logging
from collections.abc import Callable
from html.parser import HTMLParser

from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailError,
    AnymailWebhookValidationFailure,
)
from anymail.inbound import AnymailInboundMessage
from anymail.webhooks.base import AnymailCoreWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from mailparser_reply import EmailMessage

from core.errors import error_body

logger = logging.getLogger(__name__)

# The parser's well-tested languages. Its others carry signature words that begin
# ordinary English lines (Danish "Tak" would cut "Take the 9:00 slot").
REPLY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl")


class MalformedInbound(Exception):
    """The body is not an inbound message of the provider's (anymail could not parse it)."""


def anymail_inbound_view(
    view_class: type[AnymailCoreWebhookView],
) -> Callable[[HttpRequest], HttpResponse]:
    """anymail's view as is, except that a failed authentication, and a body anymail
    cannot parse as the provider's inbound message, are answered with a 400 in the
    API's error shape (anymail raises, and the error middleware would answer 500)."""

    class Parsing(view_class):
        def parse_events(self, request: HttpRequest) -> list:
            try:
                return super().parse_events(request)
            except (
                AnymailError,
                AnymailConfigurationError,
                ValueError,
                KeyError,
                AttributeError,
                TypeError,
            ) as exc:
                raise MalformedInbound(f"{type(exc).__name__}: {exc}") from exc

    view = Parsing.as_view()

    @csrf_exempt
    def webhook(request: HttpRequest) -> HttpResponse:
        try:
            return view(request)
        except AnymailWebhookValidationFailure as exc:
            logger.warning("Inbound email webhook refused: %s", exc)
            return JsonResponse(
                error_body("Missing or invalid basic auth.", "bad_request"), status=400
            )
        except MalformedInbound as exc:
            logger.warning("Inbound email webhook with a malformed body: %s", exc)
            return JsonResponse(
                error_body("The body is not an inbound email message.", "bad_request"),
                status=400,
            )

    return webhook


postmark_inbound = anymail_inbound_view(PostmarkInboundWebhookView)


def addr(address: object) -> str:
    spec = getattr(address, "addr_spec", "") or ""  # a multi-address From is a list: none
    return spec.strip().lower()


def recipients(message: AnymailInboundMessage) -> set[str]:
    # The envelope recipient covers Bcc and forwarding, where the headers name others.
    found = {addr(a) for a in [*message.to, *message.cc, *message.bcc]}
    envelope = message.envelope_recipient
    if isinstance(envelope, str):
        found.add(envelope.strip().lower())
    return found - {""}


def reply_text(message: AnymailInboundMessage) -> str:
    """The customer's new words: the latest reply without quoted history, signature or
    disclaimers. Source: the text/plain part, else a text rendering of the HTML part."""
    source = _part(message, "text") or html_to_text(_part(message, "html"))
    if not source.strip():
        return ""
    parsed = EmailMessage(
        text=source, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True
    ).read()
    latest = parsed.replies[0].body if parsed.replies else ""
    return latest or source.strip()


def _part(message: AnymailInboundMessage, kind: str) -> str:
    """The text or HTML part as text; "" when the mail has none or anymail cannot read
    it (a part that is no string: a provider's malformed JSON, say)."""
    try:
        value = getattr(message, kind)
    except Exception:  # the stdlib's MIME decoding fails in many ways on malformed parts
        logger.warning("Inbound email with an unreadable %s part", kind)
        return ""
    return value if isinstance(value, str) else ""


class _TextRenderer(HTMLParser):
    """HTML to plain lines. Blockquotes are quoted history in every mail client that
    writes HTML, so they are dropped here already."""

    SKIP = frozenset({"blockquote", "style", "script", "head", "title"})
    BREAK = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BREAK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)  # <br/> is one break, not two

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    renderer = _TextRenderer()
    renderer.feed(html)
    renderer.close()
    lines = (" ".join(line.split()) for line in "".join(renderer.parts).splitlines())
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
