"""first_contact.connect_error_text: the connectionError text of a failed connection
attempt (pytest on CPython, mptest on MicroPython). The drivers' use of it against
real sockets is in host_tests/test_drivers.py."""
from deepstream.first_contact import ECONNREFUSED, ECONNRESET, connect_error_text

URL = "ws://localhost:6020/deepstream"
UNREACHABLE = "Can't connect! Deepstream server unreachable on " + URL


def test_refused_and_reset_get_the_reference_text():
    assert connect_error_text(URL, OSError(ECONNREFUSED, "Connection refused")) == UNREACHABLE
    assert connect_error_text(URL, OSError(ECONNRESET, "Connection reset by peer")) == UNREACHABLE


def test_asyncio_refusals_for_every_address_are_unreachable_too():
    # CPython's asyncio joins one refusal per address (::1, 127.0.0.1) into an OSError without errno
    err = OSError("Multiple exceptions: [Errno %d] Connect call failed ('::1', 6020, 0, 0), "
                  "[Errno %d] Connect call failed ('127.0.0.1', 6020)" % (ECONNREFUSED, ECONNREFUSED))
    assert connect_error_text(URL, err) == UNREACHABLE


def test_other_failures_keep_their_own_text():
    mixed = OSError("Multiple exceptions: [Errno %d] Connect call failed ('::1', 6020, 0, 0), "
                    "[Errno 101] Network is unreachable" % ECONNREFUSED)
    for err, text in ((OSError("websocket handshake timed out"), "websocket handshake timed out"),
                      (OSError(-2), "-2"),  # DNS on a board
                      (mixed, str(mixed)),
                      (ValueError("not a ws:// or wss:// url: x"), "not a ws:// or wss:// url: x"),
                      (MemoryError(), "MemoryError")):
        assert connect_error_text(URL, err) == "cannot connect to %s: %s" % (URL, text), err
