"""Passwords of users imported from the original Node product (bcrypt, as bcrypt.js / node.bcrypt.js
wrote them: `$2a$10$...` or `$2b$10$...`).

Django's own bcrypt hashers store `bcrypt$<hash>` (and `bcrypt_sha256$` pre-hashes the password with
SHA-256, which Node never did), so a Node hash is not one of theirs as it stands. This hasher reads
both the raw Node form (accounts.models.User.check_password adds the `bcrypt$` prefix Django needs to
pick a hasher) and Django's, with Node's semantics: the password is cut at 72 bytes, as Node's
bcrypt did (the bcrypt package refuses longer ones). Its work factor for new hashes is BCRYPT_ROUNDS.
A user who signs in with such a hash is re-hashed with the preferred hasher (PBKDF2 by default), or
at BCRYPT_ROUNDS when bcrypt is preferred (PASSWORD_HASHER=bcrypt) and the stored cost differs.
"""

import bcrypt
from django.conf import settings
from django.contrib.auth.hashers import BCryptPasswordHasher
from django.utils.crypto import constant_time_compare

NODE_PREFIXES = ("$2a$", "$2b$", "$2y$")
BCRYPT_MAX_BYTES = 72


def _bytes(password: str) -> bytes:
    return password.encode()[:BCRYPT_MAX_BYTES]


class NodeBcryptPasswordHasher(BCryptPasswordHasher):
    algorithm = "bcrypt"

    @property  # read from settings on each use, so BCRYPT_ROUNDS can change (tests)
    def rounds(self) -> int:  # type: ignore[override]
        return settings.BCRYPT_ROUNDS

    def encode(self, password, salt):
        return f"{self.algorithm}${bcrypt.hashpw(_bytes(password), salt).decode('ascii')}"

    def verify(self, password, encoded):
        algorithm, data = encoded.split("$", 1)
        if algorithm != self.algorithm or not data.startswith(NODE_PREFIXES):
            return False
        if data.startswith("$2y$"):  # PHP's name for the same algorithm; the bcrypt package reads $2b$
            data = "$2b$" + data[4:]
        try:
            return constant_time_compare(data, bcrypt.hashpw(_bytes(password), data.encode("ascii")).decode("ascii"))
        except ValueError:  # a damaged hash: no password matches it
            return False
