"""Our own steps, beyond the client-spec vocabulary."""
import json

from behave import step, use_step_matcher

from support.harness import (
    RE_MATCHER,
    SERVER_SEND_WAIT, after_client_action, frame_matches, describe_errors, errors, mark_errors_seen, pass_time,
    require_client, to_notation, unseen_errors,
)

use_step_matcher(RE_MATCHER)


# ---- server side -----------------------------------------------------------

@step(r"^the server sends an empty frame$")
def server_sends_empty_frame(context):
    context.server.send("")
    pass_time(context, SERVER_SEND_WAIT)


@step(r"^the server closes the connection$")
def server_closes_connection(context):
    """Close every client socket but keep listening (unlike `is lost`)."""
    context.server.close_connections()
    pass_time(context, SERVER_SEND_WAIT)


@step(r"^the last frame the server received is (.*)$")
def last_frame_is(context, text):
    """Exact websocket frame: checks how messages were packed into frames."""
    frames = context.server.frames_snapshot()
    last = frames[-1] if frames else None
    assert frame_matches(context, text, last), (
        f"last frame {to_notation(last)!r}, expected {text!r}; "
        f"all frames: {[to_notation(f) for f in frames]}")


@step(r"^the server has received (\d+) frames?$")
def server_frame_count(context, n):
    frames = context.server.frames_snapshot()
    assert len(frames) == int(n), (
        f"received {len(frames)} frames, expected {n}: {[to_notation(f) for f in frames]}")


@step(r'^the remembered correlation id is "([^"]*)"$')
def remembered_uid(context, uid):
    """What `<UID>` in a server message stands for now (the last id a `<UID>` matched)."""
    assert context.uid == uid, f"remembered correlation id {context.uid!r}, expected {uid!r}"


# ---- client side -------------------------------------------------------------

@step(r"^the client closes the connection$")
def client_closes(context):
    require_client(context).call("close")
    after_client_action(context)


@step(r"^the last login returned the client data (.*)$")
def last_login_client_data(context, text):
    calls = context.recorder.calls("login")
    assert calls, "the login callback was not called"
    args = calls[-1]
    assert args[0] is True, f"login callback got {args}, expected success"
    expected = json.loads(text)
    assert args[1] == expected, f"client data {args[1]!r}, expected {expected!r}"


@step(r"^the login callback was told failure without data$")
def login_failed_without_data(context):
    calls = context.recorder.calls("login")
    assert calls, "the login callback was not called"
    args = calls[-1]
    assert args[0] is False and (len(args) < 2 or args[1] is None), f"login callback got {args}"


@step(r'^the client throws only "(\w*)" errors$')
def client_throws_only(context, event):
    """Every error since the last check had that event name (texts vary by
    runtime, e.g. socket errors); at least one. Counts as looking at them."""
    new = unseen_errors(context)
    mark_errors_seen(context)
    assert new, f"no new error was raised, expected {event} errors"
    other = [e for e in new if len(e) < 2 or e[1] != event]
    assert not other, f"expected only {event} errors, got {describe_errors(new)}"


@step(r"^the client throws no errors$")
def client_throws_no_errors(context):
    """No error event since the last check (the scenario's end checks the same;
    this says where)."""
    new = unseen_errors(context)
    assert not new, f"expected no errors, got {describe_errors(new)}"


@step(r'^the last error was on topic "(\w*)"$')
def last_error_topic(context, topic):
    errs = errors(context)
    assert errs, "no error was raised"
    got = errs[-1][2] if len(errs[-1]) > 2 else None
    assert got == topic, f"last error on topic {got!r}, expected {topic!r}"


@step(r'^the client received (\d+) events? named "(\w*)"$')
def client_event_count(context, n, name):
    got = len(context.recorder.calls("event:" + name))
    assert got == int(n), f"the subscription callback of {name!r} was called {got} times, expected {n}"


def _listen_response(context, name, listen):
    for args in reversed(context.recorder.calls(listen)):
        if len(args) >= 3 and args[0] == name and args[1] is True:
            assert args[2] is not None, f"listen callback for {name!r} got no response object"
            return args[2]
    raise AssertionError(f"listen callback never called with ({name!r}, True)")


@step(r'^the client (accepts|rejects) the event match "([^"]*)"$')
def client_answers_event_match(context, answer, name):
    response = _listen_response(context, name, "event-listen")
    response.call("accept" if answer == "accepts" else "reject")
    after_client_action(context)


@step(r'^the listen callback got no response object for the removal of "([^"]*)"$')
def listen_removal_without_response(context, name):
    calls = [a for a in context.recorder.calls("event-listen") if a[0] == name and a[1] is False]
    assert calls, f"listen callback never called with ({name!r}, False)"
    assert all(len(a) >= 3 and a[2] is None for a in calls), f"removal calls: {calls}"


@step(r'^the client went through the connection states "([^"]*)"$')
def client_state_history(context, states):
    got = [a[0] for a in context.recorder.calls("state")]
    expected = [s.strip() for s in states.split(",")]
    assert got == expected, f"connection states {got}, expected {expected}"
