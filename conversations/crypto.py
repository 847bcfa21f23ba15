"""Encryption at rest for the message text of HIPAA conversations.

MultiFernet over FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts, so a
key is rotated by putting a new one first and re-encrypting at leisure. Stored values
carry a prefix, so plain rows (non-HIPAA conversations) are told apart without a flag.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

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
