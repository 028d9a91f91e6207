"""Client-side steps: presence (the client-spec vocabulary word for word).

Recorder names: "presence-query" for the one shared query callback (args
[list of users] or [map user -> online]), "presence" for the one shared
subscription callback (args [user, online]).
"""
import json

from behave import step, use_step_matcher

from support.harness import RE_MATCHER, after_client_action, require_client
from support.runtime import Callback

use_step_matcher(RE_MATCHER)

QUERY = "presence-query"
NOTIFY = "presence"


def _names(text):
    return [n.strip() for n in text.split(",") if n.strip()]


def _one_query_answer(context):
    calls = context.recorder.calls(QUERY)
    assert len(calls) == 1, f"the query callback was called {len(calls)} times: {calls}"
    context.recorder.reset(QUERY)
    return calls[0][0]


@step(r"^the client queries for connected clients$")
def client_queries_all(context):
    require_client(context).call("presence.get_all", Callback(QUERY))
    after_client_action(context)


@step(r'^the client queries if "([^"]*)" are online$')
def client_queries_users(context, names):
    require_client(context).call("presence.get_all", _names(names), Callback(QUERY))
    after_client_action(context)


@step(r"^the client is notified that no clients are connected$")
def notified_none_connected(context):
    got = _one_query_answer(context)
    assert got == [], f"the query callback got {got!r}, expected []"


@step(r'^the client is notified that clients "([^"]*)" are connected$')
def notified_clients_connected(context, names):
    got = _one_query_answer(context)
    assert got == _names(names), f"the query callback got {got!r}, expected {_names(names)!r}"


@step(r"^the client is notified with '(.*)'$")
def notified_with(context, text):
    got = _one_query_answer(context)
    expected = json.loads(text)
    assert got == expected, f"the query callback got {got!r}, expected {expected!r}"


@step(r"^the client subscribes to all presence events$")
def client_subscribes_all(context):
    require_client(context).call("presence.subscribe", Callback(NOTIFY))
    after_client_action(context)


@step(r"^the client unsubscribes to all presence events$")
def client_unsubscribes_all(context):
    require_client(context).call("presence.unsubscribe")
    after_client_action(context)


@step(r'^the client subscribes to presence events for "([^"]*)"$')
def client_subscribes_users(context, names):
    client = require_client(context)
    for name in _names(names):
        client.call("presence.subscribe", name, Callback(NOTIFY))
    after_client_action(context)


@step(r'^the client unsubscribes to presence events for "([^"]*)"$')
def client_unsubscribes_users(context, names):
    client = require_client(context)
    for name in _names(names):
        client.call("presence.unsubscribe", name)
    after_client_action(context)


def _notified(context, user, online):
    calls = context.recorder.calls(NOTIFY)
    assert len(calls) == 1, f"the presence callback was called {len(calls)} times: {calls}"
    assert calls[0] == [user, online], f"the presence callback got {calls[0]}, expected {[user, online]}"
    context.recorder.reset(NOTIFY)


@step(r'^the client is notified that client "(\w*)" logged in$')
def notified_logged_in(context, user):
    _notified(context, user, True)


@step(r'^the client is notified that client "(\w*)" logged out$')
def notified_logged_out(context, user):
    _notified(context, user, False)


@step(r'^the client is not notified that client "(\w*)" logged in$')
def not_notified_logged_in(context, user):
    calls = [a for a in context.recorder.calls(NOTIFY) if a == [user, True]]
    assert not calls, f"the presence callback was called with {[user, True]}"
