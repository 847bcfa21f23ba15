"""Encryption at rest: what HIPAA conversations hold (message text and metadata, the
conversation's context, the contact's name and details, a campaign row's customer data),
the stored answers of idempotent requests (which may hold both such text and secrets
shown once), and the secrets the service must read back (webhook signing secrets).

MultiFernet over FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts, so a
key is rotated by putting a new one first and re-encrypting at leisure. Stored values
carry a prefix, so plain rows (non-HIPAA conversations) are told apart without a flag.
"""

import json
import uuid
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


def is_id(value: object) -> bool:
    """A UUID as text: a reference to a row, nothing about a person."""
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def seal_object(value: object, *, plain_keys: frozenset[str] = frozenset()) -> object:
    """A JSON value sealed for a JSON column. An object keeps in clear its `plain_keys`
    whose values are ids, so the database can still be queried by them:
    {"retry_of": "<uuid>", "fernet": "<token of the rest>"}. An empty value stays empty."""
    if not value:
        return value
    if not isinstance(value, dict):
        return encrypt_json(value)
    plain = {k: v for k, v in value.items() if k in plain_keys and is_id(v)}
    rest = {k: v for k, v in value.items() if k not in plain}
    return {**plain, **encrypt_json(rest)} if rest else plain


def open_object(stored: object) -> object:
    """The value seal_object sealed, its clear keys included; anything else (a row
    written in clear, or one no key configured can read) as it is."""
    if not (isinstance(stored, dict) and isinstance(stored.get("fernet"), str)):
        return stored
    try:
        opened = json.loads(_current().decrypt(stored["fernet"].encode()))
    except (InvalidToken, ValueError):
        return stored
    if set(stored) == {"fernet"}:
        return opened
    return {**{k: v for k, v in stored.items() if k != "fernet"}, **opened}
