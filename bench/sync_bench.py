"""What the socket's `ready` frame and `GET sync` cost for one user in thousands of conversations.

    DATABASE_URL=... REDIS_URL=... python bench/sync_bench.py [--conversations 5000] [--changed 100]

Creates (once) a user in N two-person conversations, each with a few messages, then times: the
query `ready` is built from (run at every socket connect), building and encoding the frame, and
sync answers with nothing changed and with `--changed` conversations changed. Reports the median
of 20 runs (and the frame's size). The data stays (marked by the user's email); `--drop` removes it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")

import django
import orjson

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from messaging.consumers import READY, ready_payload  # noqa: E402
from messaging.models import Conversation, ConversationType, Participant  # noqa: E402
from messaging.selectors import member_conversations_state  # noqa: E402
from messaging.selectors.sync import changes_for, current_horizon  # noqa: E402
from messaging.services import message_send  # noqa: E402
from offices.models import Office  # noqa: E402

EMAIL = "sync-bench-{n}@bench.example.com"


def setup(n: int) -> tuple[User, list[Conversation]]:
    me = User.objects.filter(email=EMAIL.format(n=n)).first()
    if me is not None:
        return me, list(Conversation.objects.filter(participants__user=me))
    office = Office.objects.create(name=f"Sync bench {n} {time.time()}", timezone="UTC")
    me = User.objects.create_user(email=EMAIL.format(n=n), password="x", role=Role.CONSULTANT, office=office)
    others = User.objects.bulk_create(
        [User(email=f"sync-bench-{n}-{i}@bench.example.com", role=Role.CONSULTANT, office=office) for i in range(n)]
    )
    now = timezone.now()
    conversations = Conversation.objects.bulk_create(
        [Conversation(type=ConversationType.GROUP, office=office, last_activity_at=now) for _ in range(n)]
    )
    Participant.objects.bulk_create(
        [
            Participant(conversation=c, user=u)
            for c, other in zip(conversations, others, strict=True)
            for u in (me, other)
        ]
    )
    for conversation in conversations[:200]:
        message_send(sender=me, conversation=conversation, content="hello")
    return me, conversations


def timed(run, times: int = 20) -> tuple[float, int]:
    durations, queries = [], 0
    for _ in range(times):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            run()
            durations.append(time.perf_counter() - started)
        queries = len(captured)
    return statistics.median(durations) * 1000, queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--changed", type=int, default=100)
    args = parser.parse_args()
    me, conversations = setup(args.conversations)

    state = member_conversations_state(me)
    ms, queries = timed(lambda: member_conversations_state(me))
    print(f"ready's query, {len(state)} conversations: {ms:.1f} ms, {queries} query")
    text = orjson.dumps({"event": READY, "data": ready_payload(me, state)}).decode()  # as the consumer does
    ms, _ = timed(lambda: orjson.dumps({"event": READY, "data": ready_payload(me, state)}).decode())
    print(f"ready frame built and encoded: {ms:.1f} ms, {len(text) / 1024:.0f} kB ({len(state)} rows)")

    since = current_horizon().oldest
    ms, queries = timed(lambda: changes_for(me, since=current_horizon().oldest))
    print(f"sync, nothing changed: {ms:.1f} ms, {queries} queries")
    for conversation in conversations[: args.changed]:
        message_send(sender=me, conversation=conversation, content="changed")
    changes = changes_for(me, since=since)
    ms, queries = timed(lambda: changes_for(me, since=since))
    print(
        f"sync, {args.changed} conversations changed: {ms:.1f} ms, {queries} queries "
        f"({len(changes.conversations)} conversations, {len(changes.messages)} messages in the answer)"
    )


if __name__ == "__main__":
    main()
