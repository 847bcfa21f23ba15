"""What Twilio sends us: the signature check over the public URL and the form, and the
shapes of its inbound-SMS and status callbacks. The views that act on them live with
the conversations (conversations/edges/twilio.py)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from rest_framework import serializers

from channels import sms


def public_url(request: HttpRequest) -> str:
    """The URL Twilio signed: ours as the world sees it (behind proxies), not the
    internal one Django sees."""
    return f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"


def twilio_request_valid(request: HttpRequest) -> bool:
    """A form Twilio signed. A body that is no form at all (a multipart body without a
    boundary, say) cannot be Twilio's and is refused like a bad signature."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    try:
        params = {key: request.POST.get(key) for key in request.POST}
    except (MultiPartParserError, RequestDataTooBig, UnicodeDecodeError):
        return False
    return sms.twilio_signature_valid(public_url(request), params, signature)


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


# Twilio's sids are 34 characters; anything much longer is not Twilio's.
SID_MAX = 64


class TwilioInboundSms(serializers.Serializer):
    MessageSid = serializers.CharField(max_length=SID_MAX)
    From = serializers.CharField(max_length=320)
    To = serializers.CharField(max_length=320)
    Body = serializers.CharField(allow_blank=True, max_length=10_000)


class TwilioStatus(serializers.Serializer):
    MessageSid = serializers.CharField(max_length=SID_MAX)
    MessageStatus = serializers.CharField(max_length=32)
    ErrorCode = serializers.CharField(required=False, max_length=16)
