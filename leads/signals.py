"""What happens to leads, announced for the apps above `leads` to act on (as `accounts.signals`): sent by
`leads.services` inside the write's transaction, so a receiver's failure undoes the write.
Receivers: `onboarding.receivers`."""

from django.dispatch import Signal

# A lead became a student (a new account or an existing one linked). Args: lead, student, actor.
lead_converted = Signal()
