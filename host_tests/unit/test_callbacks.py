"""No user callback can break the client: in every slot where user code runs, an
exception becomes a CALLBACK_ERROR error event ("<Type>: <text>") and the client
goes on as if the callback had returned (client._call). Runs on CPython (pytest)
and MicroPython (tools/mptest.py)."""
from deepstream.testing import FakeLink, open_link
from callback_helpers import Boom, callback_errors, only_callback_errors


# ---- connection: state listeners, login callback ------------------------------------------------

def test_state_listener_raising_on_drop_does_not_escape_and_restore_runs():
    """FakeLink.drop() reproduced the escape: socket_closed -> RECONNECTING -> the
    listener's exception went up into the driver; the restore must still happen."""
    link = open_link(reconnect_jitter=0)
    got = []
    link.client.event.subscribe("news", got.append)
    link.receive("E|A|S|news+")
    link.sent()
    boom = Boom()
    link.client.on("connectionStateChanged", boom)
    link.drop()  # no exception here
    assert link.client.get_connection_state() == "RECONNECTING"
    link.advance(1)
    link.open()
    link.login()
    assert link.client.get_connection_state() == "OPEN"
    assert link.sent()[1:] == ["E|S|news+"]  # after A|REQ: the restore after the reconnect ran
    link.receive("E|EVT|news|S1+")
    assert got == ["1"]
    assert [c[0] for c in boom.calls] == ["RECONNECTING", "AWAITING_CONNECTION", "AWAITING_AUTHENTICATION",
                                          "AUTHENTICATING", "OPEN"]
    only_callback_errors(link, "C", 5)


def test_state_listener_raising_on_open_keeps_the_queued_messages_order():
    link = FakeLink()
    link.client.on("connectionStateChanged", Boom())
    link.client.event.emit("before", 1)
    link.open()
    link.login()
    assert link.sent()[1:] == ["E|EVT|before|N1+"]
    assert link.client.get_connection_state() == "OPEN"


def test_login_callback_raising():
    link = FakeLink()
    link.open()
    boom = Boom()
    link.client.login({"username": "u"}, boom)
    link.receive("A|A+")
    assert boom.calls == [(True, None)]
    assert link.client.get_connection_state() == "OPEN"
    only_callback_errors(link, "A")
    link.client.event.emit("x", 1)
    assert link.sent()[-1] == "E|EVT|x|N1+"


# ---- the error listeners themselves ------------------------------------------------------------

def test_error_listener_raising_is_not_reentered():
    link = open_link()
    boom = Boom()
    link.client.on("error", boom)
    link.receive("E|EVT|+")  # an event message without a name: MESSAGE_PARSE_ERROR
    assert len(boom.calls) == 1 and boom.calls[0][1] == "MESSAGE_PARSE_ERROR"
    # FakeLink's own listener (registered first) saw the error; nobody saw the listener's
    # CALLBACK_ERROR: it is kept in last_error (and printed)
    assert [e[0] for e in link.errors] == ["MESSAGE_PARSE_ERROR"]
    assert link.client.last_error == ("ValueError: boom 1", "CALLBACK_ERROR", "E")
    link.receive("E|EVT|+")  # the next error reaches it again, once
    assert len(boom.calls) == 2


def test_error_code_listener_raising():
    link = open_link()
    boom = Boom()
    link.client.on("UNSOLICITED_MESSAGE", boom)
    link.receive("E|SP|nobody|x+")
    assert boom.calls == [("E", "nobody")]
    assert [e[0] for e in link.errors] == ["UNSOLICITED_MESSAGE"]
    assert link.client.last_error[1] == "CALLBACK_ERROR"


def test_callback_error_with_an_unprintable_exception():
    class Weird(Exception):
        def __str__(self):
            raise RuntimeError("no text")
    link = open_link()
    link.client.event.subscribe("news", Boom(Weird))
    link.client.event.emit("news", 1)
    assert link.errors == [("CALLBACK_ERROR", "Weird", "E")]


def test_keyboard_interrupt_still_ends_the_program():
    link = open_link()
    link.client.event.subscribe("news", Boom(KeyboardInterrupt))
    try:
        link.receive("E|EVT|news|N1+")
    except KeyboardInterrupt:
        return
    raise AssertionError("KeyboardInterrupt was swallowed")


# ---- events and listening --------------------------------------------------------------------

def test_event_callbacks_raising_local_and_remote():
    link = open_link()
    got = []
    link.client.event.subscribe("news", Boom())
    link.client.event.subscribe("news", got.append)
    link.client.event.emit("news", 1)  # local subscribers: emit does not raise
    link.receive("E|EVT|news|N2+")
    assert got == [1, 2]
    assert len(callback_errors(link)) == 2 and link.errors[0] == ("CALLBACK_ERROR", "ValueError: boom 1", "E")


def test_listen_callback_raising():
    link = open_link()
    boom = Boom()
    link.client.event.listen("news/.*", boom)
    link.receive("E|A|L|news/.*+")
    link.receive("E|SP|news/.*|news/a+")
    link.receive("E|SR|news/.*|news/a+")
    assert [c[:2] for c in boom.calls] == [("news/a", True), ("news/a", False)]
    only_callback_errors(link, "E", 2)
    boom.calls[0][2].accept()  # the response still works after the raise
    assert link.sent()[-1] == "E|LA|news/.*|news/a+"


# ---- RPC -----------------------------------------------------------------------------------------

def test_rpc_make_callbacks_raising_on_answer_timeout_and_close():
    link = open_link(rpc_ack_timeout=100, rpc_response_timeout=300)
    boom = Boom()
    cid = link.client.rpc.make("add", 1, boom)
    link.receive("P|A|REQ|add|%s+" % cid)
    link.receive("P|RES|add|%s|N2+" % cid)
    link.client.rpc.make("slow", 1, boom)
    link.advance(150)  # ACK_TIMEOUT from a timer: used to escape out of tick()
    link.client.rpc.make("never", 1, boom)
    link.client.close()  # IS_CLOSED
    assert [c[0] for c in boom.calls] == [None, "ACK_TIMEOUT", "IS_CLOSED"]
    assert link.client.get_connection_state() == "CLOSED"
    only_callback_errors(link, "P", 3)


def test_rpc_provider_raising_answers_the_caller():
    link = open_link()
    link.client.rpc.provide("p", Boom())
    link.receive("P|A|S|p+")
    link.sent()
    link.receive("P|REQ|p|c1|N1+")
    assert link.sent() == ["P|E|ValueError: boom 1|p|c1+"]
    only_callback_errors(link, "P")


# ---- presence -----------------------------------------------------------------------------------

def test_presence_callbacks_raising():
    link = open_link()
    boom, got = Boom(), []
    link.client.presence.subscribe(boom)
    link.client.presence.subscribe("alice", boom)
    link.client.presence.subscribe("alice", lambda name, online: got.append((name, online)))
    link.client.presence.get_all(boom)
    link.client.presence.get_all(["alice"], boom)
    qid = [m for m in link.sent()[0].split("+") if m.startswith('U|Q|') and m.endswith(']')][0].split("|")[2]
    link.receive("U|PNJ|alice+")
    link.receive("U|Q|alice|bob+")
    link.receive('U|Q|%s|{"alice":true}+' % qid)
    assert got == [("alice", True)]
    assert [c[0] for c in boom.calls] == ["alice", "alice", ["alice", "bob"], {"alice": True}]
    only_callback_errors(link, "U", 4)


# ---- awaitables ---------------------------------------------------------------------------------

def test_awaitable_resolution_that_raises():
    """The awaitables resolve through the same callback slots: a Waiter that cannot
    wake its task (a broken event loop, simulated) is reported, the client goes on.
    Here the answer comes from a timer (ACK_TIMEOUT), which used to escape tick()."""
    import asyncio
    from deepstream import awaitable

    made = []

    class BrokenWaiter(awaitable.Waiter):
        def __init__(self):
            super().__init__()
            made.append(self)

        def fail(self, error):
            self.done = True
            raise RuntimeError("event loop is closed")

    link = open_link(rpc_ack_timeout=100)

    async def main():
        task = asyncio.create_task(link.client.rpc.make_async("add", 1))
        for _ in range(3):
            await asyncio.sleep(0)
        assert len(link.sent()) == 1
        link.advance(150)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    real = awaitable.Waiter
    awaitable.Waiter = BrokenWaiter
    try:
        asyncio.run(main())
    finally:
        awaitable.Waiter = real
    assert made and made[0].done
    assert link.errors == [("CALLBACK_ERROR", "RuntimeError: event loop is closed", "P")]
    link.client.event.emit("x", 1)
    assert link.sent() == ["E|EVT|x|N1+"]
