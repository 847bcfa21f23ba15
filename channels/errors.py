"""One error family for every transport (SMS, email, outbound webhooks): what a
provider's answer means for the message, not which provider gave it.

- TransientError: the provider certainly did not take it; safe to send again later.
- UnknownOutcomeError: the request may have reached the provider; look before sending
  again, never blindly.
- PermanentError: refused for good; retrying will not help.
"""


class TransportError(Exception):
    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after


class TransientError(TransportError):
    """Not taken: safe to retry later (after `retry_after` seconds when given)."""


class UnknownOutcomeError(TransportError):
    """Maybe taken: look it up before re-sending."""


class PermanentError(TransportError):
    """Refused for good."""
