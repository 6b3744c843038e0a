"""Each message once per socket, in `seq` order per conversation, whatever order events arrive in.

Two sends' events may reach Redis in the other order, an event may come twice (a live event and
the hub's read-back), or never (Redis away). A socket counts from each conversation's last seq
when it opened: a later message is held until the one before it comes, or until the gap is read
back from the database. This class is that bookkeeping alone: no I/O, no clock. The socket
(`messaging.socket.outgoing`) pushes what it returns, and reads back the gap it names after a wait.
"""

from __future__ import annotations

from typing import Generic, TypeVar

Message = TypeVar("Message")


class SeqOrder(Generic[Message]):
    def __init__(self) -> None:
        self.last: dict[int, int] = {}  # conversation → the last seq pushed (or known to the client)
        self.held: dict[int, dict[int, Message]] = {}  # conversation → seq → a message that overtook others

    def start(self, conversation_id: int, seq: int) -> None:
        """The client has everything up to `seq` in that conversation (the socket opened then)."""
        self.last[conversation_id] = seq

    def arrive(self, conversation_id: int, seq: int, message: Message) -> tuple[list[Message], bool]:
        """A message's event came: (the messages to push now, in order; whether a gap just opened,
        to be read back after a wait). Without a starting point, the first message is pushed."""
        last = self.last.get(conversation_id)
        if last is not None and seq <= last:
            return [], False  # a repeat, or read back already
        if last is not None and seq > last + 1:
            held = self.held.setdefault(conversation_id, {})
            if seq in held:
                return [], False  # a repeat of one held already
            held[seq] = message
            return [], len(held) == 1
        self.last[conversation_id] = seq
        return [message, *self._release(conversation_id)], False

    def gap(self, conversation_id: int) -> tuple[int, int] | None:
        """The seqs to read back, `after` < seq <= `up_to`, or None when nothing waits (any more)."""
        held = self.held.get(conversation_id)
        if not held:
            return None
        return self.last.get(conversation_id, 0), max(held)

    def fill(self, conversation_id: int, rows: list[tuple[int, Message]]) -> tuple[list[Message], bool]:
        """The gap read back, `(seq, message)` in seq order: (the messages to push now, in order;
        whether a gap is still open: held messages that came meanwhile, past what was read).
        Nothing when the socket stopped following the conversation while the gap was read."""
        if conversation_id not in self.last:
            return [], False
        pushed = []
        for seq, message in rows:
            if seq > self.last.get(conversation_id, 0):
                self.last[conversation_id] = seq
                pushed.append(message)
        held = self.held.get(conversation_id)
        if held:  # what was read supersedes what was held up to there
            for seq in [seq for seq in held if seq <= self.last.get(conversation_id, 0)]:
                del held[seq]
        pushed += self._release(conversation_id)
        return pushed, bool(self.held.get(conversation_id))

    def forget(self, conversation_id: int) -> None:
        """The socket no longer follows the conversation: nothing held, no starting point."""
        self.last.pop(conversation_id, None)
        self.held.pop(conversation_id, None)

    def _release(self, conversation_id: int) -> list[Message]:
        held = self.held.get(conversation_id)
        released = []
        while held and self.last[conversation_id] + 1 in held:
            self.last[conversation_id] += 1
            released.append(held.pop(self.last[conversation_id]))
        if held is not None and not held:
            del self.held[conversation_id]
        return released
