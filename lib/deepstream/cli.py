"""`deepstream`: a command-line client for the host, to watch and poke devices while
developing them (what mosquitto_sub / mosquitto_pub are for MQTT).

    deepstream sub 'devices/1/temperature'          # one JSON line per event
    deepstream pub devices/1/command '"reboot"'
    deepstream rpc make devices/1/led '"on"'
    deepstream record watch devices/1
    deepstream --help

A thin layer over the library: argparse, then the polling driver (client.poll).
Host only: no library module imports it, and tools/deploy.py keeps it (and
__main__.py) off boards, mip and frozen firmware (HOST_ONLY there).
"""
import argparse
import json
import os
import signal
import sys
import time

from . import __version__
from .client import Client

DEFAULT_URL = "ws://127.0.0.1:6020/deepstream"  # a stock server: the binary protocol
PROTOCOLS = ("binary", "text", "auto")  # --protocol, DEEPSTREAM_PROTOCOL

# exit codes (also in --help and docs/CLI.md)
EXIT_OK = 0
EXIT_FAILED = 1  # the other side said no: RPC error, record missing, permission denied
EXIT_USAGE = 2  # bad arguments (argparse's own code too)
EXIT_CONNECTION = 3  # could not connect, timed out, or the link was lost for good
EXIT_LOGIN = 4  # the server refused the login
EXIT_INTERRUPTED = 130  # Ctrl-C during a one-shot command (128 + SIGINT)

_POLL_MS = 50
_DENIED = ("MESSAGE_DENIED", "MESSAGE_PERMISSION_ERROR")
_ECHO = object()


class Stop(Exception):
    """Ends a command with an exit code (and a message for stderr, if any)."""

    def __init__(self, code, message=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Session:
    """One logged-in client and the loop that drives it."""

    def __init__(self, args, out=None, err=None):
        self.args = args
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.client = Client(args.url, protocol=getattr(args, "protocol", None))
        self.client.on("error", self._on_error)
        self.client.on("connectionStateChanged", self._on_state)
        self.opened = False  # logged in at least once
        self.closing = False
        self.stop = None  # a Stop raised by a callback, re-raised by the loop
        self.lines = 0  # JSON lines printed

    # ---- output ---------------------------------------------------------

    def line(self, obj):
        try:
            self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            self.out.flush()
        except BrokenPipeError:  # `deepstream sub x | head -1`: the reader has gone
            _quiet_stdout()
            self.fail(EXIT_OK)
        self.lines += 1

    def warn(self, text):
        self.err.write("deepstream: %s\n" % text)
        self.err.flush()

    def fail(self, code, message=None):
        """From a callback: end the loop with `code` (the first reason wins)."""
        if self.stop is None:
            self.stop = Stop(code, message)

    # ---- client events --------------------------------------------------

    def _on_error(self, message, event, topic):
        if event == "connectionError" and not self.opened:
            self.fail(EXIT_CONNECTION, message)  # fail fast: no reconnect loop before a login
        elif event in _DENIED:
            self.fail(EXIT_FAILED, "permission denied: %s (%s)" % (message, topic))
        else:
            self.warn("%s (%s): %s" % (event, topic, message))

    def _on_state(self, state):
        if state == "OPEN":
            self.opened = True
        elif state == "CLOSED" and not self.closing:
            self.fail(EXIT_CONNECTION, "connection closed")

    # ---- driving --------------------------------------------------------

    def wait(self, done, what, timeout=None):
        """Poll until done() is true; Stop on a failure or after `timeout` seconds
        (default --timeout; 0 = no limit)."""
        if timeout is None:
            timeout = self.args.timeout
        end = time.monotonic() + timeout if timeout else None
        while True:
            if self.stop is not None:
                raise self.stop
            if done():
                return
            if end is not None and time.monotonic() > end:
                raise Stop(EXIT_CONNECTION, "no %s within %gs" % (what, timeout))
            self.client.poll(_POLL_MS)

    def login(self):
        result = []
        self.client.login(self.args.auth, lambda ok, data: result.append((ok, data)))
        self.wait(lambda: result, "login answer from %s" % self.args.url)
        ok, data = result[0]
        if not ok:
            raise Stop(EXIT_LOGIN, "login refused: %s" % json.dumps(data))

    def follow(self, count=None):
        """Run until Ctrl-C, or until `count` more JSON lines were printed."""
        target = None if count is None else self.lines + count
        self.wait(lambda: target is not None and self.lines >= target, "end", timeout=0)

    def round_trip(self):
        """Return once the server has handled everything sent before: a presence query
        is answered in order (close() alone would drop what is still queued)."""
        done = []
        self.client.presence.get_all(lambda users: done.append(1))
        self.wait(lambda: done, "answer from the server")

    def close(self):
        """Close politely: the next poll sends our close frame (the OS closes TCP at exit)."""
        self.closing = True
        self.client.close()
        self.client.poll(0)


# ---- arguments ------------------------------------------------------------


def json_arg(text):
    """An argparse type: a JSON value, with a hint for the usual mistake."""
    try:
        return json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "not JSON: %s (text needs JSON quotes, e.g. '\"on\"'; numbers, true, "
            "false, null, objects and lists as in JSON)" % text)


def auth_arg(text):
    value = json_arg(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("auth must be a JSON object, e.g. '{\"username\": \"cli\"}'")
    return value


def positive_int(text):
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError("must be a positive whole number: %s" % text)
    return n


def seconds(text):
    try:
        n = float(text)
    except ValueError:
        n = -1.0
    if not n >= 0:
        raise argparse.ArgumentTypeError("must be a number of seconds >= 0: %s" % text)
    return n


# ---- commands ------------------------------------------------------------------


def cmd_sub(s, args):
    s.login()
    for name in args.events:
        s.client.event.subscribe(name, lambda data, name=name: s.line({"event": name, "data": data}))
    s.follow(args.count)


def cmd_pub(s, args):
    s.login()
    if args.data is _ABSENT:
        s.client.event.emit(args.event)
    else:
        s.client.event.emit(args.event, args.data)
    s.round_trip()


def cmd_rpc_make(s, args):
    s.login()
    result = []
    s.client.rpc.make(args.name, args.data, lambda error, data: result.append((error, data)))
    s.wait(lambda: result, "answer to rpc '%s'" % args.name)
    error, data = result[0]
    if error is not None:
        raise Stop(EXIT_FAILED, "rpc '%s' failed: %s" % (args.name, error))
    s.line(data)


def cmd_rpc_provide(s, args):
    s.login()
    reply = args.data

    def answer(data, response):
        s.line({"rpc": args.name, "data": data})
        response.send(data if reply is _ECHO else reply)
    s.client.rpc.provide(args.name, answer)
    s.follow(args.count)


def cmd_record_get(s, args):
    s.login()
    result = []
    s.client.record.snapshot(args.name, lambda error, data: result.append((error, data)))
    s.wait(lambda: result, "snapshot of record '%s'" % args.name)
    error, data = result[0]
    if error == "RECORD_NOT_FOUND":
        raise Stop(EXIT_FAILED, "record '%s' does not exist" % args.name)
    if error is not None:
        raise Stop(EXIT_FAILED, "record '%s': %s" % (args.name, error))
    if args.path:
        from .jsonpath import get
        from .message import UNDEFINED
        data = get(data, args.path)
        if data is UNDEFINED:
            raise Stop(EXIT_FAILED, "record '%s' has no value at '%s'" % (args.name, args.path))
    s.line(data)


def cmd_record_set(s, args):
    if len(args.values) > 2:
        raise Stop(EXIT_USAGE, "record set takes NAME [PATH] JSON")
    path = args.values[0] if len(args.values) == 2 else None
    try:
        value = json_arg(args.values[-1])
    except argparse.ArgumentTypeError as err:
        raise Stop(EXIT_USAGE, "JSON: %s" % err)
    s.login()
    result = []
    done = result.append
    if path is None:
        s.client.record.set_data(args.name, value, done)
    else:
        s.client.record.set_data(args.name, path, value, done)
    s.wait(lambda: result, "write acknowledgement for record '%s'" % args.name)
    if result[0] is not None:
        raise Stop(EXIT_FAILED, "record '%s' not written: %s" % (args.name, result[0]))


def cmd_record_watch(s, args):
    s.login()
    rec = s.client.record.get_record(args.name)

    def changed(value):
        line = {"record": args.name, "version": rec.version, "data": value}
        if args.path:
            line["path"] = args.path
        s.line(line)
    rec.on("delete", lambda: s.fail(EXIT_OK, "record '%s' was deleted" % args.name))
    if args.path:
        rec.subscribe(args.path, changed, True)
    else:
        rec.subscribe(changed, True)
    s.follow(None if args.count is None else args.count + 1)  # +1: the current value


def cmd_presence(s, args):
    s.login()
    listed = []
    if not args.once:
        s.client.presence.subscribe(lambda user, online: s.line({"user": user, "online": online}))
    s.client.presence.get_all(listed.append)
    s.wait(lambda: listed, "presence answer")
    for user in listed[0]:
        s.line({"user": user, "online": True})
    if not args.once:
        s.follow(args.count)


def cmd_listen(s, args):
    s.login()

    def matched(name, is_subscribed, response):
        s.line({"pattern": args.pattern, "name": name, "subscribed": is_subscribed})
        if response is not None:
            response.reject() if args.reject else response.accept()
    handler = s.client.record if args.record else s.client.event
    handler.listen(args.pattern, matched)
    s.follow(args.count)


_ABSENT = object()

# sub-commands that run until Ctrl-C (or --count): Ctrl-C is their normal end
_FOLLOWING = (cmd_sub, cmd_rpc_provide, cmd_record_watch, cmd_presence, cmd_listen)

DESCRIPTION = """\
A command-line deepstream client: watch and poke devices while you develop them.
Every value is JSON: text needs quotes ('"on"'), numbers, true/false/null, objects
and lists are written as in JSON. What arrives is printed to stdout as one JSON
object per line; problems go to stderr."""

EPILOG = """\
examples:
  deepstream sub devices/1/temperature devices/1/status
  deepstream sub --count 1 devices/1/temperature
  deepstream pub devices/1/command '{"led": "on"}'
  deepstream rpc make devices/1/led '"on"'
  deepstream rpc provide backend/time '"12:00"'     (without JSON: echo the request)
  deepstream record get devices/1 config.interval
  deepstream record set devices/1 config.interval 5
  deepstream record watch devices/1
  deepstream presence
  deepstream listen 'devices/.*'

environment:
  DEEPSTREAM_URL   server URL when --url is not given (default %s)
  DEEPSTREAM_PROTOCOL  binary, text or auto when --protocol is not given
                   (default: by the URL path, /deepstream-v3 is text, any other binary)
  DEEPSTREAM_AUTH  login data as a JSON object when --auth is not given (default {})

exit codes:
  0    done (commands that follow end with Ctrl-C or after --count lines)
  1    refused: RPC error, record missing or not written, permission denied
  2    bad arguments
  3    cannot connect, no answer within --timeout, or the link was lost for good
  4    login refused
  130  interrupted (Ctrl-C) before a one-shot command finished""" % DEFAULT_URL


def _add_connection_options(p, suppress):
    """--url/--protocol/--auth/--timeout, accepted before and after the sub-command. On the
    sub-commands their default is SUPPRESS, so they do not hide a value given earlier."""
    def default(value):
        return argparse.SUPPRESS if suppress else value
    g = p.add_argument_group("connection")
    g.add_argument("-u", "--url", default=default(os.environ.get("DEEPSTREAM_URL", DEFAULT_URL)),
                   help="server URL, ws://host:port/path or wss://... (env DEEPSTREAM_URL; "
                        "default %s)" % DEFAULT_URL)
    g.add_argument("-p", "--protocol", choices=PROTOCOLS,
                   default=default(os.environ.get("DEEPSTREAM_PROTOCOL") or None),
                   help="the wire protocol (env DEEPSTREAM_PROTOCOL; default: by the URL path, "
                        "/deepstream-v3 is text, any other binary; auto: asks the endpoint)")
    g.add_argument("-a", "--auth", type=auth_arg, metavar="JSON", default=default(None),
                   help="login data, a JSON object such as '{\"username\": \"cli\", "
                        "\"password\": \"...\"}' (env DEEPSTREAM_AUTH; default {})")
    g.add_argument("-t", "--timeout", type=seconds, metavar="SECONDS", default=default(10.0),
                   help="how long to wait for the connection, the login and each answer "
                        "(default 10; 0 = forever)")


def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    _add_connection_options(common, True)
    p = argparse.ArgumentParser(prog="deepstream", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version="deepstream " + __version__)
    _add_connection_options(p, False)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def command(parent, name, fn, help, **kw):
        c = parent.add_parser(name, help=help, description=help, parents=[common], **kw)
        if fn is not None:
            c.set_defaults(fn=fn)
        return c

    def count(c, what):
        c.add_argument("-n", "--count", type=positive_int, metavar="N",
                       help="exit after N %s (default: run until Ctrl-C)" % what)

    c = command(sub, "sub", cmd_sub, "print the events EVENT... as they arrive")
    c.add_argument("events", nargs="+", metavar="EVENT", help="event name")
    count(c, "events")

    c = command(sub, "pub", cmd_pub, "publish one event and wait until the server has it")
    c.add_argument("event", metavar="EVENT")
    c.add_argument("data", nargs="?", type=json_arg, default=_ABSENT, metavar="JSON",
                   help="the event's data (default: none)")

    rpc = command(sub, "rpc", None, "make or provide remote procedure calls").add_subparsers(
        dest="rpc_command", metavar="ACTION")
    rpc.required = True
    c = command(rpc, "make", cmd_rpc_make, "call the RPC NAME and print its result")
    c.add_argument("name", metavar="NAME")
    c.add_argument("data", nargs="?", type=json_arg, default=None, metavar="JSON",
                   help="the request data (default null)")
    c = command(rpc, "provide", cmd_rpc_provide,
                "answer the RPC NAME (printing each request) with JSON, or echo the request")
    c.add_argument("name", metavar="NAME")
    c.add_argument("data", nargs="?", type=json_arg, default=_ECHO, metavar="JSON",
                   help="the answer (default: the request's data)")
    count(c, "requests")

    rec = command(sub, "record", None, "read, write or watch records").add_subparsers(
        dest="record_command", metavar="ACTION")
    rec.required = True
    c = command(rec, "get", cmd_record_get, "print a record's data (or the value at PATH)")
    c.add_argument("name", metavar="NAME")
    c.add_argument("path", nargs="?", metavar="PATH", help="e.g. config.interval or pets[0].name")
    c = command(rec, "set", cmd_record_set,
                "write a record (or the value at PATH) and wait for the server's ack",
                usage="deepstream record set [options] NAME [PATH] JSON")
    c.add_argument("name", metavar="NAME")
    c.add_argument("values", nargs="+", metavar="[PATH] JSON",
                   help="the value at PATH, or the whole record without PATH")
    c = command(rec, "watch", cmd_record_watch,
                "print a record's data (or the value at PATH) now and on every change")
    c.add_argument("name", metavar="NAME")
    c.add_argument("path", nargs="?", metavar="PATH")
    count(c, "changes")

    c = command(sub, "presence", cmd_presence,
                "list who is online, then print each login and logout")
    c.add_argument("--once", action="store_true", help="list only, do not follow")
    count(c, "logins/logouts")

    c = command(sub, "listen", cmd_listen,
                "print who starts and stops subscribing to names matching PATTERN "
                "(accepting to provide them)")
    c.add_argument("pattern", metavar="PATTERN", help="a regular expression, e.g. 'devices/.*'")
    c.add_argument("--record", action="store_true", help="record subscriptions instead of events")
    c.add_argument("--reject", action="store_true", help="reject instead of accepting")
    count(c, "changes")
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.auth is None:
        try:
            args.auth = auth_arg(os.environ.get("DEEPSTREAM_AUTH", "{}"))
        except argparse.ArgumentTypeError as err:
            parser.error("DEEPSTREAM_AUTH: %s" % err)
    if args.protocol not in PROTOCOLS + (None,):  # from DEEPSTREAM_PROTOCOL: argparse checks only the flag
        parser.error("DEEPSTREAM_PROTOCOL must be %s or %s (or empty: by the URL path), not %r"
                     % (", ".join(PROTOCOLS[:-1]), PROTOCOLS[-1], args.protocol))
    following = args.fn in _FOLLOWING
    old = signal.signal(signal.SIGTERM, _interrupt)  # `kill` ends as cleanly as Ctrl-C
    s = None
    try:
        s = Session(args)
        args.fn(s, args)
        code = EXIT_OK
    except Stop as stop:
        code = stop.code
        if stop.message:
            (s.warn if s else _warn)(stop.message)
    except KeyboardInterrupt:
        code = EXIT_OK if following else EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of stdout has gone
        code = EXIT_OK
        _quiet_stdout()
    except (ValueError, TypeError) as err:  # a bad name or value, refused before sending
        code = EXIT_USAGE
        _warn(str(err))
    finally:
        signal.signal(signal.SIGTERM, old)
    if s is not None:
        try:
            s.close()
        except KeyboardInterrupt:
            pass
    return code


def _quiet_stdout():
    """stdout's reader has gone: send what is left to /dev/null, so that Python's
    flush at exit does not print a BrokenPipeError."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _warn(text):
    sys.stderr.write("deepstream: %s\n" % text)
