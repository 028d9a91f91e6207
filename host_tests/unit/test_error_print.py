"""Errors are visible by default: with no `error` listener each one is printed as one
line (error_print.py), repeats limited, memory bounded; print_errors=False turns it off."""
import deepstream.error_print as error_print
from deepstream.testing import FakeLink


def printing(fn):
    """Run fn(link) on a FakeLink without error listeners; returns the printed lines."""
    lines = []
    error_print._seen.clear()
    error_print.print = lambda text: lines.append(text)  # shadows the builtin in that module
    try:
        fn()
    finally:
        del error_print.print
    return lines


def quiet_link(**options):
    link = FakeLink(**options)
    link.client.off("error")  # FakeLink's own listener
    return link


def test_an_error_is_printed_as_one_line_without_a_listener():
    link = quiet_link()
    link.open()
    lines = printing(lambda: link.receive("E|EVT|+X|Y|Z+"))
    assert lines == ["deepstream: MESSAGE_PARSE_ERROR (E): event message without a name",
                     "deepstream: MESSAGE_PARSE_ERROR (X): Unknown action Y"], lines
    assert link.client.last_error == ("Unknown action Y", "MESSAGE_PARSE_ERROR", "X")


def test_repeats_are_printed_at_powers_of_two():
    link = quiet_link()
    lines = printing(lambda: [link.client._error("cannot connect", "connectionError", "C") for _ in range(100)])
    assert lines == ["deepstream: connectionError (C): cannot connect"] + [
        "deepstream: connectionError (C): cannot connect (seen %d times)" % n for n in (2, 4, 8, 16, 32, 64)]


def test_two_errors_in_turn_are_counted_apart():
    link = quiet_link()

    def loop():
        for _ in range(8):  # a reconnect loop: two errors per attempt
            link.client._error("cannot connect", "connectionError", "C")
            link.client._error("no heartbeat", "connectionError", "C")
    lines = printing(loop)
    assert len(lines) == 8 and lines[-1].endswith("no heartbeat (seen 8 times)"), lines


def test_memory_is_bounded():
    link = quiet_link()
    sizes = []

    def many():
        for i in range(100):
            link.client._error("no ACK for e%d" % i, "ACK_TIMEOUT", "E")
            sizes.append(len(error_print._seen))
    lines = printing(many)
    assert len(lines) == 100  # different errors: each printed
    assert max(sizes) == error_print._KEEP


def test_long_and_multi_line_messages_stay_one_short_line():
    link = quiet_link()
    lines = printing(lambda: link.client._error("a\nb\r" + "x" * 1000, "SOME_ERROR", "R"))
    assert len(lines) == 1 and "\n" not in lines[0] and "\r" not in lines[0]
    assert lines[0].startswith("deepstream: SOME_ERROR (R): a b x") and lines[0].endswith("x...")
    assert len(lines[0]) < 250


def test_not_printed_with_a_listener_or_when_turned_off():
    link = FakeLink()  # has an error listener
    lines = printing(lambda: link.client._error("m", "E1", "C"))
    link = quiet_link(print_errors=False)
    lines += printing(lambda: link.client._error("m", "E2", "C"))
    assert lines == []
    assert link.client.last_error == ("m", "E2", "C")


def test_a_raising_error_listener_is_printed():
    link = FakeLink()

    def bad(message, event, topic):
        raise RuntimeError("listener bug")
    link.client.on("error", bad)
    lines = printing(lambda: link.client._error("m", "E1", "C"))
    assert lines == ["deepstream: CALLBACK_ERROR (C): RuntimeError: listener bug"], lines
