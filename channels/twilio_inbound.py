"""What Twilio sends us: the signature check over the public URL and the form, and the
shapes of its inbound-SMS and status callbacks. The views that act on them live with
the conversations (conversations/edges/twilio.py)."""

from django.conf import settings
from django.http import HttpRequest
from rest_framework import serializers

from channels import sms


def public_url(request: HttpRequest) -> str:
    """The URL Twilio signed: ours as the world sees it (behind proxies), not the
    internal one Django sees."""
    return f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"


def twilio_request_valid(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    params = {key: request.POST.get(key) for key in request.POST}
    return bool(signature) and sms.twilio_signature_valid(public_url(request), params, signature)


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class TwilioInboundSms(serializers.Serializer):
    MessageSid = serializers.CharField()
    From = serializers.CharField()
    To = serializers.CharField()
    Body = serializers.CharField(allow_blank=True)


class TwilioStatus(serializers.Serializer):
    MessageSid = serializers.CharField()
    MessageStatus = serializers.CharField()
    ErrorCode = serializers.CharField(required=False)
