"""Server-side steps of the client-spec vocabulary (word for word)."""
from behave import step, use_step_matcher

from support.harness import RE_MATCHER, SERVER_SEND_WAIT, matcher, pass_time, server_text, show, to_notation

use_step_matcher(RE_MATCHER)

RECONNECT_WAIT_MS = 20000  # `reestablished`: how long to let the client find the server again


ARRIVAL_MS = 300  # how long a message the client sent may take to reach the server's thread


def _messages(context):
    return context.server.snapshot()


def _arrived(context, check):
    """The server's messages once check(messages) holds, or after ARRIVAL_MS
    (the client's loop keeps running meanwhile): what a client sent in its
    last turn is read by the server's thread a moment later, later still on
    a MicroPython agent that was importing a topic's code in that turn."""
    waited = 0
    while True:
        msgs = _messages(context)
        if check(msgs) or waited >= ARRIVAL_MS:
            return msgs
        pass_time(context, 20)
        waited += 20


@step(r"^the test server is ready$")
def test_server_ready(context):
    context.first_server.start()
    context.first_server.reset()
    context.server = context.first_server


@step(r"^the second test server is ready$")
def second_test_server_ready(context):
    context.second_server.start()


@step(r"^the client is on the second server$")
def client_on_second_server(context):
    context.server = context.second_server


@step(r"^the server resets its message count$")
def server_resets(context):
    context.server.reset()


CONNECT_WAIT_MS = 2000  # a connection attempt takes the client a few poll turns


@step(r"^the server sends the message (.*)$")
def server_sends(context, text):
    server = context.server
    waited = 0
    # the drivers never block while connecting: the client may still be on its way
    while (server.last_connection is None or not server.last_connection.open) and waited < CONNECT_WAIT_MS:
        pass_time(context, 10)
        waited += 10
    server.send(server_text(context, text))
    pass_time(context, SERVER_SEND_WAIT)


@step(r"^the connection to the server is lost$")
def connection_lost(context):
    """Stop the server; what it received so far is forgotten (as by the
    reference step definitions, which the published files rely on)."""
    context.server.stop()
    context.server.reset()


@step(r"^the connection to the server is reestablished$")
def connection_reestablished(context):
    server = context.server
    before = server.connect_count
    server.start()
    waited = 0
    while server.connect_count == before:
        if waited >= RECONNECT_WAIT_MS:
            raise AssertionError(f"no client connected to {server.url} within {RECONNECT_WAIT_MS} ms")
        pass_time(context, 20)
        waited += 20


@step(r"^no message was send to the server$")
def no_message_sent(context):
    last = context.server.last_message
    assert last is None, f"expected no message, the last one is {to_notation(last)!r}"


@step(r"^the server has (\d*) active connections$")
def server_active_connections(context, n):
    got = context.server.active_connections
    assert got == int(n), f"{context.server.url} has {got} active connections, expected {n}"


@step(r"^the second server has (\d*) active connections$")
def second_server_active_connections(context, n):
    got = context.second_server.active_connections
    assert got == int(n), f"{context.second_server.url} has {got} active connections, expected {n}"


@step(r"^the last message the server recieved is (.*)$")
def last_message_is(context, text):
    match = matcher(text)
    msgs = _arrived(context, lambda msgs: bool(msgs) and match(context, msgs[-1]))
    last = msgs[-1] if msgs else None
    assert match(context, last), (
        f"last message {to_notation(last)!r}, expected {text!r}; all received: {show(msgs)}")


@step(r"^the server received the message (.*)$")
def server_received(context, text):
    match = matcher(text)
    msgs = _arrived(context, lambda msgs: any(match(context, m) for m in msgs))
    assert any(match(context, m) for m in msgs), f"{text!r} not among the received {show(msgs)}"


@step(r"^the server didn't receive the message (.*)$")
def server_did_not_receive(context, text):
    msgs = _messages(context)
    match = matcher(text)
    assert not any(match(context, m) for m in msgs), f"{text!r} was received: {show(msgs)}"


@step(r"^the server has received (\d*) messages$")
def server_received_count(context, n):
    msgs = _messages(context)
    assert len(msgs) == int(n), f"received {len(msgs)} messages, expected {n}: {show(msgs)}"


@step(r"^the server did not recieve any messages$")
def server_received_nothing(context):
    msgs = _messages(context)
    assert not msgs, f"expected no messages, received {show(msgs)}"
