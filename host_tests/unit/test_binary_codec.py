"""The binary codec's encoders, read back by its decoder: every message the
handlers send, the hot encoders (emit, patch, request) through a connection,
and websocket framing (7- and 16-bit lengths, 64-bit headers, seal/unseal).
Lengths of several varint bytes: test_binary_varint.py."""
from binary_helpers import decode, encode, fields_of, open_binary_link, payload_of, unframe
from deepstream import binary_codec
from deepstream.message import UNDEFINED

# every kind of message the handlers send: (topic, action, fields)
SENT = (
    (2, 2, {}),  # CONNECTION PING
    (3, 2, {"data": {"username": "dev-1", "password": "p\u00e4ss"}}),  # AUTH REQUEST
    (4, 2, {"name": "temp", "data": 21.5}), (4, 2, {"name": "temp"}),  # EVENT EMIT, with and without data
    (4, 3, {"cid": "0", "names": ["a", "b/\u00fc"]}), (4, 4, {"cid": "1", "names": ["a"]}),  # (UN)SUBSCRIBE
    (4, 5, {"name": "w/.*"}), (4, 6, {"name": "w/.*"}),  # LISTEN, UNLISTEN
    (4, 7, {"name": "w/.*", "subscription": "w/x"}), (4, 8, {"name": "w/.*", "subscription": "w/y"}),
    (5, 23, {"cid": "0", "names": ["r", "s"]}), (5, 21, {"cid": "1", "names": ["r"]}),  # CR+READ, +HEAD
    (5, 26, {"cid": "2", "names": ["r"]}),  # UNSUBSCRIBE
    (5, 18, {"name": "r", "data": {"a": [1, None]}, "version": 7}),  # UPDATE
    (5, 18, {"name": "r", "data": [], "version": 8, "cid": "8", "is_write_ack": True}),
    (5, 19, {"name": "r", "data": 0, "path": "a.b[1]", "version": 9}),  # PATCH
    (5, 19, {"name": "r", "data": "", "path": "a", "version": 10, "cid": "10", "is_write_ack": True}),
    (5, 20, {"name": "r", "path": "a", "version": 11}),  # ERASE
    (5, 20, {"name": "r", "path": "b", "version": 12, "cid": "12", "is_write_ack": True}),
    (5, 16, {"name": "r", "data": {}, "version": -1}),  # CREATEANDUPDATE
    (5, 16, {"name": "r", "data": {"x": False}, "version": -1, "cid": "-1", "is_write_ack": True}),
    (5, 17, {"name": "r", "data": False, "path": "x", "version": -1}),  # CREATEANDPATCH
    (5, 17, {"name": "r", "data": None, "path": "x.y", "version": -1, "cid": "-1", "is_write_ack": True}),
    (5, 3, {"name": "r"}), (5, 5, {"name": "r"}), (5, 9, {"name": "r"}),  # READ, HEAD, DELETE
    (5, 2, {"cid": "n0", "names": ["r", "s"]}),  # NOTIFY
    (5, 27, {"name": "r/.*"}), (5, 28, {"name": "r/.*"}),  # LISTEN, UNLISTEN
    (5, 29, {"name": "r/.*", "subscription": "r/1"}), (5, 30, {"name": "r/.*", "subscription": "r/2"}),
    (6, 8, {"cid": "0", "names": ["add", "sub"]}), (6, 9, {"cid": "1", "names": ["add"]}),  # (UN)PROVIDE
    (6, 2, {"name": "add", "cid": "k3x.1", "data": {"a": 1}}),  # REQUEST
    (6, 4, {"name": "add", "cid": "c1"}), (6, 6, {"name": "add", "cid": "c2"}),  # ACCEPT, REJECT
    (6, 5, {"name": "add", "cid": "c1", "data": None}), (6, 5, {"name": "add", "cid": "c3"}),  # RESPONSE
    (6, 7, {"name": "add", "cid": "c4", "data": "no"}),  # REQUEST_ERROR
    (7, 12, {}), (7, 13, {}), (7, 2, {}),  # SUBSCRIBE_ALL, UNSUBSCRIBE_ALL, QUERY_ALL
    (7, 10, {"cid": "1", "names": ["bob"]}), (7, 11, {"cid": "2", "names": ["bob"]}),  # (UN)SUBSCRIBE
    (7, 4, {"cid": "3", "names": ["bob", "zo\u00eb"]}),  # QUERY
)


def round_trip(topic, action, fields):
    m = decode(payload_of(encode(topic, action, fields)))
    return m.topic, m.action, fields_of(m)


def test_every_message_the_client_sends_decodes_back():
    for topic, action, fields in SENT:
        assert round_trip(topic, action, fields) == (topic, action, fields)
        wire = encode(topic, action, fields)
        assert binary_codec.kind(wire) == (topic, action)  # the queue's filters read it too
        assert not binary_codec.matches(wire, topic, action + 1, None)
        for key in fields.get("names") or (fields.get("name"), fields.get("cid")):
            assert binary_codec.matches(wire, topic, action, key), (topic, action, key)


def test_challenge_carries_the_url():
    url = "ws://10.0.0.7:6020/deepstream"
    m = decode(payload_of(binary_codec.encode(2, 5, name=url)))
    assert (m.topic, m.action, fields_of(m)) == (2, 5, {"url": url})


def test_ping_and_pong_are_ready_made():
    assert payload_of(binary_codec.PING) == bytes.fromhex("0610021a020802")
    assert payload_of(binary_codec.PONG) == bytes.fromhex("0610021a020803")
    assert binary_codec.PING[2:6] == b"\x00\x00\x00\x00"  # the empty mask key seal() fills


def test_values_versions_and_names():
    for version in (0, 1, 127, 128, 2 ** 31 - 1, -1, -2, -2 ** 31):
        fields = {"name": "r", "data": {}, "version": version}
        assert round_trip(5, 18, fields) == (5, 18, fields)
    for data in (None, False, True, 0, -3, 2 ** 53, 1.5, "", "\u00fc\u20ac\U0001f600", [], {}, [[{"a": [None]}]]):
        assert round_trip(4, 2, {"name": "e", "data": data}) == (4, 2, {"name": "e", "data": data})
    for name in ("ger\u00e4t/\u6e29\u5ea6", "\U0001f600", "a" * 200):
        fields = {"name": name, "data": 1, "path": "\u00e4.b", "version": 3}
        assert round_trip(5, 19, fields) == (5, 19, fields)
    # an empty list of names is no field at all: it decodes as no names
    assert round_trip(7, 4, {"cid": "1", "names": []}) == (7, 4, {"cid": "1"})


def header(n):
    buf = bytearray(24)  # the header and the wrapper's head only: no payload needed
    binary_codec._header(buf, 0, 4, n)
    return buf


def test_frame_headers():
    small = encode(4, 2, {"name": "e", "data": 1})
    assert small[0] == 0x82 and small[1] == 0x80 | (len(small) - 6) and small[2:6] == b"\x00\x00\x00\x00"
    big = encode(4, 2, {"name": "e", "data": "x" * 300})  # a payload of 317 bytes: a 16-bit length
    assert big[:4] == b"\x82\xfe\x01\x3d" and len(big) == 8 + 317
    assert binary_codec._frame_at(big, 0) == (8, 317)
    # 70,000 bytes need the 64-bit length (header() writes only the head of such a frame)
    buf = header(70000)
    payload = 3 + 3 + 3 + 70000  # LEN (3 bytes) 10 04 1a LEN (3 bytes) body
    assert buf[:10] == b"\x82\xff" + payload.to_bytes(8, "big") and buf[10:14] == b"\x00\x00\x00\x00"
    assert binary_codec._frame_at(buf, 0) == (14, payload)
    assert header(65526)[1:4] == b"\xfe\xff\xff" and header(65527)[1] == 0xFF  # payloads of 65,535 and 65,536


def test_seal_masks_every_frame_and_unseal_restores_it():
    a = encode(4, 2, {"name": "e", "data": 1})
    b = encode(4, 2, {"name": "e", "data": "y" * 200})
    buf = bytearray(b"\xee" * 3) + a + b
    plain = bytes(buf)
    assert binary_codec.count(buf, 3, len(buf)) == 2 and binary_codec.message_end(buf, 3, len(buf)) == 3 + len(a)
    assert binary_codec.seal(buf, 3, len(a) + len(b)) == 3
    assert buf[:3] == b"\xee" * 3 and buf[3:5] == a[:2] and buf[3 + len(a):3 + len(a) + 4] == b[:4]
    keys = (buf[5:9], buf[3 + len(a) + 4:3 + len(a) + 8])
    assert keys[0] != keys[1] and b"\x00\x00\x00\x00" not in keys
    assert unframe(buf[3:]) == [payload_of(a), payload_of(b)]  # XOR with each key gives the payloads
    binary_codec.unseal(buf, 3, len(a) + len(b))
    assert buf[5:9] == keys[0]  # the keys stay
    assert payload_of(buf[3:]) == payload_of(a) and payload_of(buf[3 + len(a):]) == payload_of(b)
    assert buf != plain  # only the keys differ from before
    buf[5:9] = plain[5:9]
    buf[3 + len(a) + 4:3 + len(a) + 8] = plain[3 + len(a) + 4:3 + len(a) + 8]
    assert buf == plain


# ---- the hot encoders, through a connection -------------------------------------------------

def sent_one(link):
    sent = link.sent()
    assert len(sent) == 1, sent
    return sent[0]


def test_emit_writes_what_encode_writes():
    link = open_binary_link()
    for data in (21.5, UNDEFINED, None, {"\u00fc": [1, "\U0001f600"]}):
        link.client.event.emit("ger\u00e4t/t", data)
        fields = {"name": "ger\u00e4t/t"} if data is UNDEFINED else {"name": "ger\u00e4t/t", "data": data}
        assert sent_one(link) == payload_of(encode(4, 2, fields))


def test_emit_before_login_and_beyond_the_frame_buffer():
    link = open_binary_link()
    link.conn.socket_closed("lost")  # offline: the frame buffer takes nothing, emit() encodes aside
    link.client.event.emit("a", 1)
    link.client.event.emit("a", "z" * 1500)  # more than a frame buffer holds
    link.advance(0)
    link.open()
    link.login()
    sent = link.sent()
    assert [fields_of(decode(p)) for p in sent[-2:]] == [{"name": "a", "data": 1}, {"name": "a", "data": "z" * 1500}]


def test_a_long_message_goes_out_in_a_frame_with_a_16_bit_length():
    link = open_binary_link()
    conn = link.conn
    link.client.event.emit("a", "q" * 400)
    n = conn.take_frame()
    wire = bytes(conn.frame[conn.frame_start:conn.frame_start + n])
    assert wire[:2] == b"\x82\xfe" and int.from_bytes(wire[2:4], "big") == n - 8
    assert unframe(wire) == [payload_of(encode(4, 2, {"name": "a", "data": "q" * 400}))]


def test_patch_and_erase_write_what_encode_writes():
    link = open_binary_link()
    rec = link.client.record.get_record("r/\u00e4")
    link.sent()
    link.receive(payload_of(encode(5, 4, {"name": "r/\u00e4", "data": {"a": {"b": 1}}, "version": 3})))
    rec.set("a.b", 5)
    assert sent_one(link) == payload_of(encode(5, 19, {"name": "r/\u00e4", "data": 5, "path": "a.b", "version": 4}))
    rec.set("a.b", UNDEFINED)
    assert sent_one(link) == payload_of(encode(5, 20, {"name": "r/\u00e4", "path": "a.b", "version": 5}))
    assert link.errors == []


def test_request_writes_what_encode_writes():
    link = open_binary_link()
    for data in ({"x": 1}, None):
        cid = link.client.rpc.make("add", data, lambda err, res: None)
        assert sent_one(link) == payload_of(encode(6, 2, {"name": "add", "cid": cid, "data": data}))


def test_the_hot_encoders_agree_with_encode_around_the_small_message_limit():
    # a body of up to 120 bytes takes the short way (one-byte lengths, no varint
    # calls); bodies from 95 to 140 bytes, values of every kind the short way of
    # _data takes (and a float and a dict, which it does not)
    link = open_binary_link()
    rec = link.client.record.get_record("r")
    link.sent()
    link.receive(payload_of(encode(5, 4, {"name": "r", "data": {}, "version": 1})))
    version = 1
    for n in range(90, 136, 3):
        name = "e" * n
        for data in ("x", "", 7, -2 ** 40, True, None, 2.5, {"a": "\u00fc"}):
            link.client.event.emit(name, data)
            assert sent_one(link) == payload_of(encode(4, 2, {"name": name, "data": data}))
            rec.set(name, data)
            version += 1
            assert sent_one(link) == payload_of(encode(5, 19, {"name": "r", "data": data, "path": name,
                                                               "version": version}))
        cid = link.client.rpc.make(name, "x", None)
        assert sent_one(link) == payload_of(encode(6, 2, {"name": name, "cid": cid, "data": "x"}))
    for bad in (float("nan"), float("-inf"), [float("inf")]):
        try:
            link.client.event.emit("e", bad)
        except ValueError:
            pass
        else:
            raise AssertionError("emit(%r) did not raise ValueError" % bad)
    assert link.sent() == [] and link.errors == []


def test_names_keep_their_order():
    # a message of names has one field per name: the order must survive the sort
    # into field order (MicroPython's sort is not stable)
    names = ["n%d" % i for i in range(12)]
    for topic, action in ((4, 3), (5, 21), (6, 8), (7, 10)):
        m = decode(payload_of(encode(topic, action, {"cid": "0", "names": names})))
        assert m.names == names, (topic, m.names)


def test_a_patch_multi_of_a_newer_server_reads_the_record_again():
    # RECORD PATCH_MULTI (35, server 10.1 and later): several path sets in one message,
    # which we do not apply ourselves: a held record is read again, without an error
    link = open_binary_link()
    link.client.record.get_record("r/m")
    link.sent()
    link.receive(payload_of(encode(5, 4, {"name": "r/m", "data": {"a": 1}, "version": 3})))
    link.receive(payload_of(encode(5, 35, {"name": "r/m", "data": [{"path": "a", "data": 2}], "version": 4})))
    [read] = link.sent()
    assert (decode(read).action, fields_of(decode(read))) == (3, {"name": "r/m"})  # READ
    assert link.errors == []
