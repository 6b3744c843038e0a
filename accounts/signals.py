"""What happens to people, announced for the apps above `accounts` to act on: accounts imports none of
them (docs/ARCHITECTURE.md). `accounts.services` sends these inside the write's transaction, so a
receiver runs in it and its failure undoes the write. Receivers: `onboarding.receivers`."""

from django.dispatch import Signal

# A prospective student created their own account: `POST auth/signup` or a first social sign-in. Args: user.
student_signed_up = Signal()
# A user was created in an office, moved to another, or given a new role in theirs. Args: user.
user_joined_office = Signal()
# A sign-in session ended (`POST auth/logout`). Args: user_id, session_id (the token pair's "sid").
session_ended = Signal()
# Every session of a user ended: password changed or reset, account deactivated. Args: user_id.
sessions_revoked = Signal()
