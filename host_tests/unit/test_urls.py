"""Several server URLs (cluster nodes): which node the connection asks for,
when it moves on, and that the state is restored on the new node. Driven
through deepstream.testing.FakeLink (CPython and MicroPython)."""
from deepstream.testing import FakeLink

A = "ws://a:6020/deepstream-v3"
B = "ws://b:6020/deepstream-v3"
C = "ws://c:6020/deepstream-v3"


def take(link):
    url = link.conn.take_open_request()
    link.opened.append(url)
    return url


def connect(link, accept=True):
    """The driver's part: the socket the core asked for is open."""
    link.conn.socket_opened()
    if accept:
        link.receive("C|A+")


def test_list_is_normalized_and_the_first_node_is_asked_for():
    link = FakeLink(["a:6020", "ws://b:6020/x", "wss://c/"])
    assert take(link) == "ws://a:6020/deepstream"
    assert link.conn.url == "ws://a:6020/deepstream"
    for bad in ([], ["a:1", "http://b"], ["a:1", ""], ()):
        try:
            FakeLink(bad)
        except ValueError:
            continue
        raise AssertionError("accepted %r" % (bad,))


def test_single_url_keeps_no_list():
    # memory: a client with one url carries no url list at all
    link = FakeLink(A)
    assert link.conn._urls is None
    link.open()
    link.drop()
    link.advance(0)
    assert take(link) == A


def test_lost_link_moves_to_the_next_node_and_cycles_with_backoff():
    link = FakeLink([A, B, C], reconnect_interval_increment=1000, reconnect_jitter=0,
                    max_reconnect_attempts=10)
    assert take(link) == A
    connect(link)
    link.login()
    link.drop()  # node A dies: the first retry goes to B at once
    link.advance(0)
    assert take(link) == B
    assert link.client.get_url() == B
    link.drop()  # B refuses: C after one back-off step
    link.advance(999)
    assert link.conn.take_open_request() is None
    link.advance(1)
    assert take(link) == C
    link.drop()  # C refuses too: round the list, back to A after two steps
    link.advance(1999)
    assert link.conn.take_open_request() is None
    link.advance(1)
    assert take(link) == A
    connect(link)  # an open socket resets the back-off: the next loss retries at once
    link.login()
    link.drop()
    link.advance(0)
    assert take(link) == B


def test_unreachable_first_node_costs_one_attempt_not_a_backoff():
    link = FakeLink([A, B], reconnect_interval_increment=4000)
    assert take(link) == A
    link.conn.socket_error("cannot connect to %s: ECONNREFUSED" % A)
    link.drop()
    link.advance(0)  # no waiting: straight to the second node
    assert take(link) == B
    assert link.client.get_connection_state() == "RECONNECTING"


def test_challenge_is_answered_with_the_node_in_use():
    link = FakeLink([A, B])
    take(link)
    connect(link)
    link.drop()
    link.advance(0)
    assert take(link) == B
    connect(link, accept=False)
    link.receive("C|CH+")
    assert link.sent() == ["C|CHR|%s+" % B]


def test_redirect_still_works_and_is_forgotten_on_reconnect():
    link = FakeLink([A, B])
    take(link)
    connect(link, accept=False)
    link.receive("C|RED|ws://elsewhere:1/deepstream+")
    assert take(link) == "ws://elsewhere:1/deepstream"
    connect(link)
    link.login()
    link.drop()
    link.advance(0)
    assert take(link) == B  # the list goes on; the redirect target is not kept


def test_random_first_node_spreads_a_fleet():
    firsts = set()
    for _ in range(40):
        link = FakeLink([A, B, C], random_first_node=True)
        first = take(link)
        firsts.add(first)
        order = [first]
        for _ in range(2):  # the order stays a rotation of the list
            link.drop()
            link.advance(100000)
            order.append(take(link))
        i = [A, B, C].index(first)
        assert order == ([A, B, C] * 2)[i:i + 3], order
    assert firsts == {A, B, C}
    for _ in range(10):
        assert take(FakeLink([A, B, C])) == A  # off by default


def test_failover_restores_login_and_subscriptions_on_the_new_node():
    link = FakeLink([A, B], reconnect_jitter=0)
    link.client.event.subscribe("news", lambda d: None)
    link.client.rpc.provide("calc", lambda data, response: response.send(1))
    take(link)
    connect(link)
    link.login({"username": "dev"})
    link.sent()
    link.drop()
    link.client.event.emit("news", 1)  # emitted while between nodes: queued
    link.advance(0)
    assert take(link) == B
    connect(link)
    assert link.sent() == ['A|REQ|{"username":"dev"}+']  # credentials re-sent to B
    link.receive("A|A+")
    sent = "".join(link.sent())
    for msg in ("E|S|news+", "P|S|calc+", "E|EVT|news|N1+"):
        assert msg in sent, sent
