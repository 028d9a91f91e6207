"""RPC, provider side: auto-ack, answers, errors, bad requests.
(Calls we make: test_rpc_make.py; split to fit a 96K MicroPython heap.)"""
from deepstream.testing import open_link
from rpc_helpers import provider


# ---- providing ---------------------------------------------------------------

def test_provide_request_auto_ack_then_answer_later():
    link = open_link()
    calls = provider(link)
    link.receive("P|REQ|add|c1|O{\"a\":1,\"b\":2}+")
    assert calls[0][0] == {"a": 1, "b": 2}
    assert link.sent() == ["P|A|REQ|add|c1+"]  # auto-ack when the callback returned
    calls[0][1].send(3)
    assert link.sent() == ["P|RES|add|c1|N3+"]
    assert link.errors == []


def test_answer_inside_callback_acks_first_once():
    link = open_link()
    link.client.rpc.provide("up", lambda data, r: r.send(data.upper()))
    link.receive("P|A|S|up+")
    link.sent()
    link.receive("P|REQ|up|c1|Sabc+")
    assert link.sent() == ["P|A|REQ|up|c1+P|RES|up|c1|SABC+"]


def test_auto_ack_off():
    link = open_link()
    kept = []

    def cb(data, response):
        response.auto_ack = False
        kept.append(response)
    link.client.rpc.provide("slow", cb)
    link.receive("P|REQ|slow|c1|N1+")
    link.sent()
    link.pump()
    assert link.sent() == []
    kept[0].ack()
    kept[0].ack()  # sent once only
    assert link.sent() == ["P|A|REQ|slow|c1+"]
    kept[0].send(None)
    assert link.sent() == ["P|RES|slow|c1|L+"]


def test_reject_and_error_need_no_ack():
    link = open_link()
    link.client.rpc.provide("r", lambda d, resp: resp.reject())
    link.client.rpc.provide("e", lambda d, resp: resp.error("went wrong"))
    link.sent()
    link.receive("P|REQ|r|c1|N1+")
    link.receive("P|REQ|e|c2|N1+")
    assert link.sent() == ["P|REJ|r|c1+", "P|E|went wrong|e|c2+"]


def test_answer_twice_raises_and_sends_nothing():
    link = open_link()
    calls = provider(link)
    link.receive("P|REQ|add|c1|N1+")
    response = calls[0][1]
    response.send(1)
    link.sent()
    for answer in (lambda: response.send(2), response.reject, lambda: response.error("x")):
        try:
            answer()
        except RuntimeError:
            continue
        raise AssertionError("second answer accepted")
    assert link.sent() == []


def test_unsendable_result_refused_before_anything_is_sent():
    link = open_link()
    calls = provider(link)
    link.receive("P|REQ|add|c1|N1+")
    link.sent()
    try:
        calls[0][1].send(object())
    except TypeError:
        pass
    else:
        raise AssertionError("object() accepted")
    calls[0][1].send("ok")  # still answerable
    assert link.sent() == ["P|RES|add|c1|Sok+"]


def test_error_text_cannot_break_the_message():
    link = open_link()
    link.client.rpc.provide("e", lambda d, resp: resp.error("a\x1fb\x1ec"))
    link.sent()
    link.receive("P|REQ|e|c1|N1+")
    assert link.sent() == ["P|E|a b c|e|c1+"]


def test_provider_that_raises_answers_with_error():
    link = open_link()

    def boom(data, response):
        raise ValueError("bad input")
    link.client.rpc.provide("boom", boom)
    link.sent()
    link.receive("P|REQ|boom|c1|N1+")
    assert link.sent() == ["P|E|ValueError: bad input|boom|c1+"]
    assert link.errors == [("CALLBACK_ERROR", "ValueError: bad input", "P")]
    link.receive("P|REQ|boom|c2|N1+")  # the client lives on
    assert link.sent() == ["P|E|ValueError: bad input|boom|c2+"]


def test_provider_that_raises_after_answering_is_not_answered_twice():
    link = open_link()

    def cb(data, response):
        response.send(1)
        raise KeyError("late")
    link.client.rpc.provide("p", cb)
    link.sent()
    link.receive("P|REQ|p|c1|N1+")
    assert link.sent() == ["P|A|REQ|p|c1+P|RES|p|c1|N1+"]
    assert [e[0] for e in link.errors] == ["CALLBACK_ERROR"]


def test_request_data_shapes():
    link = open_link()
    calls = provider(link, "p")
    link.receive("P|REQ|p|c1+")
    link.receive("P|REQ|p|c2|U+")
    link.receive("P|REQ|p|c3|L+")
    link.receive("P|REQ|p|c4|T+")
    link.receive("P|REQ|p|c5|N2.5+")
    assert [c[0] for c in calls] == [None, None, None, True, 2.5]


def test_request_for_rpc_not_provided_is_rejected_silently():
    # as the reference client (issue 21): a normal race after an unprovide, no error
    link = open_link()
    link.receive("P|REQ|nothere|c1|N1+")
    assert link.sent() == ["P|REJ|nothere|c1+"]
    assert link.errors == []


def test_request_with_missing_parts():
    link = open_link()
    provider(link, "p")
    link.receive("P|REQ|p+")
    link.receive("P|REQ+")
    assert link.sent() == []
    assert [e[0] for e in link.errors] == ["MESSAGE_PARSE_ERROR", "MESSAGE_PARSE_ERROR"]
    assert "P|REQ|p" in link.errors[0][1]


def test_request_with_bad_data_is_answered_with_an_error():
    link = open_link()
    calls = provider(link, "p")
    link.receive("P|REQ|p|c1|Xbad+")
    assert calls == []
    assert link.sent() == ["P|E|MESSAGE_PARSE_ERROR: bad request data|p|c1+"]
    assert [e[0] for e in link.errors] == ["MESSAGE_PARSE_ERROR"]


def test_unprovide():
    link = open_link()
    provider(link, "p")
    link.client.rpc.unprovide("p")
    assert link.sent() == ["P|US|p+"]
    link.receive("P|A|US|p+")
    link.client.rpc.unprovide("p")  # not provided: nothing to say
    assert link.sent() == []
    link.receive("P|REQ|p|c1|N1+")  # in flight while we unprovided
    assert link.sent() == ["P|REJ|p|c1+"]


def test_provide_twice_and_bad_arguments():
    link = open_link()
    provider(link, "p")
    for args in (("p", lambda d, r: None), ("", lambda d, r: None), ("q", None), ("a\x1fb", print)):
        try:
            link.client.rpc.provide(*args)
        except (ValueError, TypeError):
            continue
        raise AssertionError("accepted %r" % (args,))
    assert link.sent() == []
    assert link.client.rpc.provider_names() == ["p"]


def test_provide_ack_timeout_and_denied():
    link = open_link(subscription_timeout=100)
    link.client.rpc.provide("p", lambda d, r: None)
    link.advance(101)
    assert link.errors == [("ACK_TIMEOUT", "No ACK message received in time for p", "P")]
    link.client.rpc.provide("secret", lambda d, r: None)
    link.receive("P|E|MESSAGE_DENIED|secret|S|server-1+")
    link.advance(200)
    assert [e[0] for e in link.errors] == ["ACK_TIMEOUT", "MESSAGE_DENIED"]


def test_rejection_of_data_7_0_2_cannot_reroute():
    # 7.0.2 crashes rerouting a request with data 0/false/""/null/absent
    link = open_link()
    link.client.rpc.provide("r", lambda d, resp: resp.reject())
    link.sent()
    for i, field in enumerate(("|N0", "|F", "|S", "|L", "|U", "")):
        link.receive("P|REQ|r|c%d%s+" % (i, field))
    link.receive("P|REQ|other|c9|L+")  # not provided: same rule
    link.receive("P|REQ|r|c10|N0.5+")
    assert link.sent() == ["P|E|REJECTED|r|c%d+" % i for i in range(6)] + [
        "P|E|REJECTED|other|c9+", "P|REJ|r|c10+"]
