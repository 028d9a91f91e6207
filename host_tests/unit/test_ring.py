"""The byte ring (ring.py) on its own: wrap-around and growing."""
from deepstream.ring import Ring


def _messages(r):
    return [(m, queued) for m, queued in r.messages()]


def test_growing_a_wrapped_ring_keeps_order_and_the_kept_part():
    r = Ring(32)
    for i in range(5):  # 5 x 6 bytes
        r.put(b"msg-%d\x1e" % i)
    r.drop_oldest()  # the head moves on: the next puts wrap around the end
    r.drop_oldest()
    for i in range(5, 7):
        r.put(b"msg-%d\x1e" % i)
    r.kept = 6  # the oldest was sent, not yet confirmed
    assert r.head + r.used > r.size  # wrapped
    before = _messages(r)
    assert before[0] == (b"msg-2\x1e", False) and before[1] == (b"msg-3\x1e", True)
    r.grow(64)
    assert r.size == 64 and r.head == 0 and r.kept == 6 and r.free() == 64 - 30
    assert _messages(r) == before
    r.put(b"msg-7\x1e")
    assert [m for m, _ in _messages(r)] == [b"msg-%d\x1e" % i for i in range(2, 8)]


def test_a_failed_grow_changes_nothing():
    r = Ring(16)
    r.put(b"a\x1eb\x1e")
    try:
        r.grow(1 << 62)  # no heap has that
        raise AssertionError("grew")
    except (MemoryError, OverflowError, ValueError):
        pass
    assert r.size == 16 and len(r.buf) == 16 and _messages(r) == [(b"a\x1e", True), (b"b\x1e", True)]
