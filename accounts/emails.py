"""One form of an email address for every place an email is a key: the stored `User.email`, the user
lookup of every sign-in door, the lockout's and the throttles' counters, reset requests.

`canonical_email` is Unicode's NFKC_Casefold (NFKC, case folding, NFKC again), after trimming. Lookups
compare it exactly (`email=`), never with the database's `UPPER()` (`__iexact`): PostgreSQL's UPPER
maps letters that case folding keeps apart (U+0131 dotless i → `I`; U+017F long s → `S`), so a
lookup by UPPER and a counter by lower() disagreed on which account a look-alike address names.
With one canonical form the answer is the same everywhere: the long s folds to `s` (the same
account, the same counter), the dotless i stays itself (another address: no account, a counter of
its own).

New addresses (signup, staff created or renamed) must also have an ASCII local part once
canonical (`email_local_part_is_ascii`): Django's validator means to accept only ASCII there but,
matching case-insensitively, lets the dotless i, the long s and the Kelvin sign (U+212A) through;
the last two fold to ASCII, but an account `recept<dotless i>on.london@…` beside
`reception.london@…` would only serve to impersonate. Domains may be international (they are
compared in the same canonical form).
"""

from __future__ import annotations

import unicodedata


def canonical_email(value: str) -> str:
    """The key an email is stored, looked up and counted by."""
    folded = unicodedata.normalize("NFKC", value.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def email_local_part_is_ascii(value: str) -> bool:
    local, _, _ = canonical_email(value).rpartition("@")
    return local.isascii()
