"""ws.py codec tests: plain functions and asserts (pytest on CPython, mptest on MicroPython)."""
from deepstream.ws import WebSocket, WebSocketError, MessageTooLarge, frame_header, frame_in_place, mask_in_place
from deepstream.ws_handshake import accept_key

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3 example


def server_frame(op, payload, fin=True):
    """Unmasked frame as a server sends it."""
    n = len(payload)
    b0 = (0x80 if fin else 0) | op
    if n < 126:
        head = bytes((b0, n))
    elif n < 65536:
        head = bytes((b0, 126, n >> 8, n & 255))
    else:
        head = bytes((b0, 127)) + n.to_bytes(8, "big")
    return head + payload


def parse_client_frame(data):
    """(fin, opcode, unmasked payload, rest) of a client frame; checks the mask bit."""
    b0, b1 = data[0], data[1]
    assert b1 & 0x80, "client frames must be masked"
    n = b1 & 0x7F
    i = 2
    if n == 126:
        n = (data[2] << 8) | data[3]
        i = 4
    elif n == 127:
        n = int.from_bytes(data[2:10], "big")
        i = 10
    key = data[i:i + 4]
    payload = data[i + 4:i + 4 + n]
    plain = bytes(payload[j] ^ key[j & 3] for j in range(n))
    return b0 & 0x80, b0 & 0x0F, plain, data[i + 4 + n:]


def response(accept=None, status="HTTP/1.1 101 Switching Protocols"):
    if accept is None:
        accept = accept_key(KEY)
    return (
        status + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " + accept.decode() + "\r\n\r\n"
    ).encode()


def opened(**kw):
    ws = WebSocket(**kw)
    ws.handshake_request("example.com", 80, "/deepstream-v3", key=KEY)
    assert ws.receive_handshake(response()) is True
    return ws


def events(ws):
    out = []
    while True:
        ev = ws.next_event()
        if ev is None:
            return out
        out.append(ev)


def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc as e:
        return e
    raise AssertionError("expected " + exc.__name__)


def test_accept_key_rfc_example():
    assert accept_key(KEY) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_handshake_request():
    ws = WebSocket()
    req = ws.handshake_request("example.com", 6020, "/deepstream-v3", key=KEY)
    assert req.startswith(b"GET /deepstream-v3 HTTP/1.1\r\n")
    assert b"\r\nHost: example.com:6020\r\n" in req
    assert b"\r\nSec-WebSocket-Key: " + KEY + b"\r\n" in req
    assert b"\r\nSec-WebSocket-Version: 13\r\n" in req
    assert req.endswith(b"\r\n\r\n")
    req = WebSocket().handshake_request("example.com", 80, "/x")
    assert b"\r\nHost: example.com\r\n" in req
    req = WebSocket().handshake_request("example.com", 443, "/x", secure=True)
    assert b"\r\nHost: example.com\r\n" in req
    # random key: 16 bytes base64 = 24 chars
    i = req.find(b"Sec-WebSocket-Key: ") + 19
    assert req[i + 24:i + 26] == b"\r\n"


def test_handshake_good_in_pieces_with_leftover_frame():
    ws = WebSocket()
    ws.handshake_request("h", 80, "/", key=KEY)
    resp = response()
    for i in range(len(resp) - 1):
        assert ws.receive_handshake(resp[i:i + 1]) is None
    assert ws.receive_handshake(resp[-1:] + server_frame(1, b"hi")) is True
    assert events(ws) == [("text", "hi")]


def test_handshake_bad_accept():
    ws = WebSocket()
    ws.handshake_request("h", 80, "/", key=KEY)
    e = raises(WebSocketError, ws.receive_handshake, response(accept=b"AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
    assert "Accept" in str(e)


def test_handshake_not_101():
    ws = WebSocket()
    ws.handshake_request("h", 80, "/", key=KEY)
    e = raises(WebSocketError, ws.receive_handshake, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    assert "HTTP/1.1 404 Not Found" in str(e)


def test_mask_in_place_uses_the_key_before_the_payload():
    buf = bytearray(b"\x01\x02\x03\x04" + b"\x00" * 5)
    mask_in_place(buf, 4, 0)
    assert buf[4:] == b"\x00" * 5
    mask_in_place(buf, 4, 5)
    assert buf[4:] == b"\x01\x02\x03\x04\x01"


def test_mask_in_place_twice_restores_any_length():
    for n in (1, 3, 255, 256, 257, 1000, 1031, 4096):
        plain = bytes((i * 7 + 3) & 0xFF for i in range(n))
        buf = bytearray(b"\x9a\x0b\xfe\x11" + plain)
        mask_in_place(buf, 4, n)
        expect = bytes(b ^ (0x9a, 0x0b, 0xfe, 0x11)[i & 3] for i, b in enumerate(plain))
        assert bytes(buf[4:]) == expect, n
        mask_in_place(buf, 4, n)
        assert bytes(buf[4:]) == plain, n


def test_frame_in_place_writes_header_and_key_in_the_headroom():
    for n in (0, 5, 125, 126, 1024, 1500):  # header forms: test_frame_header_lengths
        buf = bytearray(14 + n)
        buf[14:] = b"m" * n
        frame = bytes(frame_in_place(buf, 14, n))
        fin, op, plain, rest = parse_client_frame(frame)
        assert fin and op == 1 and rest == b"" and plain == b"m" * n, n


def _text_frame(text):
    data = text.encode()
    buf = bytearray(14 + len(data))
    buf[14:] = data
    return bytes(frame_in_place(buf, 14, len(data)))


def test_text_frames_are_masked():
    for text in ("", "E\x1fS\x1fnews\x1e", "x" * 125, "y" * 126, "z" * 1000, "\u00e9t\u00e9"):
        fin, op, plain, rest = parse_client_frame(_text_frame(text))
        assert fin and op == 1 and rest == b""
        assert plain == text.encode()
    # two frames of the same text use different keys
    a, b = _text_frame("abcdefgh"), _text_frame("abcdefgh")
    assert a[2:6] != b[2:6] or a[6:] != b[6:]


def test_frame_header_lengths():
    assert frame_header(1, 0) == b"\x81\x80"
    assert frame_header(1, 125) == b"\x81\xfd"
    assert frame_header(1, 126) == b"\x81\xfe\x00\x7e"
    assert frame_header(1, 65535) == b"\x81\xfe\xff\xff"
    assert frame_header(1, 65536) == b"\x81\xff\x00\x00\x00\x00\x00\x01\x00\x00"
    assert frame_header(2, 70000, masked=False) == b"\x82\x7f" + (70000).to_bytes(8, "big")


def test_decode_lengths():
    ws = opened(max_message_size=1000)
    for n in (0, 1, 125, 126, 127, 300, 1000):
        ws.receive_data(server_frame(1, b"a" * n))
        assert events(ws) == [("text", "a" * n)], n


def test_decode_64bit_length():
    # a short payload with a (non-minimal) 64-bit length, then a real 64-bit
    # frame refused by size: both parse the 8-byte length without a big heap
    ws = opened(max_message_size=1000)
    ws.receive_data(b"\x81\x7f" + (3).to_bytes(8, "big") + b"abc")
    assert events(ws) == [("text", "abc")]
    ws.receive_data(frame_header(1, 70000, masked=False) + b"z" * 500)
    e = raises(MessageTooLarge, ws.next_event)
    assert "70000" in str(e)
    chunk = b"z" * 500
    for i in range(138):
        ws.receive_data(chunk)
        assert ws.next_event() is None
    ws.receive_data(chunk + server_frame(1, b"after"))
    assert events(ws) == [("text", "after")]
    assert len(ws._buf) <= 1024  # the initial size: never grew


def test_zero_length_text():
    ws = opened()
    ws.receive_data(server_frame(1, b""))
    assert ws.next_event() == ("text", "")
    assert ws.next_event() is None


def test_byte_at_a_time():
    ws = opened()
    data = server_frame(1, b"first") + server_frame(1, b"b" * 300) + server_frame(2, b"\x00\xff")
    data += server_frame(9, b"") + server_frame(1, b"") + server_frame(1, b"c" * 1000)
    got = []
    for i in range(len(data)):
        ws.receive_data(data[i:i + 1])
        got += events(ws)
    assert got == [
        ("text", "first"), ("text", "b" * 300), ("binary", b"\x00\xff"),
        ("ping", b""), ("text", ""), ("text", "c" * 1000),
    ]


def test_fragments_with_interleaved_ping():
    ws = opened()
    data = (
        server_frame(1, b"Hel", fin=False)
        + server_frame(9, b"p1")
        + server_frame(0, b"lo ", fin=False)
        + server_frame(0, b"w\xc3", fin=False)  # UTF-8 sequence split over two frames
        + server_frame(0, b"\xa9rld", fin=True)
        + server_frame(1, b"next")
    )
    assert events_fed(ws, data) == [("ping", b"p1"), ("text", "Hello w\u00e9rld"), ("text", "next")]


def events_fed(ws, data):
    ws.receive_data(data)
    return events(ws)


def test_ping_pong():
    ws = opened()
    ev = events_fed(ws, server_frame(9, b"abc"))[0]
    assert ev == ("ping", b"abc")
    fin, op, plain, rest = parse_client_frame(ws.reply(ev))
    assert fin and op == 10 and plain == b"abc" and rest == b""
    assert events_fed(ws, server_frame(10, b"")) == [("pong", b"")]


def test_close_from_server_is_answered_once():
    ws = opened()
    ev = events_fed(ws, server_frame(8, b"\x03\xe8bye"))[0]
    assert ev == ("close", 1000, "bye")
    assert ws.close_received
    fin, op, plain, rest = parse_client_frame(ws.reply(ev))
    assert op == 8 and plain == b"\x03\xe8"
    assert ws.reply(ev) is None
    assert ws.send_close() == b""


def test_close_without_status_code():
    ws = opened()
    ev = events_fed(ws, server_frame(8, b""))[0]
    assert ev == ("close", None, "")
    fin, op, plain, rest = parse_client_frame(ws.reply(ev))
    assert op == 8 and plain == b""


def test_client_close_then_server_close():
    ws = opened()
    fin, op, plain, rest = parse_client_frame(ws.send_close(1000))
    assert op == 8 and plain == b"\x03\xe8"
    ev = events_fed(ws, server_frame(8, b"\x03\xe8"))[0]
    assert ev == ("close", 1000, "")
    assert ws.reply(ev) is None  # already sent ours


def test_oversize_frame_refused_and_next_decoded():
    ws = opened(max_message_size=1000)
    big = server_frame(1, b"x" * 5000)
    ws.receive_data(big[:10])
    raises(MessageTooLarge, ws.next_event)
    assert len(ws._buf) < 2000  # payload never buffered
    for i in range(10, len(big), 700):
        ws.receive_data(big[i:i + 700])
        assert ws.next_event() is None
    assert len(ws._buf) < 2000
    assert events_fed(ws, server_frame(1, b"ok")) == [("text", "ok")]


def test_oversize_in_one_chunk_with_following_frame():
    ws = opened(max_message_size=100)
    ws.receive_data(server_frame(1, b"x" * 101) + server_frame(1, b"after"))
    raises(MessageTooLarge, ws.next_event)
    assert events(ws) == [("text", "after")]


def test_oversize_fragmented_message_reported_once():
    ws = opened(max_message_size=100)
    data = (
        server_frame(1, b"a" * 60, fin=False)
        + server_frame(0, b"b" * 60, fin=False)  # total 120: refused here
        + server_frame(9, b"")
        + server_frame(0, b"c" * 60, fin=True)  # dropped silently
        + server_frame(1, b"fine")
    )
    ws.receive_data(data)
    raises(MessageTooLarge, ws.next_event)
    assert events(ws) == [("ping", b""), ("text", "fine")]


def test_masked_server_frame_is_error():
    ws = opened()
    ws.receive_data(bytes((0x81, 0x82, 1, 2, 3, 4, ord("h") ^ 1, ord("i") ^ 2)))
    e = raises(WebSocketError, ws.next_event)
    assert "masked" in str(e)


def test_invalid_utf8_is_error():
    ws = opened()
    ws.receive_data(server_frame(1, b"ab\xff\xfe"))
    e = raises(WebSocketError, ws.next_event)
    assert "UTF-8" in str(e)


def test_bad_control_frame_is_error():
    ws = opened()
    ws.receive_data(server_frame(9, b"p", fin=False))
    raises(WebSocketError, ws.next_event)
