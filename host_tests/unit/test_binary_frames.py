"""The binary codec against frames seen on the wire between @deepstream/server 7.0.2 and
@deepstream/client 7.0.5 (binary_frames.txt: every binary frame of the project's wire
notes): each decodes to the model fields written there, each that a client sends is the
bytes encode() writes, and what is no message is refused, on a connection that stays
open."""
from binary_helpers import decode, documented_frames, encode, fields_of, open_binary_link, payload_of
from deepstream.binary_codec import ParseError


def test_every_documented_frame_decodes_to_its_fields():
    topics = {}
    for kind, payload, topic, action, fields in documented_frames():
        if kind == "X":
            continue
        m = decode(payload)
        assert (m.topic, m.action, fields_of(m)) == (topic, action, fields), payload.hex()
        if action >= 100 or topic == 1:  # errors are reported by name: every one is known
            assert m.error_name() != "ERROR", payload.hex()
        topics[topic] = topics.get(topic, 0) + 1
    assert sorted(topics) == [1, 2, 3, 4, 5, 6, 7] and sum(topics.values()) > 160, topics


def test_a_clients_frames_are_what_encode_writes():
    n = 0
    for kind, payload, topic, action, fields in documented_frames():
        if kind == "C":
            got = payload_of(encode(topic, action, fields))
            if got != payload:  # MicroPython's dicts keep no key order: the same object, keys reordered
                data = fields.get("data")
                assert isinstance(data, dict) and len(data) > 1 and len(got) == len(payload), payload.hex()
                assert fields_of(decode(got)) == fields
            n += 1
    assert n > 80, n


def test_what_is_no_message_does_not_decode():
    n = 0
    for kind, payload, _, _, _ in documented_frames():
        if kind == "X":
            n += 1
            try:
                decode(payload)
            except ParseError:
                continue
            raise AssertionError("decoded: " + payload.hex())
    assert n == 7


def test_received_they_are_error_events_and_the_link_stays_open():
    link = open_binary_link()
    got = []
    link.client.event.subscribe("news/sport", got.append)
    link.sent()
    n = 0
    for kind, payload, _, _, _ in documented_frames():
        if kind == "X":
            link.receive(payload)
            n += 1
    assert [e[0] for e in link.errors] == ["MESSAGE_PARSE_ERROR"] * n
    assert link.client.get_connection_state() == "OPEN"
    link.receive("2310041a1f0802120f7b2273636f7265223a5b312c325d7d320a6e6577732f73706f7274")
    assert got == [{"score": [1, 2]}]


def test_events_relayed_from_text_clients_reach_the_subscriber():
    # 7.0.2 adds a correlation id, isAck false and names to an event a text client emitted
    link = open_binary_link()
    got = []
    link.client.event.subscribe("mix/2", got.append)
    link.receive("4510041a41080212167b2278223a5b312c2261225d2c2279223a6e756c6c7d1a156d786279647939392d3373"
                 "3562336e756739733230280032056d69782f323a056d69782f32")
    link.receive("2d10041a2908021a156d78627964796c752d78786a7375656a6473673030280032056d69782f323a056d69782f32")
    assert got == [{"x": [1, "a"], "y": None}, None] and link.errors == []


def test_parser_unknown_topic_is_an_error_event():
    link = open_binary_link()
    link.receive("0610011a020801")
    assert [e[0] for e in link.errors] == ["UNKNOWN_TOPIC"]
    assert link.client.get_connection_state() == "OPEN"


def test_a_bad_frame_is_reported_when_the_heap_has_no_room_for_its_text():
    # found by tools/fuzz_mp_bin.py at a 176K heap: the text of the error event
    # (the frame in hex) could not be made, and that MemoryError left receive()
    from deepstream import binary_codec

    def no_heap(frame):
        raise MemoryError("memory allocation failed")
    link = open_binary_link()
    hex_text = binary_codec._hex
    binary_codec._hex = no_heap
    try:
        link.receive("ffffff")
    finally:
        binary_codec._hex = hex_text
    assert [e[:2] for e in link.errors] == [("MESSAGE_PARSE_ERROR", "ParseError")]
    assert link.client.get_connection_state() == "OPEN"


def test_acks_of_listen_and_unlisten_name_the_pattern():
    # 7.0.2 acks a LISTEN with its pattern in `name` (no names, no correlation id): found
    # by host_tests/test_binary_server_safety.py, it was "ack without a name" and, once
    # subscription_timeout had passed, an ACK_TIMEOUT
    link = open_binary_link(subscription_timeout=100)
    link.client.event.listen("weather/.*", lambda name, found, response: None)
    link.client.record.listen("dev/.*", lambda name, found, response: None)
    link.receive("1410041a1008052801320a776561746865722f2e2a")  # EVENT LISTEN ack
    link.receive("1010051a0c081b280132066465762f2e2a")  # RECORD LISTEN ack
    link.client.event.unlisten("weather/.*")
    link.client.record.unlisten("dev/.*")
    link.receive("1410041a1008062801320a776561746865722f2e2a")  # EVENT UNLISTEN ack
    link.receive("1010051a0c081c280132066465762f2e2a")  # RECORD UNLISTEN ack
    link.advance(200)
    assert link.errors == []
