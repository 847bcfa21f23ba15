"""Play the customer: an inbound SMS through the real, signed Twilio webhook, or an
inbound email through the real Postmark webhook, of a running service (`make run`).

    python manage.py simulate_inbound --from +14155550123 --to +15005550006 --body "Yes"
    python manage.py simulate_inbound --channel email --from ada@example.com \\
        --to care@clinic.example --body "Thursday works"
"""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels.sms import twilio_signature

TIMEOUT = 10.0


class Command(BaseCommand):
    help = "Send an inbound SMS (or email) to the running service, as Twilio (or Postmark) would."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", choices=["sms", "email"], default="sms")
        parser.add_argument("--from", dest="sender", required=True, help="The customer.")
        parser.add_argument("--to", required=True, help="Our number or address (a sender).")
        parser.add_argument("--body", required=True)
        parser.add_argument(
            "--base-url",
            default=settings.PUBLIC_BASE_URL,
            help="The service's public address (default PUBLIC_BASE_URL): Twilio signs it.",
        )

    def handle(self, *args: object, **options: str) -> None:
        base = options["base_url"].rstrip("/")
        if options["channel"] == "sms":
            status, answer = self._sms(base, options["sender"], options["to"], options["body"])
        else:
            status, answer = self._email(base, options["sender"], options["to"], options["body"])
        if status >= 400:
            raise CommandError(f"The service answered {status}: {answer}")
        self.stdout.write(f"Delivered ({status}). Watch the events: GET {base}/v1/events")

    def _sms(self, base: str, sender: str, to: str, body: str) -> tuple[int, str]:
        url = f"{base}/v1/webhooks/twilio/sms"
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
            "From": sender,
            "To": to,
            "Body": body,
            "NumMedia": "0",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(url, params),
        }
        return _post(url, urllib.parse.urlencode(params).encode(), headers)

    def _email(self, base: str, sender: str, to: str, body: str) -> tuple[int, str]:
        url = f"{base}/v1/webhooks/email/inbound/postmark"
        message_id = f"<{uuid.uuid4().hex}@simulate.local>"
        payload = {  # Postmark's inbound JSON, the fields anymail reads
            "From": sender,
            "FromFull": {"Email": sender, "Name": "", "MailboxHash": ""},
            "To": to,
            "ToFull": [{"Email": to, "Name": "", "MailboxHash": ""}],
            "CcFull": [],
            "BccFull": [],
            "OriginalRecipient": to,
            "Subject": "Re: your message",
            "MessageID": str(uuid.uuid4()),
            "Date": "",
            "TextBody": body,
            "HtmlBody": "",
            "Headers": [{"Name": "Message-ID", "Value": message_id}],
            "Attachments": [],
        }
        headers = {"Content-Type": "application/json"}
        secret = settings.ANYMAIL.get("WEBHOOK_SECRET", "")
        if secret:
            headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
        return _post(url, json.dumps(payload).encode(), headers)


def _post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, str]:
    if not url.startswith(("http://", "https://")):
        raise CommandError(f"Not an http(s) URL: {url}")
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return response.status, response.read(500).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(500).decode(errors="replace")
    except OSError as exc:
        raise CommandError(f"Could not reach {url}: {exc}. Is the service running?") from exc
