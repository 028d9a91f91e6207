"""Fresh credentials for every login (issue 21): login() with a function, its
"not now", and a refused re-login (reauthenticationFailure)."""
import json

from deepstream.testing import FakeLink


class Source:
    """A credentials function: hands out `answers` in turn (an exception is raised),
    then the last one forever; counts its calls."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _auth(frame):
    assert frame.startswith("A|REQ|") and frame.endswith("+"), frame
    return json.loads(frame[6:-1])


def _link(**options):
    options.setdefault("reconnect_jitter", 0)
    options.setdefault("reconnect_interval_increment", 1000)
    return FakeLink(**options)


def test_the_function_is_called_once_per_login_first_reconnect_failover_redirect():
    link = _link(url=["ws://a:1/ds", "ws://b:1/ds"])
    source = Source({"token": "t1"}, {"token": "t2"}, {"token": "t3"}, {"token": "t4"})
    results = []
    link.client.login(source, lambda ok, data: results.append((ok, data)))
    assert source.calls == 0  # not before the server asks for a login
    link.open()
    assert source.calls == 1 and [_auth(f) for f in link.sent()] == [{"token": "t1"}]
    link.receive("A|A+")
    assert source.calls == 1
    link.drop()  # a reconnect: the next node of the two
    link.advance(0)
    link.open()
    assert source.calls == 2 and [_auth(f) for f in link.sent()] == [{"token": "t2"}]
    assert link.opened == ["ws://a:1/ds", "ws://b:1/ds"]
    link.receive("A|A+")
    link.receive("C|RED|ws://c:1/ds+")  # a redirect: a new socket, a new login
    link.open()
    assert source.calls == 3 and [_auth(f) for f in link.sent()] == [{"token": "t3"}]
    link.receive("A|A+")
    assert results == [(True, None)] * 3
    assert link.errors == []


def test_a_login_while_the_server_waits_for_one_calls_the_function_at_once():
    link = _link()
    link.open()
    source = Source({"token": "now"})
    link.client.login(source)
    assert source.calls == 1 and [_auth(f) for f in link.sent()] == [{"token": "now"}]


def test_not_now_leaves_the_link_and_asks_again_after_the_next_reconnect_interval():
    # max_reconnect_attempts=1: waiting for credentials is no failed attempt, never given up
    link = _link(max_reconnect_attempts=1)
    seen = []
    link.client.on("connectionStateChanged", seen.append)
    source = Source(None, None, None, {"token": "late"})
    link.client.login(source)
    for n in (1, 2, 3):  # the n-th "not now" waits n x 1000 ms
        link.open()
        assert source.calls == n and link.sent() == []
        assert link.client.get_connection_state() == "RECONNECTING"
        link.advance(n * 1000 - 1)
        assert link.conn.take_open_request() is None
        link.advance(1)
    link.open()
    assert source.calls == 4 and [_auth(f) for f in link.sent()] == [{"token": "late"}]
    link.receive("A|A+")
    assert link.client.get_connection_state() == "OPEN"
    assert seen.count("RECONNECTING") == 3 and link.errors == []


def test_a_function_that_raises_is_a_callback_error_and_counts_as_not_now():
    link = _link()
    source = Source(OSError("token server unreachable"), {"token": "t"})
    link.client.login(source)
    link.open()
    assert link.errors == [("CALLBACK_ERROR", "OSError: token server unreachable", "A")]
    assert link.sent() == [] and link.client.get_connection_state() == "RECONNECTING"
    link.advance(1000)
    link.open()
    assert [_auth(f) for f in link.sent()] == [{"token": "t"}]


def test_a_function_returning_no_dict_is_invalid_auth_msg_and_not_now():
    link = _link()
    link.client.login(Source("t0ken"))
    link.open()
    assert link.errors == [("INVALID_AUTH_MSG", "authParams is not an object", "X")]
    assert link.sent() == [] and link.client.get_connection_state() == "RECONNECTING"


def test_a_refused_relogin_raises_reauthentication_failure_as_well():
    link = _link()
    results = []
    link.client.login({"username": "dev1", "password": "old"}, lambda ok, data: results.append((ok, data)))
    link.open()
    link.receive("A|A+")
    link.drop()
    link.advance(0)
    link.open()
    link.receive("A|E|INVALID_AUTH_DATA|Spassword changed+")
    assert link.errors == [("reauthenticationFailure", "password changed", "A")]
    assert results == [(True, None), (False, "password changed")]
    assert link.client.get_connection_state() == "AWAITING_AUTHENTICATION"
    link.client.login({"username": "dev1", "password": "new"})  # the application answers it
    link.receive("A|E|INVALID_AUTH_DATA|U+")  # 7.0.2's refusal carries no reason: its code is the text
    assert link.errors[-1] == ("reauthenticationFailure", "INVALID_AUTH_DATA", "A")


def test_a_refused_login_on_the_first_link_is_the_callbacks_alone():
    link = _link()
    results = []
    link.client.login({"username": "dev1"}, lambda ok, data: results.append((ok, data)))
    link.open()
    link.receive("A|E|INVALID_AUTH_DATA|Sinvalid user+")
    assert results == [(False, "invalid user")] and link.errors == []


def test_login_async_takes_a_function_too():
    import asyncio
    link = _link()
    link.open()
    source = Source({"token": "t"})

    async def main():
        task = asyncio.create_task(link.client.login_async(source))
        for _ in range(3):
            await asyncio.sleep(0)
        link.receive("A|A|O{\"role\":\"x\"}+")
        return await task
    assert asyncio.run(main()) == {"role": "x"}
    assert source.calls == 1 and link.errors == []
