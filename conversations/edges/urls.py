"""The provider edges' routes: Twilio's callbacks, inbound email, the unsubscribe page."""

from django.urls import path

from channels.email_inbound import postmark_inbound
from conversations.edges.email import email_unsubscribe
from conversations.edges.twilio import TwilioSmsView, TwilioStatusView

urlpatterns = [
    path("v1/webhooks/twilio/status", TwilioStatusView.as_view(), name="twilio-status"),
    path("v1/webhooks/twilio/sms", TwilioSmsView.as_view(), name="twilio-sms"),
    path("v1/webhooks/email/inbound/postmark", postmark_inbound, name="email-inbound-postmark"),
    path("unsubscribe/<str:token>", email_unsubscribe, name="email-unsubscribe"),
]
