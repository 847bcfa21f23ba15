"""Encryption at rest: the message text of HIPAA conversations, and the stored answers
of idempotent requests (which may hold both such text and secrets shown once).

MultiFernet over FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts, so a
key is rotated by putting a new one first and re-encrypting at leisure. Stored values
carry a prefix, so plain rows (non-HIPAA conversations) are told apart without a flag.
"""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_text(text: str) -> str:
    return PREFIX + _current().encrypt(text.encode()).decode()


def decrypt_text(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored
    try:
        return _current().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        # Never the ciphertext, never a crash: the row is unreadable with the keys given.
        return "[encrypted: no key configured can read this message]"


def encrypt_json(value: object) -> dict:
    """A JSON value sealed for a JSON column: {"fernet": "<token>"}."""
    return {"fernet": encrypt_text(json.dumps(value, cls=DjangoJSONEncoder))[len(PREFIX) :]}


def decrypt_json(stored: object) -> object:
    """The value encrypt_json sealed; anything else (a row from before) as it is."""
    if isinstance(stored, dict) and set(stored) == {"fernet"}:
        return json.loads(decrypt_text(PREFIX + stored["fernet"]))
    return stored
