"""A socket's per-conversation ordering (messaging/socket/ordering.py), without sockets or clocks:
each message once, in seq order, whatever order events arrive in, gaps read back, removal."""

from messaging.socket.ordering import SeqOrder

C = 7  # a conversation


def started(at: int = 1) -> SeqOrder[str]:
    order: SeqOrder[str] = SeqOrder()
    order.start(C, at)  # the client has everything up to `at`
    return order


def test_the_next_message_is_pushed_at_once():
    order = started()
    assert order.arrive(C, 2, "m2") == (["m2"], False)
    assert order.arrive(C, 3, "m3") == (["m3"], False)
    assert order.gap(C) is None


def test_repeats_are_never_pushed_twice():
    order = started()
    order.arrive(C, 2, "m2")
    assert order.arrive(C, 2, "m2 again") == ([], False)
    assert order.arrive(C, 1, "m1, which the client had at the start") == ([], False)
    order.arrive(C, 4, "m4")  # held
    assert order.arrive(C, 4, "m4 again") == ([], False)  # held once; no second read-back either
    assert order.arrive(C, 3, "m3") == (["m3", "m4"], False)


def test_a_message_that_overtakes_another_waits_for_it():
    order = started()
    assert order.arrive(C, 3, "m3") == ([], True)  # a gap opens: read it back after a wait
    assert order.arrive(C, 4, "m4") == ([], False)  # the same gap: one read-back
    assert order.arrive(C, 2, "m2") == (["m2", "m3", "m4"], False)  # the late one came after all
    assert order.gap(C) is None


def test_a_gap_that_stays_open_is_read_back_in_order():
    order = started()
    order.arrive(C, 4, "m4")
    assert order.gap(C) == (1, 4)  # read seq 2 to 4
    assert order.fill(C, [(2, "db2"), (3, "db3"), (4, "db4")]) == (["db2", "db3", "db4"], False)
    assert order.arrive(C, 3, "m3, late") == ([], False)
    assert order.arrive(C, 5, "m5") == (["m5"], False)


def test_messages_held_while_the_gap_is_read_follow_it():
    order = started()
    order.arrive(C, 3, "m3")
    after, up_to = order.gap(C)
    order.arrive(C, 5, "m5")  # came during the read, past what is read
    assert order.fill(C, [(2, "db2"), (3, "db3")]) == (["db2", "db3"], True)  # 4 is still missing
    assert order.gap(C) == (3, 5)
    assert order.fill(C, [(4, "db4"), (5, "db5")]) == (["db4", "db5"], False)
    assert (after, up_to) == (1, 3)


def test_a_read_back_that_finds_what_already_came_pushes_nothing_twice():
    order = started()
    order.arrive(C, 3, "m3")
    order.arrive(C, 2, "m2")  # filled live while the read was on its way
    assert order.fill(C, [(2, "db2"), (3, "db3")]) == ([], False)


def test_removal_drops_what_is_held_and_nothing_is_read_back():
    order = started()
    order.arrive(C, 3, "m3")
    order.forget(C)
    assert order.gap(C) is None
    # a read that was on its way when the user was removed: its rows are not theirs any more
    assert order.fill(C, [(2, "db2"), (3, "db3")]) == ([], False)
    assert order.held == {} and order.last == {}


def test_without_a_starting_point_the_first_message_is_pushed():
    """A conversation the socket learnt of later (created, joined, monitored): from its first event on."""
    order = SeqOrder()
    assert order.arrive(C, 40, "m40") == (["m40"], False)
    assert order.arrive(C, 42, "m42") == ([], True)
    assert order.gap(C) == (40, 42)


def test_conversations_are_ordered_apart():
    order = started()
    order.start(8, 10)
    assert order.arrive(C, 3, "c3") == ([], True)
    assert order.arrive(8, 11, "d11") == (["d11"], False)
    assert order.gap(8) is None and order.gap(C) == (1, 3)
