"""Message search: ranked full-text search over the messages a user may read.

Only the MESSAGE_SEARCH_MAX_CANDIDATES (N) newest matches are ranked, so a very common word costs
about what a rare one does. How they are found, in steps down the ids, is `_newest_matches`;
the reasons and figures are in docs/messaging.md (search) and docs/performance.md.
"""

from __future__ import annotations

import html
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from accounts.models import User
from core.errors import NotFound
from messaging.errors import MessagingErrorCode
from messaging.models import Attachment, Message, Participant
from messaging.selectors import (
    cleared_seqs_for,
    load_attachments,
    monitors_every_conversation,
    readable_conversation_ids,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Snippet(TypedDict):
    snippet: str


SearchHit: TypeAlias = "WithAnnotations[Message, _Snippet]"  # with its `rank` set, too

HIGHLIGHT_START, HIGHLIGHT_STOP = "\ue000", "\ue001"  # private-use markers, stripped from content

# Measured with bench/messaging_bench.py (1M messages); the figures are in docs/performance.md.
SEARCH_PROBE_IDS_PER_CANDIDATE = 20  # the probe walks the newest 20·N ids
SEARCH_WALK_IDS_PER_CANDIDATE = 60  # a step walks when it should pass at most 60·N ids
SEARCH_STEPS = 6  # steps after the probe; the last takes every id left

# A bitmap step is planned with plain index scans off: the planner cannot see that two common words
# together match far fewer rows than their frequencies multiplied, and would walk the primary key
# over the step's range instead of AND'ing the GIN bitmap with (conversation_id, id): 40 ms instead
# of 12 over 300,000 ids. Sent together with the query, in one round trip: the statements of one
# message are one transaction, so SET LOCAL ends with it; inside a caller's transaction, RESET puts
# the setting back at once.
_WITH_BITMAPS = "SET LOCAL enable_indexscan = off; {query}; RESET enable_indexscan"


def highlight(snippet: str | None) -> str:
    """A snippet as HTML: the text escaped, the matches in <mark> (markers a user cannot type:
    `content_clean` strips them from stored text)."""
    escaped = html.escape(snippet or "")
    return escaped.replace(HIGHLIGHT_START, "<mark>").replace(HIGHLIGHT_STOP, "</mark>")


def message_search(
    user: User,
    *,
    q: str,
    conversation_id: int | None = None,
    type: str | None = None,
    sender_id: int | None = None,
    file_type: str | None = None,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[SearchHit], bool]:
    """Ranked full-text search over the stored vector, only where `user` may read.

    Queries: the readable conversations (not for a super admin), the newest id and one to seven
    steps for the candidates (see `_newest_matches`), the page's rows with snippets (and one for
    files when a hit carries some).
    """
    if not settings.MESSAGE_SEARCH_ENABLED:
        raise NotFound("Message search is turned off on this server.", code=MessagingErrorCode.SEARCH_DISABLED)
    config = settings.MESSAGE_SEARCH_CONFIG
    candidates = settings.MESSAGE_SEARCH_MAX_CANDIDATES
    scope = Message.objects.filter(deleted_at__isnull=True)
    few_readable = False
    if not monitors_every_conversation(user):
        readable = readable_conversation_ids(user).annotate(
            cleared=Subquery(
                Participant.objects.filter(conversation_id=OuterRef("id"), user=user).values("cleared_seq")[:1]
            )
        )
        rows = list(readable.values_list("id", "last_seq", "cleared"))
        sizes = {conversation: size for conversation, size, _ in rows}
        cleared = {conversation: seq for conversation, _, seq in rows if seq}
        if not sizes:
            return [], False
        # A constant list, not a subquery: the planner then knows how many messages it covers.
        scope = scope.filter(conversation_id__in=list(sizes))
        # No more readable messages than candidates: reading them beats a GIN scan of everyone's matches.
        readable_count = sizes.get(conversation_id, 0) if conversation_id is not None else sum(sizes.values())
        few_readable = readable_count <= candidates
    else:
        cleared = cleared_seqs_for(user)
    for cleared_conversation, seq in cleared.items():  # "clear my history" hides these from the caller
        scope = scope.exclude(conversation_id=cleared_conversation, seq__lte=seq)
    if conversation_id is not None:
        scope = scope.filter(conversation_id=conversation_id)
    if type:
        scope = scope.filter(type=type)
    if sender_id is not None:
        scope = scope.filter(sender_id=sender_id)
    if file_type:
        scope = scope.filter(Exists(Attachment.objects.filter(message=OuterRef("pk"), mime_type__startswith=file_type)))
    if date_from is not None:
        scope = scope.filter(created_at__gte=date_from)
    if date_to is not None:
        scope = scope.filter(created_at__lt=date_to)
    found = _newest_matches(scope.order_by(), q, config, candidates, few_readable=few_readable)
    found.sort(key=lambda hit: (-hit[1], -hit[0]))  # best first; equal ranks newest first
    page = found[offset : offset + limit + 1]
    ranks = dict(page)
    order = {message_id: index for index, (message_id, _) in enumerate(page)}
    # Snippets (ts_headline re-parses the text, the costly part) for the returned page only.
    query = SearchQuery(q, search_type="websearch", config=config)
    hits = sorted(
        # (a hit deleted since its step was read is left out)
        Message.objects.filter(id__in=[message_id for message_id, _ in page[:limit]], deleted_at__isnull=True)
        .order_by()
        .select_related("sender")
        .annotate(
            snippet=SearchHeadline(
                "content",
                query,
                config=config,
                start_sel=HIGHLIGHT_START,
                stop_sel=HIGHLIGHT_STOP,
                max_fragments=2,
                max_words=30,
                min_words=10,
            )
        ),
        key=lambda message: order[message.id],
    )
    for message in hits:
        message.rank = ranks[message.id]
    return load_attachments(hits), len(page) > limit


def _newest_matches(
    scope: QuerySet[Message], q: str, config: str, n: int, *, few_readable: bool
) -> list[tuple[int, float]]:
    """(id, rank) of the `n` newest messages of `scope` that match `q`.

    What costs is reading rows. Walking the primary key down from the newest id reads every row
    it passes: cheapest while matches are dense. The GIN index knows every match in the table,
    but not its id or conversation: read through it alone, an AND of two common words is 50,000
    rows. AND'ed with the caller's conversations over an id range (index `message_conversation_id`)
    or with that id range (the primary key), its bitmap reads only the matches inside; that costs
    mostly the GIN scan, whatever the range, so one wide step beats two narrow ones. So, in steps
    that each take the ids below the last:
    - the probe walks the newest 20·n ids;
    - each next step expects the rest within the ids the hit rate so far says, and takes four
      times that (at least four times the last step if it found nothing; with no match at all
      yet, 19 times the ids looked at: the matches are rare, or old), but at most a quarter of
      the ids left: past that the planner reads every match through the GIN index alone;
      it walks if it expects to pass at most 60·n ids (a walk stops at its LIMIT);
    - the sixth step after the probe takes every id left, through the bitmaps.
    A caller who can read at most n messages is served from their conversations' rows alone.
    """
    table = Message._meta.db_table
    tsquery, tsquery_params = "websearch_to_tsquery(%s::regconfig, %s)", [config, q]
    # @@ written as a function (ts_match_vq) is something the GIN index cannot serve: the walk.
    walked = RawSQL(f"ts_match_vq({table}.search_vector, {tsquery})", tsquery_params, output_field=BooleanField())
    indexed = RawSQL(f"{table}.search_vector @@ {tsquery}", tsquery_params, output_field=BooleanField())

    def newest(matches: QuerySet[Message], wanted: int, *, bitmaps: bool) -> list[tuple[int, float]]:
        """The `wanted` newest of `matches`, ranked; with `bitmaps`, planned with index scans off."""
        sql, params = matches.values("id", "search_vector").query.sql_with_params()
        sql = f"SELECT id, ts_rank(search_vector, {tsquery}) FROM ({sql} ORDER BY id DESC LIMIT %s) newest"
        params = (*tsquery_params, *params, wanted)
        with connection.cursor() as cursor:
            if not bitmaps:
                cursor.execute(sql, params)
            else:
                cursor.execute(_WITH_BITMAPS.format(query=sql), params)
                cursor.nextset()  # past the SET, to the query's rows
            ranked: list[tuple[int, float]] = cursor.fetchall()
            return ranked

    if few_readable:
        return newest(scope.filter(walked), n, bitmaps=True)
    top = Message.objects.order_by("-id").values_list("id", flat=True).first()
    if top is None:
        return []
    probe = n * SEARCH_PROBE_IDS_PER_CANDIDATE
    below = top - probe  # every id above has been looked at
    found = newest(scope.filter(walked, id__gt=below), n, bitmaps=False)
    span, step_found = probe, len(found)
    for step in range(1, SEARCH_STEPS + 1):
        if len(found) >= n or below <= 0:
            break
        expected = -(-(n - len(found)) * (top - below) // len(found)) if found else None
        if step == SEARCH_STEPS:
            span = below
        else:
            if expected is None:
                span = 19 * (top - below)
            else:
                span = max(probe, 4 * expected, 0 if step_found else 4 * span)
            span = min(span, max(probe, below // 4))
        # A walk stops at its LIMIT: what it costs is the ids it should pass, not the span. Never
        # the last step: should the matches have run out, it would pass every id left.
        walk = step < SEARCH_STEPS and expected is not None and expected <= n * SEARCH_WALK_IDS_PER_CANDIDATE
        step_found = len(found)
        found += newest(
            scope.filter(walked if walk else indexed, id__gt=below - span, id__lte=below),
            n - len(found),
            bitmaps=not walk,
        )
        step_found = len(found) - step_found
        below -= span
    return found
