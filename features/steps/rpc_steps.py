"""Client-side steps: RPC (the client-spec vocabulary word for word, then ours).

Recorder names: "rpc-provider:<name>" for the provider callback of an RPC
(args [data, response handle]), "rpc-result:<name>" for the result callback
of the latest request of an RPC (args [error, result]).
"""
import json

from behave import step, use_step_matcher

from support.harness import RE_MATCHER, after_client_action, require_client
from support.runtime import Callback

use_step_matcher(RE_MATCHER)

PROVIDER = "rpc-provider:"
RESULT = "rpc-result:"


def _response(context, name):
    responses = getattr(context, "rpc_responses", None) or {}
    response = responses.get(name)
    assert response is not None, f"no request for RPC {name!r} was received (no response object kept)"
    return response


# ---- the client-spec vocabulary ------------------------------------------------

@step(r'^the client requests RPC "(\w*)" with data "(\w*)"$')
def client_requests_rpc(context, name, data):
    context.recorder.reset(RESULT + name)  # a fresh result callback
    require_client(context).call("rpc.make", name, data, Callback(RESULT + name))
    after_client_action(context)


@step(r'^the client provides a RPC called "(\w*)"$')
def client_provides_rpc(context, name):
    context.recorder.reset(PROVIDER + name)  # a fresh provider callback
    require_client(context).call("rpc.provide", name, Callback(PROVIDER + name))
    after_client_action(context)


@step(r'^the client stops providing a RPC called "(\w*)"$')
def client_unprovides_rpc(context, name):
    require_client(context).call("rpc.unprovide", name)
    after_client_action(context)


@step(r'^the client recieves a request for a RPC called "(\w*)" with data "(\w*)"$')
def client_receives_request(context, name, data):
    calls = context.recorder.calls(PROVIDER + name)
    assert len(calls) == 1, f"the provider callback of {name!r} was called {len(calls)} times: {calls}"
    got, response = calls[0][0], calls[0][1]
    assert got == data, f"the provider of {name!r} got {got!r}, expected {data!r}"
    if getattr(context, "rpc_responses", None) is None:
        context.rpc_responses = {}
    context.rpc_responses[name] = response
    context.recorder.reset(PROVIDER + name)


@step(r'^the client responds to the RPC "(\w*)" with data "(\w*)"$')
def client_responds(context, name, data):
    _response(context, name).call("send", data)
    after_client_action(context)


@step(r'^the client responds to the RPC "(\w*)" with the error "([^"]*)"$')
def client_responds_error(context, name, message):
    _response(context, name).call("error", message)
    after_client_action(context)


@step(r'^the client rejects the RPC "(\w*)"$')
def client_rejects(context, name):
    _response(context, name).call("reject")
    after_client_action(context)


def _results(context, name):
    return context.recorder.calls(RESULT + name)


@step(r'^the client recieves a successful RPC callback for "(\w*)" with data "(\w*)"$')
def client_rpc_success(context, name, data):
    calls = _results(context, name)
    assert len(calls) == 1, f"the result callback of {name!r} was called {len(calls)} times: {calls}"
    assert calls[0][:2] == [None, data], f"the result callback of {name!r} got {calls[0]}, expected [None, {data!r}]"


@step(r'^the client recieves an error RPC callback for "(\w*)" with the message "([^"]*)"$')
def client_rpc_error(context, name, message):
    calls = _results(context, name)
    assert len(calls) == 1, f"the result callback of {name!r} was called {len(calls)} times: {calls}"
    assert calls[0][0] == message, f"the result callback of {name!r} got error {calls[0][0]!r}, expected {message!r}"


# ---- ours ------------------------------------------------------------------

@step(r'^the client recieves (\d+) RPC callbacks? for "(\w*)"$')
def client_rpc_callback_count(context, n, name):
    calls = _results(context, name)
    assert len(calls) == int(n), f"the result callback of {name!r} was called {len(calls)} times: {calls}"


@step(r'^the client requests RPC "(\w*)" with JSON data (.+)$')
def client_requests_rpc_json(context, name, text):
    context.recorder.reset(RESULT + name)
    require_client(context).call("rpc.make", name, json.loads(text), Callback(RESULT + name))
    after_client_action(context)


@step(r'^the client recieves a successful RPC callback for "(\w*)" with JSON data (.+)$')
def client_rpc_success_json(context, name, text):
    calls = _results(context, name)
    assert len(calls) == 1, f"the result callback of {name!r} was called {len(calls)} times: {calls}"
    expected = json.loads(text)
    assert calls[0][:2] == [None, expected], f"the result callback of {name!r} got {calls[0]}, expected [None, {expected!r}]"


@step(r'^the provider of "(\w*)" was called with JSON data (.+)$')
def provider_called_json(context, name, text):
    calls = context.recorder.calls(PROVIDER + name)
    assert len(calls) == 1, f"the provider callback of {name!r} was called {len(calls)} times: {calls}"
    expected = json.loads(text)
    assert calls[0][0] == expected, f"the provider of {name!r} got {calls[0][0]!r}, expected {expected!r}"
    if getattr(context, "rpc_responses", None) is None:
        context.rpc_responses = {}
    context.rpc_responses[name] = calls[0][1]
    context.recorder.reset(PROVIDER + name)


@step(r'^the provider of "(\w*)" is not called$')
def provider_not_called(context, name):
    calls = context.recorder.calls(PROVIDER + name)
    assert not calls, f"the provider callback of {name!r} was called: {calls}"


@step(r'^the client responds to the RPC "(\w*)" with JSON data (.+)$')
def client_responds_json(context, name, text):
    _response(context, name).call("send", json.loads(text))
    after_client_action(context)
