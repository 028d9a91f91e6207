"""Client-side steps: records (the client-spec vocabulary word for word, then ours).

Recorder names: "record-sub" for the one subscription callback shared by all
record subscription steps (args [value]); "record-ack:<name>" for write-ack
callbacks (args [error]); "record-listen" for the shared listen callback
(args [name, is_subscribed, response handle or None]); "record-snapshot" and
"record-has" for the shared snapshot / has callbacks (args [error, value]);
"list:<event>:<name>" for list entry events (args [entry, index]).
"""
import json

from behave import step, use_step_matcher

from support.harness import RE_MATCHER, after_client_action, require_client
from support.runtime import Callback

use_step_matcher(RE_MATCHER)

SUB = "record-sub"
ACK = "record-ack:"
LISTEN = "record-listen"
SNAPSHOT = "record-snapshot"
HAS = "record-has"


def _records(context):
    if getattr(context, "records", None) is None:
        context.records = {}
        context.write_ack = set()
    return context.records


def _record(context, name):
    rec = _records(context).get(name)
    assert rec is not None, f"the record {name!r} was not created in this scenario"
    return rec


def _set_args(context, name, args):
    if name in context.write_ack:
        context.recorder.reset(ACK + name)
        return list(args) + [Callback(ACK + name)]
    return list(args)


def _once(context, cb_name, what):
    calls = context.recorder.calls(cb_name)
    assert len(calls) == 1, f"{what}: expected one call, got {len(calls)}: {calls}"
    context.recorder.reset(cb_name)
    return calls[0]


# ---- the client-spec vocabulary --------------------------------------------------

@step(r'^the client creates a record named "([^"]*)"$')
def client_creates_record(context, name):
    _records(context)[name] = require_client(context).call("record.get_record", name)
    after_client_action(context)


@step(r'^the client sets the record "([^"]*)" "([^"]*)" to "(.+)"$')
def client_sets_path(context, name, path, value):
    _record(context, name).call("set", *_set_args(context, name, [path, value]))
    after_client_action(context)


@step(r'^the client sets the record "([^"]*)" to (.+)$')
def client_sets_record(context, name, data):
    _record(context, name).call("set", *_set_args(context, name, [json.loads(data)]))
    after_client_action(context)


@step(r'^the client requires write acknowledgement on record "([^"]*)"$')
def client_requires_write_ack(context, name):
    _records(context)
    context.write_ack.add(name)


@step(r'^the client is notified that the record "([^"]*)" was written without error$')
def written_without_error(context, name):
    args = _once(context, ACK + name, f"write-ack callback of {name!r}")
    assert args[0] is None, f"write-ack callback of {name!r} got error {args[0]!r}"


@step(r'^the client is notified that the record "([^"]*)" was written with error "([^"]*)"$')
def written_with_error(context, name, error):
    args = _once(context, ACK + name, f"write-ack callback of {name!r}")
    assert args[0] == error, f"write-ack callback of {name!r} got {args[0]!r}, expected {error!r}"


@step(r'^the client record "([^"]*)" data is (.*)$')
def record_data_is(context, name, data):
    got = _record(context, name).call("get")
    assert got == json.loads(data), f"record {name!r} holds {got!r}, expected {data}"


@step(r'^the client discards the record named "([^"]*)"$')
def client_discards(context, name):
    _record(context, name).call("discard")
    after_client_action(context)


@step(r'^the client deletes the record named "([^"]*)"$')
def client_deletes(context, name):
    _record(context, name).call("delete")
    after_client_action(context)


@step(r'^the client listens to a record matching "([^"]*)"$')
def client_listens_record(context, pattern):
    require_client(context).call("record.listen", pattern, Callback(LISTEN))
    after_client_action(context)


@step(r'^the client unlistens to a record matching "([^"]*)"$')
def client_unlistens_record(context, pattern):
    require_client(context).call("record.unlisten", pattern)
    after_client_action(context)


def _listen_calls(context, name, flag):
    return [a for a in context.recorder.calls(LISTEN) if len(a) >= 2 and a[0] == name and a[1] is flag]


@step(r'^the client will be notified of new record match "([^"]*)"$')
def notified_record_match(context, name):
    assert _listen_calls(context, name, True), (
        f"listen callback not called with ({name!r}, True): {context.recorder.calls(LISTEN)}")


@step(r'^the client will be notified of record match removal "([^"]*)"$')
def notified_record_match_removal(context, name):
    assert _listen_calls(context, name, False), (
        f"listen callback not called with ({name!r}, False): {context.recorder.calls(LISTEN)}")


@step(r'^the client subscribes to "([^"]*)" for the record "([^"]*)"$')
def client_subscribes_path(context, path, name):
    _record(context, name).call("subscribe", path, Callback(SUB))
    after_client_action(context)


@step(r'^the client unsubscribes to "([^"]*)" for the record "([^"]*)"$')
def client_unsubscribes_path(context, path, name):
    _record(context, name).call("unsubscribe", path)  # the shared callback is the only one
    after_client_action(context)


@step(r'^the client subscribes to the entire record "([^"]*)" changes$')
def client_subscribes_record(context, name):
    _record(context, name).call("subscribe", Callback(SUB))
    after_client_action(context)


@step(r'^the client unsubscribes to the entire record "([^"]*)" changes$')
def client_unsubscribes_record(context, name):
    _record(context, name).call("unsubscribe")
    after_client_action(context)


@step(r"^the client will not be notified of the record change$")
def not_notified(context):
    calls = context.recorder.calls(SUB)
    assert not calls, f"the record subscription callback was called: {calls}"


@step(r"^the client will be notified of the record change$")
@step(r"^the client will be notified of the second record change$")
@step(r"^the client will be notified of the partial record change$")
def notified(context):
    context.last_record_change = _once(context, SUB, "record subscription callback")


@step(r'^the client requests a snapshot for the record "([^"]*)"$')
def client_requests_snapshot(context, name):
    require_client(context).call("record.snapshot", name, Callback(SNAPSHOT))
    after_client_action(context)


@step(r'^the client has no response for the snapshot of record "([^"]*)"$')
def no_snapshot_response(context, name):
    calls = context.recorder.calls(SNAPSHOT)
    assert not calls, f"the snapshot callback was called: {calls}"


@step(r'^the client is told the record "([^"]*)" encountered an error retrieving snapshot$')
def snapshot_error(context, name):
    args = _once(context, SNAPSHOT, "snapshot callback")
    assert args[0] == "RECORD_NOT_FOUND", f"snapshot callback got {args}"


@step(r'^the client is provided the snapshot for record "([^"]*)" with data "(.*)"$')
def snapshot_data(context, name, data):
    args = _once(context, SNAPSHOT, "snapshot callback")
    assert args[0] is None and args[1] == json.loads(data), f"snapshot callback got {args}, expected {data}"


@step(r'^the client checks if the server has the record "([^"]*)"$')
def client_checks_has(context, name):
    require_client(context).call("record.has", name, Callback(HAS))
    after_client_action(context)


@step(r'^the client is told the record "([^"]*)" exists$')
def told_exists(context, name):
    args = _once(context, HAS, "has callback")
    assert args[0] is None and args[1] is True, f"has callback got {args}"


@step(r'^the client is told the record "([^"]*)" doesn\'t exist$')
def told_missing(context, name):
    args = _once(context, HAS, "has callback")
    assert args[0] is None and args[1] is False, f"has callback got {args}"


# ---- ours ----------------------------------------------------------------------------

@step(r'^the client sets the record "([^"]*)" "([^"]*)" to the JSON value (.+)$')
def client_sets_path_json(context, name, path, value):
    _record(context, name).call("set", *_set_args(context, name, [path, json.loads(value)]))
    after_client_action(context)


@step(r'^the client record "([^"]*)" "([^"]*)" is (.+)$')
def record_path_is(context, name, path, value):
    got = _record(context, name).call("get", path)
    assert got == json.loads(value), f"{name!r} {path!r} is {got!r}, expected {value}"


@step(r'^the client record "([^"]*)" has version (-?\d+)$')
def record_version_is(context, name, version):
    got = _record(context, name).get("version")
    assert got == int(version), f"record {name!r} has version {got!r}, expected {version}"


@step(r'^the client record "([^"]*)" is (ready|not ready|destroyed)$')
def record_state_is(context, name, state):
    rec = _record(context, name)
    if state == "destroyed":
        assert rec.get("is_destroyed") is True, f"record {name!r} is not destroyed"
    else:
        assert rec.get("is_ready") is (state == "ready"), f"record {name!r}: is_ready is {rec.get('is_ready')}"


@step(r"^the record change was notified with (.+)$")
def record_change_value(context, value):
    got = getattr(context, "last_record_change", None)
    assert got is not None, "no record change was checked before"
    assert got[0] == json.loads(value), f"the subscription got {got[0]!r}, expected {value}"


@step(r'^the client subscribes to "([^"]*)" for the record "([^"]*)" with trigger now$')
def client_subscribes_path_now(context, path, name):
    _record(context, name).call("subscribe", path, Callback(SUB), True)
    after_client_action(context)


@step(r'^the client (accepts|rejects) the record match "([^"]*)"$')
def client_answers_record_match(context, answer, name):
    calls = _listen_calls(context, name, True)
    assert calls and len(calls[-1]) > 2 and calls[-1][2] is not None, f"no response object for {name!r}"
    calls[-1][2].call("accept" if answer == "accepts" else "reject")
    after_client_action(context)


@step(r'^the client is told the snapshot failed with "([^"]*)"$')
def snapshot_failed_with(context, error):
    args = _once(context, SNAPSHOT, "snapshot callback")
    assert args[0] == error, f"snapshot callback got {args}"


@step(r'^the client is told the check for the record failed with "([^"]*)"$')
def has_failed_with(context, error):
    args = _once(context, HAS, "has callback")
    assert args[0] == error, f"has callback got {args}"


@step(r'^the client sets data of the record "([^"]*)" to (.+)$')
def client_set_data_whole(context, name, data):
    args = [name, json.loads(data)]
    _records(context)
    if name in context.write_ack:
        context.recorder.reset(ACK + name)
        args.append(Callback(ACK + name))
    require_client(context).call("record.set_data", *args)
    after_client_action(context)


@step(r'^the client sets data of the record "([^"]*)" "([^"]*)" to the JSON value (.+)$')
def client_set_data_path(context, name, path, value):
    args = [name, path, json.loads(value)]
    _records(context)
    if name in context.write_ack:
        context.recorder.reset(ACK + name)
        args.append(Callback(ACK + name))
    require_client(context).call("record.set_data", *args)
    after_client_action(context)


# ---- lists ------------------------------------------------------------------------------

@step(r'^the client gets the list "([^"]*)"$')
def client_gets_list(context, name):
    lst = require_client(context).call("record.get_list", name)
    _records(context)[name] = lst
    for event in ("entry-added", "entry-removed", "entry-moved"):
        lst.call("on", event, Callback("list:%s:%s" % (event, name)))
    after_client_action(context)


@step(r'^the client adds the entry "([^"]*)" to the list "([^"]*)"(?: at index (\d+))?$')
def client_adds_entry(context, entry, name, index):
    args = [entry] if index is None else [entry, int(index)]
    _record(context, name).call("add_entry", *args)
    after_client_action(context)


@step(r'^the client removes the entry "([^"]*)" from the list "([^"]*)"(?: at index (\d+))?$')
def client_removes_entry(context, entry, name, index):
    args = [entry] if index is None else [entry, int(index)]
    _record(context, name).call("remove_entry", *args)
    after_client_action(context)


@step(r'^the client sets the entries of the list "([^"]*)" to (.+)$')
def client_sets_entries(context, name, entries):
    _record(context, name).call("set_entries", json.loads(entries))
    after_client_action(context)


@step(r'^the client list "([^"]*)" has the entries (.+)$')
def list_entries_are(context, name, entries):
    got = _record(context, name).call("get_entries")
    assert got == json.loads(entries), f"list {name!r} has {got!r}, expected {entries}"


@step(r'^the client list "([^"]*)" is (empty|not empty)$')
def list_is_empty(context, name, state):
    got = _record(context, name).call("is_empty")
    assert got is (state == "empty"), f"list {name!r}: is_empty() is {got}"


@step(r'^the client is told the entry "([^"]*)" was (added to|removed from|moved in) the list "([^"]*)" at index (\d+)$')
def list_entry_event(context, entry, what, name, index):
    event = {"added to": "entry-added", "removed from": "entry-removed", "moved in": "entry-moved"}[what]
    key = "list:%s:%s" % (event, name)
    calls = context.recorder.calls(key)
    assert [entry, int(index)] in calls, f"{event} calls of {name!r}: {calls}"
    context.recorder.log = [(n, a) for n, a in context.recorder.log if not (n == key and a == [entry, int(index)])]


@step(r'^the client is told of no (added|removed|moved) entries of the list "([^"]*)"$')
def list_no_entry_event(context, what, name):
    key = "list:entry-%s:%s" % (what, name)
    calls = context.recorder.calls(key)
    assert not calls, f"entry-{what} calls of {name!r}: {calls}"
