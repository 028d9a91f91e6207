"""convert.py: every message our client sends, encoded for one protocol,
re-encoded for the other (protocol="auto" after a wrong guess) is what that
protocol's codec encodes directly, both ways: text -> model -> binary and
binary -> model -> text."""
from deepstream import binary_codec, convert, text_codec
from deepstream.message import UNDEFINED


class _Conn:
    """What the codecs' hot encoders and binary's bulk ids need of a connection."""
    _was_reconnecting = False
    out = None  # the frame buffer: never used (reserve)

    def __init__(self):
        self.pushed = []
        binary_codec.attach(self)

    def reserve(self, n):
        return -1  # never the frame buffer: push() gets every message

    def push(self, data, topic=0, event=False):
        self.pushed.append(bytes(data))


class _Rec:
    name = "cfg"
    version = 2  # a patch goes out at version 3


def _hot(codec, fn, *args):
    conn = _Conn()
    getattr(codec, fn)(conn, *args)
    return conn.pushed[0]


def _both(topic, action, **fields):
    """(text, binary): the message as each codec's encode() writes it (what conn.send sends)."""
    return text_codec.encode(topic, action, **fields), binary_codec.encode(topic, action, **fields)


def _bulk(topic, action, name):
    """An (un)subscription: text sends the name alone, binary a message of names
    with a correlation id (a fresh connection's first: "0")."""
    return text_codec.encode(topic, action, name=name), binary_codec.encode(topic, action, names=[name], cid="0")


def _hot_both(fn, *args):
    return _hot(text_codec, fn, *args), _hot(binary_codec, fn, *args)


def _cases():
    """(what, text bytes, binary bytes) for every kind of message the client sends."""
    return [
        # events
        ("emit number", ) + _hot_both("emit", "temp", 21.5),
        ("emit object", ) + _hot_both("emit", "temp/1", {"a": [1, "x", None], "b": True}),
        ("emit text", ) + _hot_both("emit", "t/\u00e9", "\u00fc\u00e9 a|b"),
        ("emit null", ) + _hot_both("emit", "n", None),
        ("emit false", ) + _hot_both("emit", "n", False),
        ("emit no data", ) + _hot_both("emit", "n", UNDEFINED),
        ("event subscribe", ) + _bulk(4, 3, "cmd"),
        ("event unsubscribe", ) + _bulk(4, 4, "cmd"),
        ("event listen", ) + _both(4, 5, name="p/.*"),
        ("event unlisten", ) + _both(4, 6, name="p/.*"),
        ("event listen accept", ) + _both(4, 7, name="p/.*", sub="p/1"),
        ("event listen reject", ) + _both(4, 8, name="p/.*", sub="p/1"),
        # RPC
        ("rpc make", ) + _hot_both("request", "add", "k1.1", {"a": 1}),
        ("rpc make, null", ) + _hot_both("request", "add", "k1.2", None),
        ("rpc provide", ) + _bulk(6, 8, "add"),
        ("rpc unprovide", ) + _bulk(6, 9, "add"),
        ("rpc accept", ) + _both(6, 4, name="add", cid="c1"),
        ("rpc response", ) + _both(6, 5, name="add", data=[3, "x"], cid="c1"),
        ("rpc response, no data", ) + _both(6, 5, name="add", cid="c1"),
        ("rpc error", ) + _both(6, 7, name="add", data="no such led", cid="c1"),
        # presence
        ("presence query all", ) + _both(7, 2),
        ("presence query", ) + _both(7, 4, names=["ann", "bob"], cid="3"),
        ("presence subscribe all", ) + _both(7, 12),
        ("presence unsubscribe all", ) + _both(7, 13),
        ("presence subscribe", ) + _both(7, 10, names=["ann"], cid="4"),
        ("presence unsubscribe", ) + _both(7, 11, names=["ann", "bob"], cid="5"),
        # records
        ("record read and subscribe", ) + _bulk(5, 23, "cfg"),
        ("record unsubscribe", ) + _bulk(5, 26, "cfg"),
        ("record snapshot", ) + _both(5, 3, name="cfg"),
        ("record head", ) + _both(5, 5, name="cfg"),
        ("record delete", ) + _both(5, 9, name="cfg"),
        ("record listen", ) + _both(5, 27, name="cfg/.*"),
        ("record unlisten", ) + _both(5, 28, name="cfg/.*"),
        ("record listen accept", ) + _both(5, 29, name="cfg/.*", sub="cfg/1"),
        ("record listen reject", ) + _both(5, 30, name="cfg/.*", sub="cfg/1"),
        ("record patch", ) + _hot_both("patch", _Rec(), "a.b", 5),
        ("record patch object", ) + _hot_both("patch", _Rec(), "a", {"x": [1]}),
        ("record erase", ) + _hot_both("patch", _Rec(), "a.b", UNDEFINED),
        ("record set", ) + _both(5, 18, name="cfg", data={"a": 1}, version=3),
        ("record set, write ack", ) + _both(5, 18, name="cfg", data={"a": 1}, cid="3", version=3, write_ack=True),
        ("record patch, write ack", ) + _both(5, 19, name="cfg", data="on", cid="7", path="a.b", version=7,
                                              write_ack=True),
        ("record erase, write ack", ) + _both(5, 20, name="cfg", cid="8", path="a", version=8, write_ack=True),
        ("record set_data", ) + _both(5, 16, name="cfg", data={"a": 1}, version=-1),
        ("record set_data, write ack", ) + _both(5, 16, name="cfg", data=[], cid="-1", version=-1, write_ack=True),
        ("record set_data path", ) + _both(5, 17, name="cfg", data=2, path="a.b", version=-1),
        ("record set_data path, write ack", ) + _both(5, 17, name="cfg", data=0, cid="-1", path="a", version=-1,
                                                      write_ack=True),
    ]


def test_text_to_binary_is_what_binary_encodes_for_every_message_we_send():
    for what, text, binary in _cases():
        got = convert.message(text, binary_codec, _Conn())
        assert got == binary, (what, text, got, binary)


def test_binary_to_text_is_what_text_encodes_for_every_message_we_send():
    for what, text, binary in _cases():
        got = convert.message(binary, text_codec, _Conn())
        assert got == text, (what, binary, got, text)


def test_a_binary_subscription_of_several_names_becomes_one_text_message_each():
    binary = binary_codec.encode(4, 3, names=["a", "b"], cid="0")
    assert convert.message(binary, text_codec, _Conn()) == b"E\x1fS\x1fa\x1eE\x1fS\x1fb\x1e"


def test_binary_subscriptions_get_correlation_ids_their_acks_are_matched_by():
    conn = _Conn()
    conn.bulk_cids = 7
    got = convert.message(b"P\x1fS\x1fadd\x1e", binary_codec, conn)
    assert got == binary_codec.encode(6, 8, names=["add"], cid="7")
    assert conn.acked_names == {chr(6) + "7": ["add"]}


def test_a_binary_reject_is_sent_as_text_sends_one_it_cannot_reroute():
    # 7.0.2's text endpoint dies rerouting a rejected request with falsy data (rpc.py);
    # the request's data is not known here, so the reject refuses it with REJECTED
    binary = binary_codec.encode(6, 6, name="add", cid="c1")
    assert convert.message(binary, text_codec, _Conn()) == text_codec.encode(6, 7, "add", "REJECTED", "c1")
    assert convert.message(text_codec.encode(6, 6, "add", cid="c1"), binary_codec, _Conn()) == binary


def test_what_the_other_protocol_cannot_carry_is_none():
    notify = binary_codec.encode(5, 2, names=["cfg"], cid="n0")  # no NOTIFY in the text protocol
    head = binary_codec.encode(5, 21, names=["cfg"], cid="0")  # nor SUBSCRIBEANDHEAD
    assert convert.message(notify, text_codec, _Conn()) is None
    assert convert.message(head, text_codec, _Conn()) is None
    nan = _hot(text_codec, "emit", "temp", float("nan"))  # typed N NaN: not JSON
    assert convert.message(nan, binary_codec, _Conn()) is None
    assert convert.message(b"E\x1fXX\x1fa\x1e", binary_codec, _Conn()) is None  # none of ours


def test_the_links_own_messages_need_no_later_link():
    assert convert.message(text_codec.PING, binary_codec, _Conn()) == b""
    assert convert.message(binary_codec.PONG, text_codec, _Conn()) == b""


def test_after_an_outage_what_the_reconnect_remakes_is_dropped():
    conn = _Conn()
    conn._was_reconnecting = True
    head = binary_codec.encode(5, 21, names=["cfg"], cid="0")
    assert convert.message(head, text_codec, conn) == b""  # not reported: the restore sends R|CR
    assert convert.message(b"E\x1fS\x1fcmd\x1e", binary_codec, conn) == b""
    emit = _hot(text_codec, "emit", "t", 1)
    assert convert.message(emit, binary_codec, conn) == _hot(binary_codec, "emit", "t", 1)


def test_our_subscribe_is_not_the_servers_ack_of_it():
    m = convert.own_text(b"E\x1fS\x1fnews\x1e")
    assert (m.topic, m.action, m.name, m.is_ack) == (4, 3, "news", False)


def test_an_outbox_record_is_converted_for_the_link():
    text = _hot(text_codec, "emit", "temp", {"i": 1})
    binary = _hot(binary_codec, "emit", "temp", {"i": 1})
    assert convert.record(None, text, True) == binary  # (the connection: for what cannot be)
    assert convert.record(None, binary, False) == text


def test_a_call_without_data_carries_null_as_binary_sends_it():
    # text writes no data as U; a binary request always has its data (null)
    text = _hot(text_codec, "request", "add", "k1.3", UNDEFINED)
    assert convert.message(text, binary_codec, _Conn()) == _hot(binary_codec, "request", "add", "k1.3", UNDEFINED)
