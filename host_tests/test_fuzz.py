"""Property tests (hypothesis) of the websocket frame parser, the message
codec and the whole client core (CPython; tools/fuzz_mp.py does the same
kind of work under MicroPython).

* ws: any valid server frame sequence decodes to the same events however
  the bytes are chunked; random and mutated byte streams raise nothing but
  WebSocketError and never grow the buffer past one frame plus one read.
* codec: typed() and parse_typed() round-trip; parse_typed (whole or a slice)
  and split on any text give a value or ParseError, nothing else.
* core: random and mutated frames into an OPEN client with event, listen,
  RPC, record and presence state: nothing raises out of receive_text, timers
  or take_frame, every error event carries text, and afterwards a valid
  event still reaches its subscription and an emit still goes out.
"""
import os
import sys

from hypothesis import HealthCheck, given, settings, strategies as st

from deepstream.text_codec import ParseError, parse_typed, split, typed
from deepstream.testing import FakeLink
from deepstream.ws import MessageTooLarge, WebSocket, WebSocketError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import fuzz_mp  # noqa: E402  (corpus and mutations shared with the MicroPython fuzzer)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX = 512  # max_message_size of the parsers under test


# ---- websocket ------------------------------------------------------------

def header(op, n, fin=True, form=None):
    b0 = (0x80 if fin else 0) | op
    if form is None:
        form = 0 if n < 126 else (1 if n < 65536 else 2)
    if form == 0 and n < 126:
        return bytes((b0, n))
    if form <= 1 and n < 65536:
        return bytes((b0, 126)) + n.to_bytes(2, "big")
    return bytes((b0, 127)) + n.to_bytes(8, "big")


@st.composite
def frame_sequences(draw):
    """(bytes, expected events) for a valid server stream."""
    out, expect = [], []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["text", "binary", "ping", "pong", "close", "frag", "big"]))
        form = draw(st.sampled_from([None, 1, 2]))
        if kind in ("text", "frag"):
            text = draw(st.text(max_size=150))
            data = text.encode()
            if kind == "frag" and len(data) > 1:
                k = draw(st.integers(1, len(data) - 1))
                out += [header(1, k, False, form) + data[:k], header(0, len(data) - k, True, form) + data[k:]]
            else:
                out.append(header(1, len(data), True, form) + data)
            expect.append(("text", text))
        elif kind == "binary":
            data = draw(st.binary(max_size=200))
            out.append(header(2, len(data), True, form) + data)
            expect.append(("binary", data))
        elif kind in ("ping", "pong"):
            data = draw(st.binary(max_size=125))
            out.append(header(9 if kind == "ping" else 10, len(data)) + data)
            expect.append((kind, data))
        elif kind == "close":
            reason = draw(st.text(max_size=20))
            code = draw(st.integers(1000, 4999))
            body = code.to_bytes(2, "big") + reason.encode()
            if len(body) > 125:
                continue
            out.append(header(8, len(body)) + body)
            expect.append(("close", code, reason))
        else:  # over max_message_size: skipped, reported, stream goes on
            n = draw(st.integers(MAX + 1, 3 * MAX))
            out.append(header(draw(st.sampled_from([1, 2])), n, True, form) + b"x" * n)
            expect.append("too-large")
    return b"".join(out), expect


def decode(ws, data, cuts):
    """Feed data split at `cuts`; events (MessageTooLarge as "too-large")."""
    events = []
    points = sorted(set(c % (len(data) + 1) for c in cuts)) + [len(data)]
    start = 0
    for p in points:
        ws.receive_data(data[start:p])
        # the buffer never shrinks: bound by one frame plus the largest read so far
        ws.max_read = max(getattr(ws, "max_read", 0), p - start)
        start = p
        while True:
            try:
                ev = ws.next_event()
            except MessageTooLarge:
                events.append("too-large")
                continue
            if ev is None:
                break
            events.append(ev)
        assert len(ws._buf) <= MAX + 16 + ws.max_read
    return events


@FAST
@given(frame_sequences(), st.lists(st.integers(0, 10 ** 6), max_size=40))
def test_ws_valid_frames_any_chunking(stream, cuts):
    data, expect = stream
    assert decode(WebSocket(MAX, 64), data, cuts) == expect


@FAST
@given(st.lists(st.binary(max_size=300), max_size=12))
def test_ws_random_bytes_only_websocket_errors(chunks):
    ws = WebSocket(MAX, 64)
    try:
        for chunk in chunks:
            ws.receive_data(chunk)
            while True:
                try:
                    if ws.next_event() is None:
                        break
                except MessageTooLarge:
                    continue
    except WebSocketError:
        pass  # fatal: the driver drops the connection
    # one frame header + payload in flight at most, plus the read that brought it
    assert len(ws._buf) <= MAX + 16 + max([len(c) for c in chunks] + [0]) + 64


@FAST
@given(frame_sequences(), st.integers(0, 2 ** 32 - 1), st.lists(st.integers(0, 10 ** 6), max_size=10))
def test_ws_mutated_streams(stream, seed, cuts):
    data = fuzz_mp_ws_mutate(seed, stream[0])
    ws = WebSocket(MAX, 64)
    try:
        decode(ws, data, cuts)
    except WebSocketError:
        return
    if ws._start == ws._end and not (ws._skip or ws._frag_op or ws._discard):
        assert decode(ws, header(1, 2) + b"ok", []) == [("text", "ok")]


def fuzz_mp_ws_mutate(seed, data):
    import fuzz_mp_ws
    return fuzz_mp_ws.ws_mutate(fuzz_mp.Rng(seed), data)


# ---- message codec ---------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 53, 2 ** 53) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@FAST
@given(json_values)
def test_typed_round_trip(value):
    field = typed(value)
    back = parse_typed(field)
    if isinstance(value, float) and value == int(value) and abs(value) < 1e16:
        assert back == value  # JS writes 3.0 as 3
    else:
        assert back == value


TEXT = st.text(alphabet=st.sampled_from(list(fuzz_mp.ALPHABET) + list("abcdefghij")), max_size=80)


@FAST
@given(TEXT)
def test_codec_on_any_text(text):
    try:
        parse_typed(text)
    except ParseError:
        pass
    try:
        topic, action, data = split(text)
        assert isinstance(data, list)
    except ParseError:
        pass
    i = len(text) // 2
    try:
        parse_typed(text, i, len(text))
    except ParseError:
        pass


# ---- client core -------------------------------------------------------------

def open_client():
    link = FakeLink(subscription_timeout=200, rpc_ack_timeout=300, rpc_response_timeout=500,
                    record_read_timeout=500, record_read_ack_timeout=500)
    link.open()
    link.login()
    got = []
    c = link.client
    c.event.subscribe("fz/a", got.append)
    c.event.listen("fz/.*", lambda name, sub, response: response and response.accept())
    c.rpc.provide("fz/rpc", lambda data, response: response.send(data))
    c.rpc.make("fz/call", 1, lambda err, res: None)
    c.record.get_record("fz/rec").subscribe("b", lambda v: None)
    c.presence.subscribe(lambda name, online: None)
    link.sent()
    return link, got


corpus_frames = st.builds(lambda seed: fuzz_mp.frame_text(fuzz_mp.Rng(seed)), st.integers(0, 2 ** 32 - 1))
raw_frames = st.text(alphabet=st.sampled_from(list(fuzz_mp.ALPHABET) + list("CAEPRUZSN")), max_size=120)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(corpus_frames | raw_frames, min_size=1, max_size=25), st.lists(st.integers(0, 800), max_size=5))
def test_client_core_survives_any_frames(frames, waits):
    link, got = open_client()
    for i, frame in enumerate(frames):
        link.conn.receive_text(frame)  # must not raise
        link.pump()
        if i < len(waits):
            link.advance(waits[i])
    for event, msg, topic in link.errors:
        assert isinstance(event, str) and isinstance(msg, str) and isinstance(topic, str)
    # not corrupted: a valid event reaches the subscription; an emit goes out when OPEN
    del got[:]
    link.receive("E|EVT|fz/a|Sstill-ok+")
    assert got == ["still-ok"]
    assert "fz/a" in link.client.event._subs
    if link.client.get_connection_state() == "OPEN":
        link.sent()
        link.client.event.emit("fz/out", 1)
        assert "E|EVT|fz/out|N1+" in "".join(link.sent())


# ---- found by the fuzzers: core behaviour reported to the lead ------------------

def test_unsolicited_record_message_does_not_load_records():
    link = FakeLink()
    link.open()
    link.login()
    link.receive("R|A|S|nobody-asked+")
    assert link.client._record is None


def test_unsolicited_auth_error_while_open_keeps_the_connection_open():
    link = FakeLink()
    link.open()
    link.login()
    link.receive("A|E|INVALID_AUTH_DATA|Sx+")
    assert link.client.get_connection_state() == "OPEN"
