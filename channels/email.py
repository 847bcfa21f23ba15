"""Outbound email: addressing, MIME building and sending through Django's mail framework.

No ORM here: callers pass plain values, so inbound routing and tests need no database.
"""

import base64
import binascii
import re
import smtplib
import uuid
from email.utils import parseaddr

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare, salted_hmac

from channels.errors import PermanentError, TransientError

REPLY_PREFIX = "reply+"
_REPLY_SALT = "channels.email.reply-address"
_UNSUBSCRIBE_SALT = "email-unsubscribe"
# 80 bits: forging a reply address needs ~2**80 tries; keeps the local part at 49 chars.
_REPLY_MAC_BYTES = 10
_LINE_BREAKS = re.compile(r"[\r\n]+")


def _one_line(value: str) -> str:
    # A CR or LF in a header value would start a new header (header injection).
    return _LINE_BREAKS.sub(" ", str(value)).strip()


def message_id_for(message_id: str, domain: str) -> str:
    # Derived from the stored message, so a re-send keeps its id and clients de-duplicate.
    return f"<msg.{_one_line(message_id)}@{_one_line(domain)}>"


def _b32(raw: bytes) -> str:
    # Lower-case base32 without padding: survives MTAs that lower-case local parts.
    return base64.b32encode(raw).decode().rstrip("=").lower()


def _unb32(text: str) -> bytes:
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


def _reply_mac(raw: bytes, secret: str) -> str:
    digest = salted_hmac(_REPLY_SALT, raw, secret=secret, algorithm="sha256").digest()
    return _b32(digest[:_REPLY_MAC_BYTES])


def reply_address(*, conversation_id: str, domain: str) -> str:
    raw = uuid.UUID(str(conversation_id)).bytes
    token = f"{_b32(raw)}.{_reply_mac(raw, settings.SECRET_KEY)}"
    return f"{REPLY_PREFIX}{token}@{_one_line(domain)}"


def conversation_id_from_reply_address(address: str) -> str | None:
    """The conversation a reply address routes to; None when it is not ours or tampered."""
    _, addr = parseaddr(address or "")
    local, _, _domain = addr.rpartition("@")
    local = local.lower()
    if not local.startswith(REPLY_PREFIX):
        return None
    encoded, _, mac = local[len(REPLY_PREFIX) :].partition(".")
    try:
        raw = _unb32(encoded)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 16:
        return None
    # Old keys still verify, so rotating SECRET_KEY does not orphan threads in flight.
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(constant_time_compare(mac, _reply_mac(raw, secret)) for secret in secrets):
        return None
    return str(uuid.UUID(bytes=raw))


def unsubscribe_token(*, contact_id: str, workspace_id: str) -> str:
    return signing.dumps([str(contact_id), str(workspace_id)], salt=_UNSUBSCRIBE_SALT)


def unsubscribe_verify(token: str) -> tuple[str, str] | None:
    # No max_age: an unsubscribe link in an old email must keep working.
    try:
        value = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        return None
    return value[0], value[1]


def build_email(
    *,
    message_id: str,
    to: str,
    from_email: str,
    subject: str,
    body: str,
    signature: str = "",
    reply_to: str = "",
    references: list[str] | None = None,
    unsubscribe_url: str = "",
    domain: str,
    private: bool = False,
) -> EmailMultiAlternatives:
    references = [_one_line(ref) for ref in references or [] if _one_line(ref)]
    unsubscribe_url = _one_line(unsubscribe_url)
    subject = _one_line(subject) or "(no subject)"
    context = {
        "subject": subject,
        "body": body.strip(),
        "signature": signature.strip(),
        "unsubscribe_url": unsubscribe_url,
    }
    headers = {"Message-ID": message_id_for(message_id, domain)}
    if references:
        # Threading: clients attach the email under the last one they saw from us.
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
    if unsubscribe_url:
        # RFC 8058 one-click: mailbox providers POST to the URL without a browser.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("email/message.txt", context),
        from_email=_one_line(from_email),
        to=[_one_line(to)],
        reply_to=[_one_line(reply_to)] if _one_line(reply_to) else None,
        headers=headers,
    )
    email.attach_alternative(render_to_string("email/message.html", context), "text/html")
    # Not a header: it never leaves this process. Backends that write mail to a log or
    # the console (ConsoleEmailBackend) read it and withhold the text.
    email.private = private
    return email


class ConsoleEmailBackend(ConsoleBackend):
    """Django's console backend (the embedded default), except that the text of a HIPAA
    flow's email is never written out: headers only, the body withheld."""

    def write_message(self, message: EmailMessage) -> None:
        if getattr(message, "private", False):
            withheld = EmailMessage(
                subject=message.subject,
                body="[text withheld: HIPAA flow]",
                from_email=message.from_email,
                to=message.to,
                headers={k: v for k, v in message.extra_headers.items() if k == "Message-ID"},
            )
            return super().write_message(withheld)
        return super().write_message(message)


def _classify_code(code: int, message: str) -> Exception:
    if 400 <= code < 500:
        return TransientError(message, code=str(code))
    return PermanentError(message, code=str(code))


def send_email(email: EmailMultiAlternatives) -> str:
    """Send through settings.EMAIL_BACKEND and return the Message-ID."""
    try:
        email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{rcpt}: {code} {_decode(msg)}" for rcpt, (code, msg) in exc.recipients.items()
        )
        # One 4xx among the refusals (greylisting, full mailbox) means a retry may succeed.
        code = min(codes) if codes else 550
        raise _classify_code(code, f"recipient refused: {detail}") from exc
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
        raise TransientError(f"SMTP connection failed: {exc}") from exc
    except smtplib.SMTPResponseException as exc:
        message = f"SMTP {exc.smtp_code}: {_decode(exc.smtp_error)}"
        raise _classify_code(exc.smtp_code, message) from exc
    except (smtplib.SMTPException, OSError) as exc:
        # Timeouts, refused connections, TLS failures and unexpected SMTP replies.
        raise TransientError(f"SMTP error: {exc!r}") from exc
    return email.extra_headers["Message-ID"]


def _decode(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
