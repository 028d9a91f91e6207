"""Held records after a reconnect on the binary protocol (record_restore.py): a record
the server no longer has is made again from ours. The server's side is what 7.0.2
sends when it restarted without persistent storage: our queued offline write is
refused (RECORD_UPDATE_ERROR: no such record), the version check answers -1."""
from binary_helpers import AUTH_OK, decode, encode, fields_of, open_binary_link, payload_of

NAME = "r/lost"
_RECORD = 5
_PATCH = 19
_UPDATE = 18
_HEAD_RESPONSE = 6
_WRITE_ACKNOWLEDGEMENT = 14
_CREATEANDUPDATE = 16
_SUBSCRIBEANDHEAD = 21
_RECORD_UPDATE_ERROR = 105


def server(link, action, **fields):
    link.receive(payload_of(encode(_RECORD, action, fields)))


def sent(link):
    """(action, fields) of each record message the client sent since the last call."""
    return [(m.action, fields_of(m)) for m in (decode(p) for p in link.sent()) if m.topic == _RECORD]


def held(version=3, data=None):
    link = open_binary_link()
    rec = link.client.record.get_record(NAME)
    server(link, 4, name=NAME, version=version, data=data or {"a": 1})  # READ_RESPONSE
    link.sent()
    return link, rec


def reconnect(link):
    """The link is back: challenge, login; the record messages the client sent."""
    link.advance(0)
    link.open()
    link.receive(AUTH_OK)
    return sent(link)


def lost(link):
    """After the reconnect, 7.0.2 without the record: the offline write refused, version -1."""
    server(link, _RECORD_UPDATE_ERROR, name=NAME)
    server(link, _HEAD_RESPONSE, name=NAME, version=-1)


def test_a_record_the_server_lost_is_made_again_from_ours():
    link, rec = held()
    link.drop()
    rec.set("b", 2)  # offline: queued
    assert [a for a, f in reconnect(link)] == [_PATCH, _SUBSCRIBEANDHEAD]
    lost(link)
    # created without subscribing again (SUBSCRIBEANDHEAD did), at a new record's first version
    assert sent(link) == [(_CREATEANDUPDATE, {"name": NAME, "version": 1, "data": {"a": 1, "b": 2}})]
    assert link.errors == []  # the refused write is in it
    assert rec.version == 1 and rec.get() == {"a": 1, "b": 2}
    assert link.client.record.restore_stats["recreated"] == 1
    rec.set("c", 3)  # the record goes on from there
    assert sent(link) == [(_PATCH, {"name": NAME, "version": 2, "path": "c", "data": 3})]
    server(link, _UPDATE, name=NAME, version=3, data={"a": 1, "b": 2, "c": 3, "d": 4})
    assert rec.get("d") == 4 and sent(link) == [] and link.errors == []


def test_an_offline_write_refused_for_a_record_the_server_has_is_reported():
    link, rec = held()
    link.drop()
    rec.set("b", 2)
    reconnect(link)
    server(link, _RECORD_UPDATE_ERROR, name=NAME)
    assert link.errors == []  # held until the version says why
    server(link, _HEAD_RESPONSE, name=NAME, version=3)
    assert link.errors == [("RECORD_UPDATE_ERROR", NAME, "R")]
    assert sent(link) == [(3, {"name": NAME})]  # READ: our version 4 is not the server's
    assert link.client.record.restore_stats["recreated"] == 0


def test_a_record_another_client_wrote_first_goes_through_the_merge_strategy():
    link, rec = held()
    link.drop()
    rec.set("b", 2)
    reconnect(link)
    lost(link)
    sent(link)  # CREATEANDUPDATE at version 1, which another client's write took meanwhile:
    server(link, 102, name=NAME, version=1, data={"x": 1})  # VERSION_EXISTS
    assert rec.get() == {"x": 1} and rec.version == 1  # REMOTE_WINS, the default
    assert sent(link) == [] and link.errors == []


def test_writes_waiting_for_their_ack_are_answered_by_the_re_creation():
    link, rec = held(version=0)  # their versions 1 and 2 come again after the re-creation
    acks = []
    rec.set("b", 2, lambda error: acks.append(("b", error)))
    rec.set("c", 3, lambda error: acks.append(("c", error)))
    link.sent()
    link.drop()  # the server died with both writes: their acks never come
    reconnect(link)
    lost(link)
    [(action, fields)] = sent(link)
    assert (action, fields["version"], fields["cid"], fields["is_write_ack"]) == (_CREATEANDUPDATE, 1, "1", True)
    server(link, _WRITE_ACKNOWLEDGEMENT, name=NAME, cid="1")
    assert acks == [("b", None), ("c", None)]
    rec.set("d", 4, lambda error: acks.append(("d", error)))  # version 2 again: its own callback
    server(link, _WRITE_ACKNOWLEDGEMENT, name=NAME, cid="2")
    assert acks[2:] == [("d", None)] and link.errors == []


def test_an_offline_write_with_a_callback_asks_for_no_ack():
    # (test_record_set.py has why) and so it is refused like one without
    link, rec = held()
    link.drop()
    errors = []
    rec.set("b", 2, errors.append)
    assert errors == ["Connection error: error updating record as connection was closed"]
    assert reconnect(link)[0] == (_PATCH, {"name": NAME, "version": 4, "path": "b", "data": 2})
    lost(link)
    assert sent(link) == [(_CREATEANDUPDATE, {"name": NAME, "version": 1, "data": {"a": 1, "b": 2}})]
    assert link.errors == []
