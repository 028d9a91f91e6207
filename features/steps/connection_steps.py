"""Client-side steps of the vocabulary: connection and login (word for word)."""
from behave import step, use_step_matcher

from support.harness import (
    RE_MATCHER,
    CLIENT_OPTIONS, SMALL_HEARTBEAT_OPTIONS, SOME_TIME, TWO_SECONDS, after_client_action,
    describe_errors, errors, mark_errors_seen, pass_time, require_client, start_client, with_urls,
)
from support.runtime import Callback

use_step_matcher(RE_MATCHER)


@step(r"^the client is initialised$")
def client_initialised(context):
    start_client(context, CLIENT_OPTIONS)


@step(r"^the client is initialised with a small heartbeat interval$")
def client_initialised_small_heartbeat(context):
    start_client(context, SMALL_HEARTBEAT_OPTIONS)


@step(r"^some time passes$")
def some_time_passes(context):
    pass_time(context, SOME_TIME)


@step(r"^two seconds later$")
def two_seconds_later(context):
    pass_time(context, TWO_SECONDS)


@step(r'^the client logs in with username "(\w*)" and password "(\w*)"$')
def client_logs_in(context, username, password):
    require_client(context).call("login", {"username": username, "password": password}, Callback("login"))
    after_client_action(context)


def last_login(context):
    calls = context.recorder.calls("login")
    assert calls, "the login callback was not called"
    return calls[-1]


@step(r"^the last login was successful$")
def last_login_successful(context):
    args = last_login(context)
    assert args and args[0] is True, f"login callback got {args}, expected success"


@step(r'^the last login failed with error message "(.*)"$')
def last_login_failed(context, message):
    mark_errors_seen(context)
    args = last_login(context)
    assert args and args[0] is False, f"login callback got {args}, expected failure"
    got = args[1] if len(args) > 1 else None
    assert got == message, f"login failed with {got!r}, expected {message!r}"


@step(r'^the clients connection state is "(\w*)"$')
def connection_state_is(context, state):
    got = require_client(context).call("get_connection_state")
    assert got == state, (f"connection state {got!r}, expected {state!r} "
                          f"(changes: {[a[0] for a in context.recorder.calls('state')]})")


@step(r'^the client throws a "(\w*)" error with message "(.*)"$')
def client_throws(context, event, message):
    message = with_urls(message)
    errs = errors(context)
    mark_errors_seen(context)
    assert errs, f"no error was raised, expected {event}: {message!r}"
    last = errs[-1]
    got_msg = last[0] if last else None
    got_event = last[1] if len(last) > 1 else None
    assert (got_event, got_msg) == (event, message), (
        f"last error is {got_event}: {got_msg!r}, expected {event}: {message!r}; "
        f"all errors: {describe_errors(errs)}")
