"""Shared helpers for step modules: message notation, placeholders, waits,
error bookkeeping. Step modules import from here (features/ is on sys.path,
put there by environment.py).
"""
import json
import os
import re
import time

from support.runtime import Callback, make_adapter

PART = "\x1f"
SEP = "\x1e"

# waits of the step vocabulary (milliseconds)
CLIENT_ACTION_WAIT = 20
SERVER_SEND_WAIT = 40
SOME_TIME = 200
TWO_SECONDS = 2000

# The vocabulary fixes ports 7777 and 8888; DS_FIRST_PORT / DS_SECOND_PORT move
# them (e.g. two behave runs side by side on a developer machine).
FIRST_PORT = int(os.environ.get("DS_FIRST_PORT", "7777"))
SECOND_PORT = int(os.environ.get("DS_SECOND_PORT", "8888"))
FIRST_SERVER_URL = "ws://localhost:%d/deepstream" % FIRST_PORT
SECOND_SERVER_URL = "ws://localhost:%d/deepstream" % SECOND_PORT
CLIENT_URL = "localhost:%d" % FIRST_PORT  # the client adds ws:// and /deepstream

# `the client is initialised` (option names of our client, snake_case). The
# suite's scripted server speaks the text protocol at /deepstream, the path
# where 2.3.4 spoke it; our client speaks binary there unless told otherwise.
CLIENT_OPTIONS = {
    "protocol": "text",
    "subscription_timeout": 100,
    "record_read_ack_timeout": 200,
    "record_read_timeout": 400,
    "record_delete_timeout": 100,
    "rpc_response_timeout": 200,
}
# `the client is initialised with a small heartbeat interval`
SMALL_HEARTBEAT_OPTIONS = dict(CLIENT_OPTIONS, record_read_timeout=260, heartbeat_interval=500)

UID = "<UID>"

# The vocabulary's patterns are anchored regular expressions (^...$). behave
# 1.2.x's "re" matcher takes them as they are; behave >= 1.3 renamed that
# matcher "re0" ("re" there adds the anchors itself and refuses them).
# Step modules call `use_step_matcher(RE_MATCHER)`.
try:
    from behave.matchers import CucumberRegexMatcher as _anchored  # noqa: F401
    RE_MATCHER = "re0"
except ImportError:
    RE_MATCHER = "re"


# The servers' URLs in step text: the placeholders, and the vocabulary's fixed
# URLs as the published files write them (e.g. in an expected error message),
# which follow DS_FIRST_PORT / DS_SECOND_PORT like the servers do.
_URLS = {
    "<FIRST_SERVER_URL>": FIRST_SERVER_URL,
    "<SECOND_SERVER_URL>": SECOND_SERVER_URL,
    "ws://localhost:7777/deepstream": FIRST_SERVER_URL,
    "ws://localhost:8888/deepstream": SECOND_SERVER_URL,
}
_URL_RX = re.compile("|".join(re.escape(k) for k in _URLS))


def with_urls(text):
    """Step text with the servers' URLs of this run filled in (see _URLS)."""
    return _URL_RX.sub(lambda m: _URLS[m.group(0)], text)


def to_wire(text):
    """Step notation -> wire text: `|` is 0x1f, `+` is 0x1e; URLs as in with_urls."""
    return with_urls(text).replace("|", PART).replace("+", SEP)


def to_notation(text):
    """Wire text -> step notation, for readable assertion messages."""
    if text is None:
        return None
    return text.replace(PART, "|").replace(SEP, "+")


def server_text(context, text):
    """A message the server sends: converted, `<UID>` = the last remembered id.
    While none is remembered, `<UID>` is sent as it is: a request the server
    starts then carries the text `<UID>` as its correlation id."""
    wire = to_wire(text)
    uid = getattr(context, "uid", None)
    if uid is not None:
        wire = wire.replace(UID, uid)
    return wire


def _json_field(field):
    """(True, value) if a message field holds a JSON object/array, raw (`{...}`)
    or typed (`O{...}`); else (False, None)."""
    body = field[1:] if field[:1] == "O" else field
    if body[:1] in ("{", "["):
        try:
            return True, json.loads(body)
        except ValueError:
            pass
    return False, None


def _field_equal(expected, got):
    if expected == got:
        return True
    # JSON objects have no key order, and MicroPython dicts keep none: compare
    # JSON fields as values (same prefix: raw stays raw, typed stays typed)
    if expected[:1] == "O" and got[:1] != "O":
        return False
    ok_e, val_e = _json_field(expected)
    ok_g, val_g = _json_field(got)
    return ok_e and ok_g and val_e == val_g and type(val_e) is type(val_g)


def matcher(text):
    """An expected client message -> function(context, wire) -> bool.

    Fields are compared one by one; JSON fields as JSON values (key order is
    meaningless); a `<UID>` field matches any correlation id and remembers it.
    """
    wire = to_wire(text)
    term = wire.endswith(SEP)
    expected = (wire[:-1] if term else wire).split(PART)
    uid_fields = [i for i, f in enumerate(expected) if UID in f]
    uid_rx = {i: re.compile("([^\x1f]*)".join(re.escape(p) for p in expected[i].split(UID)) + r"\Z", re.S)
              for i in uid_fields}

    def match(context, got):
        if got is None or got.endswith(SEP) != term:
            return False
        fields = (got[:-1] if term else got).split(PART)
        if len(fields) != len(expected):
            return False
        uid = None
        for i, (e, g) in enumerate(zip(expected, fields)):
            if i in uid_rx:
                m = uid_rx[i].match(g)
                if m is None:
                    return False
                uid = m.group(1)
            elif not _field_equal(e, g):
                return False
        if uid is not None:
            context.uid = uid
        return True

    return match


def frame_matches(context, text, frame):
    """A whole websocket frame equals the expected messages (each compared
    as by `matcher`)."""
    from support.test_server import split_messages

    if frame is None:
        return False
    expected = split_messages(to_wire(text))
    got = split_messages(frame)
    return len(expected) == len(got) and all(
        matcher(to_notation(e))(context, g) for e, g in zip(expected, got))


def show(messages):
    """Readable list of wire messages for assertion errors."""
    return "[" + ", ".join(repr(to_notation(m)) for m in messages) + "]"


# -- waits -----------------------------------------------------------------------
def after_client_action(context):
    context.client.wait(CLIENT_ACTION_WAIT)


def start_client(context, options, url=CLIENT_URL):
    """Create the client under test (closing a previous one first) and
    record its errors and state changes. Usable by other step modules."""
    if context.client is not None:
        context.client.shutdown()
        context.client = None
    adapter = make_adapter(context.runtime, context.recorder)
    try:
        adapter.init(url, options)
        adapter.call("on", "error", Callback("error"))
        adapter.call("on", "connectionStateChanged", Callback("state"))
    except Exception:
        adapter.shutdown()
        raise
    context.client = adapter
    after_client_action(context)


def pass_time(context, ms):
    if context.client is not None:
        context.client.wait(ms)
    else:
        time.sleep(ms / 1000)


def require_client(context):
    if context.client is None:
        raise AssertionError("no client: `the client is initialised` did not run")
    return context.client


# -- error bookkeeping ------------------------------------------------------------
def errors(context):
    """All error events of this scenario: lists [message, event, topic]."""
    return context.recorder.calls("error")


def mark_errors_seen(context):
    context.errors_seen = len(errors(context))


def unseen_errors(context):
    return errors(context)[context.errors_seen:]


def describe_errors(errs):
    def one(e):
        e = list(e) + [None, None, None]
        return f"{e[1]}: {e[0]!r} (topic {e[2]})"
    return "; ".join(one(e) for e in errs) or "none"
