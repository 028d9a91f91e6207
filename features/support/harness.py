"""Shared helpers for step modules: message notation, placeholders, waits,
error bookkeeping. Step modules import from here (features/ is on sys.path,
put there by environment.py).
"""
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

FIRST_SERVER_URL = "ws://localhost:7777/deepstream"
SECOND_SERVER_URL = "ws://localhost:8888/deepstream"
CLIENT_URL = "localhost:7777"  # what the client is given; it adds ws:// and /deepstream

# `the client is initialised` (option names of our client, snake_case)
CLIENT_OPTIONS = {
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


def to_wire(text):
    """Step notation -> wire text: `|` is 0x1f, `+` is 0x1e; URL placeholders filled."""
    text = text.replace("<FIRST_SERVER_URL>", FIRST_SERVER_URL)
    text = text.replace("<SECOND_SERVER_URL>", SECOND_SERVER_URL)
    return text.replace("|", PART).replace("+", SEP)


def to_notation(text):
    """Wire text -> step notation, for readable assertion messages."""
    if text is None:
        return None
    return text.replace(PART, "|").replace(SEP, "+")


def server_text(context, text):
    """A message the server sends: converted, `<UID>` = the last remembered id."""
    wire = to_wire(text)
    if UID in wire:
        if getattr(context, "uid", None) is None:
            raise AssertionError(f"{text}: no correlation id remembered yet for <UID>")
        wire = wire.replace(UID, context.uid)
    return wire


def matcher(text):
    """An expected client message -> function(wire) -> bool that remembers `<UID>`."""
    wire = to_wire(text)
    if UID not in wire:
        return lambda context, got: got == wire
    parts = [re.escape(p) for p in wire.split(UID)]
    rx = re.compile("([^\x1f]*)".join(parts) + r"\Z", re.S)

    def match(context, got):
        if got is None:
            return False
        m = rx.match(got)
        if m is None:
            return False
        context.uid = m.group(1)
        return True

    return match


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
