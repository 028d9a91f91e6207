"""Client-side steps of the vocabulary: events (word for word).

Recorder names: "event:<name>" for each subscription callback (args [data]),
"event-listen" for the one shared listen callback
(args [name, is_subscribed, response handle or None]).
"""
from behave import step, use_step_matcher

from support.harness import RE_MATCHER, after_client_action, require_client
from support.runtime import Callback

use_step_matcher(RE_MATCHER)

EVENT_PREFIX = "event:"
EVENT_LISTEN = "event-listen"


@step(r'^the client publishes an event named "(\w*)" with data "(\w*)"$')
def client_publishes(context, name, data):
    require_client(context).call("event.emit", name, data)
    after_client_action(context)


@step(r'^the client subscribes to an event named "(\w*)"$')
def client_subscribes(context, name):
    require_client(context).call("event.subscribe", name, Callback(EVENT_PREFIX + name))
    after_client_action(context)


@step(r'^the client unsubscribes from an event named "(\w*)"$')
def client_unsubscribes(context, name):
    require_client(context).call("event.unsubscribe", name)
    after_client_action(context)


@step(r'^the client received the event "(\w*)" with data "(\w*)"$')
def client_received_event(context, name, data):
    last = context.recorder.last(EVENT_PREFIX)
    assert last is not None, "no subscription callback was called"
    got_name, args = last[0][len(EVENT_PREFIX):], last[1]
    got_data = args[0] if args else None
    assert (got_name, got_data) == (name, data), (
        f"last event {got_name!r} with data {got_data!r}, expected {name!r} with {data!r}")


@step(r'^the client listens to events matching "([^"]*)"$')
def client_listens(context, pattern):
    require_client(context).call("event.listen", pattern, Callback(EVENT_LISTEN))
    after_client_action(context)


@step(r'^the client unlistens to events matching "([^"]*)"$')
def client_unlistens(context, pattern):
    require_client(context).call("event.unlisten", pattern)
    after_client_action(context)


def listen_calls(context, name, is_subscribed, listen=EVENT_LISTEN):
    return [a for a in context.recorder.calls(listen)
            if len(a) >= 2 and a[0] == name and a[1] is is_subscribed]


@step(r'^the client will be notified of new event match "([^"]*)"$')
def notified_event_match(context, name):
    assert listen_calls(context, name, True), (
        f"listen callback not called with ({name!r}, True); calls: {context.recorder.calls(EVENT_LISTEN)}")


@step(r'^the client will be notified of event match removal "([^"]*)"$')
def notified_event_match_removal(context, name):
    assert listen_calls(context, name, False), (
        f"listen callback not called with ({name!r}, False); calls: {context.recorder.calls(EVENT_LISTEN)}")
