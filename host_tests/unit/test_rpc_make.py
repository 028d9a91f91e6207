"""RPC, caller side: correlation ids, answers, errors, timeouts, bad replies."""
from deepstream.testing import FakeLink, open_link
from rpc_helpers import make, provider


# ---- making calls ----------------------------------------------------------------

def test_make_success():
    link = open_link()
    cid, got = make(link, "add", {"a": 1, "b": 2})
    assert link.sent() == ["P|REQ|add|%s|O{\"a\":1,\"b\":2}+" % cid]
    link.receive("P|A|REQ|add|%s+" % cid)
    assert got == []
    link.receive("P|RES|add|%s|N3+" % cid)
    assert got == [(None, 3)]
    link.advance(20000)  # no timer left behind
    assert got == [(None, 3)] and link.errors == []


def test_make_response_shapes():
    link = open_link()
    results = []
    for body in ("", "|U", "|L", "|Sx", "|O[1]"):
        cid, got = make(link)
        link.receive("P|RES|add|%s%s+" % (cid, body))
        results.append(got[0])
    assert results == [(None, None), (None, None), (None, None), (None, "x"), (None, [1])]


def test_correlation_ids_unique_short_and_per_client():
    a = open_link(max_pending_rpcs=20)
    b = open_link(max_pending_rpcs=20)
    ids = [a.client.rpc.make("x") for _ in range(20)] + [b.client.rpc.make("x") for _ in range(20)]
    assert len(set(ids)) == 40
    assert ids[0].split(".")[0] != ids[20].split(".")[0]
    assert max(len(i) for i in ids) <= 12
    assert all("\x1f" not in i and "\x1e" not in i and "|" not in i for i in ids)


def test_make_error_answers():
    link = open_link()
    cases = (
        ("P|E|NO_RPC_PROVIDER|add|%s+", "NO_RPC_PROVIDER"),
        ("P|E|Soops something|add|%s+", "oops something"),  # 7.0.2: provider text typed
        ("P|E|ACCEPT_TIMEOUT|add|%s+", "ACK_TIMEOUT"),  # 7.0.2's name, v3's code
        ("P|E|RESPONSE_TIMEOUT|add|%s+", "RESPONSE_TIMEOUT"),
        ("P|E|plain|add|%s+", "plain"),  # v3 forwards the text bare
        ("P|E|MESSAGE_DENIED|add|REQ|%s+", "MESSAGE_DENIED"),
    )
    for message, expected in cases:
        cid, got = make(link)
        link.receive(message % cid)
        assert got == [(expected, None)], (message, got)
    assert link.errors == []


def test_ack_timeout_then_late_reply_is_unsolicited():
    link = open_link(rpc_ack_timeout=100, rpc_response_timeout=1000)
    cid, got = make(link)
    link.advance(99)
    assert got == []
    link.advance(1)
    assert got == [("ACK_TIMEOUT", None)]
    link.receive("P|RES|add|%s|N3+" % cid)
    assert got == [("ACK_TIMEOUT", None)]  # never answered twice
    assert link.errors == [("UNSOLICITED_MESSAGE",
                            "no pending RPC for this correlation id: P|RES|add|%s|N3" % cid, "P")]
    link.advance(2000)
    assert len(got) == 1


def test_response_timeout():
    link = open_link(rpc_ack_timeout=100, rpc_response_timeout=300)
    cid, got = make(link)
    link.receive("P|A|REQ|add|%s+" % cid)
    link.advance(299)
    assert got == []
    link.advance(1)
    assert got == [("RESPONSE_TIMEOUT", None)]
    assert link.errors == []


def test_timers_are_per_call_not_per_name():
    link = open_link(rpc_ack_timeout=100, rpc_response_timeout=1000)
    cid1, got1 = make(link)
    link.advance(50)
    cid2, got2 = make(link)
    link.receive("P|A|REQ|add|%s+" % cid1)
    link.advance(60)  # cid1 accepted, cid2 not yet due
    assert got1 == [] and got2 == []
    link.advance(50)
    assert got2 == [("ACK_TIMEOUT", None)] and got1 == []
    link.receive("P|RES|add|%s|N1+" % cid1)
    assert got1 == [(None, 1)]


def test_unknown_correlation_ids_leave_pending_calls_alone():
    link = open_link()
    cid, got = make(link)
    link.receive("P|RES|add|bogus|N1+")
    link.receive("P|A|REQ|add|bogus+")
    link.receive("P|E|NO_RPC_PROVIDER|add|bogus+")
    assert [e[0] for e in link.errors] == ["UNSOLICITED_MESSAGE"] * 3
    assert got == []
    link.receive("P|RES|add|%s|N1+" % cid)
    assert got == [(None, 1)]


def test_reply_with_missing_parts():
    link = open_link()
    cid, got = make(link)
    link.receive("P|RES|add+")
    link.receive("P|A|REQ|add+")
    link.receive("P|A+")
    assert [e[0] for e in link.errors] == ["MESSAGE_PARSE_ERROR"] * 3
    assert got == []


def test_bad_result_data_ends_the_call_with_an_error():
    link = open_link()
    cid, got = make(link)
    link.receive("P|RES|add|%s|O{bad+" % cid)
    assert got == [("MESSAGE_PARSE_ERROR", None)]
    assert [e[0] for e in link.errors] == ["MESSAGE_PARSE_ERROR"]


def test_provider_side_errors_do_not_end_our_calls():
    link = open_link()
    cid, got = make(link)
    link.receive("P|E|MULTIPLE_ACCEPT|add|%s+" % cid)
    link.receive("P|E|INVALID_RPC_CORRELATION_ID|add|zz+")
    assert got == []
    assert [e[0] for e in link.errors] == ["MULTIPLE_ACCEPT", "INVALID_RPC_CORRELATION_ID"]


def test_unsendable_data_refused():
    link = open_link()
    try:
        link.client.rpc.make("add", {1, 2}, lambda e, r: None)
    except TypeError:
        pass
    else:
        raise AssertionError("a set was accepted")
    assert link.sent() == []


def test_calls_made_offline_time_out_offline_and_are_never_sent():
    link = FakeLink(rpc_ack_timeout=100, rpc_response_timeout=1000)
    link.open()
    cid, got = make(link)
    link.advance(99)
    assert got == []
    link.advance(1)
    assert got == [("ACK_TIMEOUT", None)]  # the link never came: the caller is told in time
    link.login()
    assert "P|REQ" not in "".join(link.sent())  # and the dead request does not go out late


def test_call_made_offline_goes_out_at_login_within_its_deadline():
    link = FakeLink(rpc_ack_timeout=100, rpc_response_timeout=1000)
    link.open()
    cid, got = make(link)
    link.advance(50)
    link.login()
    assert link.sent()[-1] == "P|REQ|add|%s|L+" % cid
    link.receive("P|A|REQ|add|%s+" % cid)
    link.receive("P|RES|add|%s|N3+" % cid)
    assert got == [(None, 3)]


def test_call_in_flight_survives_a_reconnect_as_a_timeout():
    link = open_link(rpc_ack_timeout=100, rpc_response_timeout=1000)
    calls = provider(link, "p")
    cid, got = make(link)
    link.sent()
    link.drop()
    link.advance(0)
    link.open()
    link.receive("A|A+")
    assert link.sent() == ["A|REQ|{\"username\":\"test\"}+", "P|S|p+"]
    link.advance(100)
    assert got == [("ACK_TIMEOUT", None)]
    assert calls == []


def test_close_ends_pending_calls():
    link = open_link()
    cid, got = make(link)
    link.client.close()
    assert got == [("IS_CLOSED", None)]


def test_pending_rpc_limit_refuses_without_sending():
    from deepstream.testing import FakeLink
    link = FakeLink(max_pending_rpcs=2)
    link.open()
    link.login()
    link.sent()
    got = []
    for _ in range(3):
        link.client.rpc.make("slow", 1, lambda err, res: got.append(err))
    assert len(link.sent()[0].split("+")) == 3  # two requests (and the empty tail)
    assert got == ["TOO_MANY_PENDING"]
    assert link.errors[-1][0] == "TOO_MANY_PENDING"


# ---- the hot path: replies to our calls are read in place (rpc_call.receive) ----

def test_replies_among_other_messages_in_one_frame_are_each_handled():
    link = open_link()
    seen = []
    link.client.event.subscribe("t", seen.append)
    link.receive("E|A|S|t+")
    cid1, got1 = make(link)
    cid2, got2 = make(link)
    cid3, got3 = make(link)
    link.receive("P|A|REQ|add|%s+E|EVT|t|N5+P|RES|add|%s|N1+P|A|REQ|add|%s+P|RES|add|%s|Sx|extra+"
                 "P|RES|add|%s|+" % (cid1, cid1, cid2, cid2, cid3))
    assert got1 == [(None, 1)]
    assert got2 == [(None, "x")]  # a field after the result is ignored, as the general path does
    assert got3 == [(None, None)]  # an empty result field: no value
    assert seen == [5] and link.errors == []


def test_an_accept_with_a_field_after_the_id_still_accepts():
    link = open_link(rpc_ack_timeout=100, rpc_response_timeout=1000)
    cid, got = make(link)
    link.receive("P|A|REQ|add|%s|extra+" % cid)
    link.advance(500)  # past the accept deadline: accepted, so no ACK_TIMEOUT
    assert got == [] and link.errors == []
    link.receive("P|RES|add|%s|N2+" % cid)
    assert got == [(None, 2)]


def test_an_accept_moves_the_call_to_its_response_deadline():
    link = open_link(rpc_ack_timeout=100, rpc_response_timeout=300)
    cid, got = make(link)
    link.advance(50)
    link.receive("P|A|REQ|add|%s+" % cid)
    link.receive("P|A|REQ|add|%s+" % cid)  # a second accept changes nothing
    link.advance(249)
    assert got == []
    link.advance(1)  # 300 ms after make(), not after the accept
    assert got == [("RESPONSE_TIMEOUT", None)]


def test_an_accept_with_no_response_deadline_leaves_no_timer():
    link = open_link(rpc_ack_timeout=100, rpc_response_timeout=0)
    cid, got = make(link)
    link.receive("P|A|REQ|add|%s+" % cid)
    assert not link.conn.timers.has(cid)
    link.advance(60000)
    assert got == []


def test_the_accept_and_response_of_a_call_are_read_in_place():
    import gc
    if not hasattr(gc, "mem_alloc"):
        # CPython frees by reference counting and keeps no total of bytes allocated to read
        import pytest
        pytest.skip("MicroPython only: gc.mem_alloc() with the collector off counts every allocation")
    link = open_link()
    receive = link.conn.receive_text
    got = []

    def done(error, result):
        got.append(result)
    spent = []
    for i in range(5):
        cid = link.client.rpc.make("bench/rpc", i, done)
        link.sent()
        accept = "P\x1fA\x1fREQ\x1fbench/rpc\x1f%s\x1e" % cid
        response = "P\x1fRES\x1fbench/rpc\x1f%s\x1fSok\x1e" % cid
        gc.collect()
        gc.disable()
        try:
            before = gc.mem_alloc()
            receive(accept)
            receive(response)
            spent.append(gc.mem_alloc() - before)
        finally:
            gc.enable()
    assert got == ["ok"] * 5
    # 32 bytes on the 64-bit unix port: the value's string, nothing else (the latest
    # call's id is compared in place, not sliced out: 224 bytes when it was); ~1,000
    # through the general path (each reply split into a list of fields, then
    # dispatched by topic and action)
    assert max(spent[1:]) <= 96, spent


def test_replies_to_an_earlier_call_than_the_latest_are_matched():
    link = open_link()
    first, got_first = make(link, "a", 1)
    second, got_second = make(link, "b", 2)
    link.receive("P|A|REQ|a|%s+" % first)
    link.receive("P|A|REQ|b|%s+" % second)
    link.receive("P|RES|a|%s|S1+" % first)
    assert got_first == [(None, "1")] and got_second == []
    link.receive("P|RES|b|%s|S2+" % second)
    assert got_second == [(None, "2")]
    link.receive("P|RES|b|%s|S2+" % second)  # a second answer: that call is over
    assert got_second == [(None, "2")]
    assert [e[0] for e in link.errors] == ["UNSOLICITED_MESSAGE"]
    link.advance(60000)
    assert got_first == [(None, "1")] and got_second == [(None, "2")]
