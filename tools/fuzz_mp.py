"""Seeded mutation fuzzer for the websocket parser and the client core.

Runs unchanged under MicroPython (the point: the board's runtime) and CPython
(the ws target lives in tools/fuzz_mp_ws.py, imported only for it):

    micropython -X heapsize=96K tools/fuzz_mp.py TARGET SEED COUNT

TARGET
  ws       server->client byte streams: valid frames (text, binary, ping, pong,
           close, fragmented, 7/16/64-bit lengths, over max_message_size),
           mutated and fed in random chunks to ws.WebSocket
  events   text frames of mutated deepstream messages fed to an OPEN client
           (deepstream.testing.FakeLink) with event subscriptions, a listen,
           an RPC provide and a pending RPC call
  records  the same with a record (subscribed) and a record listen
  presence the same with presence subscriptions and a query
           (messages of topics a target does not use are turned into
           topic Z: see UNUSED)
  binary   binary-protocol frames, documented, built at random and mutated,
           fed to a client logged in over binary (tools/fuzz_mp_bin.py)

Checks for every input: nothing but WebSocketError (ws) escapes, nothing at
all escapes the client (problems become error events), error events carry
text; every 64 inputs a valid message must still work (a text frame decodes;
an event reaches its subscription). Prints one line:

    fuzz TARGET seed=S inputs=N errors=E resets=R ok

(errors: error events the client raised; resets: new clients needed because
an input legitimately closed the connection, e.g. C|REJ). Exit 1 and a FAIL
line with the input on the first violation. The PRNG is our own xorshift, so
a seed gives the same inputs on both runtimes.
"""
import sys


class Rng:
    def __init__(self, seed):
        self.s = ((seed * 2654435761) ^ 0x9E3779B9) & 0xFFFFFFFF or 1

    def next(self):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def below(self, n):
        return self.next() % n

    def pick(self, seq):
        return seq[self.next() % len(seq)]


# ---- deepstream messages ------------------------------------------------
# documentation notation: | is 0x1f, + is 0x1e
CORPUS = (
    "C|A+", "C|PI+", "C|PO+", "C|CH+", "C|RED|ws://127.0.0.1:1/x+", "C|REJ+",
    "C|E|CONNECTION_AUTHENTICATION_TIMEOUT|Stoo slow+", "C|E|SOMETHING|Sx+", "C|XX+",
    "A|A+", "A|A|O{\"role\":\"dev\"}+", "A|E|INVALID_AUTH_DATA|Sbad+", "A|E|TOO_MANY_AUTH_ATTEMPTS|Sx+",
    "A|E|INVALID_AUTH_MSG|Sx+",
    "E|EVT|fz/a|Shello+", "E|EVT|fz/a|N42+", "E|EVT|fz/a|N-1.5e3+", "E|EVT|fz/a|O{\"a\":[1,2,{\"b\":null}]}+",
    "E|EVT|fz/a|T+", "E|EVT|fz/a|F+", "E|EVT|fz/a|L+", "E|EVT|fz/a|U+", "E|EVT|fz/b|S+",
    "E|A|S|fz/a+", "E|A|US|fz/a+", "E|A|L|fz/.*+", "E|SP|fz/.*|fz/x+", "E|SR|fz/.*|fz/x+",
    "E|E|NOT_SUBSCRIBED|fz/q+", "E|E|MESSAGE_DENIED|fz/a|S+", "E|E|MESSAGE_PERMISSION_ERROR|fz/a+",
    "P|REQ|fz/rpc|c1|Sdata+", "P|REQ|fz/rpc|c2|O{\"x\":1}+", "P|REQ|fz/none|c3|N1+",
    "P|A|REQ|fz/call|CID+", "P|RES|fz/call|CID|N5+", "P|E|NO_RPC_PROVIDER|fz/call|CID+",
    "P|E|Soops|fz/call|CID+", "P|REJ|fz/call|CID+", "P|A|S|fz/rpc+", "P|E|MULTIPLE_RESPONSE|fz/rpc|c1+",
    "R|R|fz/rec|3|{\"a\":1,\"b\":{\"c\":[1,2]}}+", "R|U|fz/rec|4|{\"b\":2}+", "R|P|fz/rec|5|b.c[1]|N9+",
    "R|P|fz/rec|6|a|U+", "R|A|S|fz/rec+", "R|A|D|fz/rec+", "R|A|US|fz/rec+",
    "R|E|VERSION_EXISTS|fz/rec|2|{\"z\":1}+", "R|WA|fz/rec|[4]|L+", "R|WA|fz/rec|[5]|Sfailed+",
    "R|SP|fz/.*|fz/rec2+", "R|SR|fz/.*|fz/rec2+", "R|H|fz/rec|T+", "R|HD|fz/rec|7+",
    "R|SN|fz/rec|{\"a\":1}+", "R|E|RECORD_NOT_FOUND|SN|fz/rec+", "R|E|MESSAGE_DENIED|CR|fz/rec+",
    "U|PNJ|alice+", "U|PNL|alice+", "U|Q|alice|bob+", "U|Q+", "U|Q|1|{\"alice\":true,\"bob\":false}+",
    "U|A|S|S+", "U|A|S|2|U+", "U|E|INVALID_PRESENCE_USERS|Sx+",
    "X|E|UNKNOWN|Sx+", "Z|S|foo+", "hello+", "E|S|nosep", "E|EVT|a++E|EVT|b+",
)
# characters mutations insert: separators, type letters, JSON, UTF-8, control
ALPHABET = "\x1f\x1e\x1f\x1e|+SNOTFLUXCAEPRQ{}[]\",:.-0123456789e aé\u2603\U0001f600\x00\n\\"
TYPED = ("S", "N", "O", "T", "F", "L", "U", "X", "", "N1e999", "NNaN", "O{", "O[1,", "S\x1e")


def wire(text):
    return text.replace("|", "\x1f").replace("+", "\x1e")


def mutate(rng, text):
    """1-4 random edits of a message text (already in wire form)."""
    for _ in range(1 + rng.below(4)):
        n = len(text)
        op = rng.below(11)
        i = rng.below(n + 1)
        if op == 0 and n:  # replace a character
            text = text[:i] + rng.pick(ALPHABET) + text[i + 1:]
        elif op == 1:  # insert characters
            text = text[:i] + rng.pick(ALPHABET) * (1 + rng.below(3)) + text[i:]
        elif op == 2 and n:  # delete a range
            text = text[:i] + text[i + 1 + rng.below(8):]
        elif op == 3 and n:  # duplicate a range
            j = min(n, i + 1 + rng.below(16))
            text = text[:j] + text[i:j] + text[j:]
        elif op == 4:  # truncate
            text = text[:i]
        elif op == 5:  # splice in another message
            text = text[:i] + wire(rng.pick(CORPUS)) + text[i:]
        elif op == 6:  # retype the last field
            k = text.rfind("\x1f")
            if k >= 0:
                text = text[:k + 1] + rng.pick(TYPED) + text[k + 2:]
        elif op == 7:  # a big number or a long run
            text = text[:i] + rng.pick(("9" * 40, "-0", "1e308", "x" * (1 + rng.below(200)))) + text[i:]
        elif op == 8:  # drop a field
            k = text.find("\x1f", i)
            if k >= 0:
                m = text.find("\x1f", k + 1)
                text = text[:k] + (text[m:] if m >= 0 else "")
        elif op == 9:  # add an empty or extra field
            text = text[:i] + "\x1f" + rng.pick(("", "x", "S", "{}")) + text[i:]
        else:  # swap the topic
            text = rng.pick("CAEPRUXZ") + text[1:]
    return text


def frame_text(rng, unused=""):
    """A text frame: 1-3 messages, each mutated or not. Messages of topics in
    `unused` get topic Z instead (see run_core)."""
    parts = []
    for _ in range(1 + rng.below(3)):
        msg = wire(rng.pick(CORPUS))
        if rng.below(8):
            msg = mutate(rng, msg)
        parts.append(msg)
    text = "".join(parts)
    if unused:
        i = 0
        while i >= 0:
            if i < len(text) and text[i] in unused:
                text = text[:i] + "Z" + text[i + 1:]
            i = text.find("\x1e", i)
            if i >= 0:
                i += 1
    return text


# ---- client core ---------------------------------------------------------

class Core:
    def __init__(self, target):
        from deepstream.testing import FakeLink
        self.target = target
        self.link = link = FakeLink(subscription_timeout=200, rpc_ack_timeout=300,
                                    rpc_response_timeout=500, record_read_timeout=500,
                                    record_read_ack_timeout=500, heartbeat_interval=1000000)
        self.got = []
        link.open()
        link.login()
        c = link.client
        c.event.subscribe("fz/a", self.got.append)
        c.event.subscribe("fz/b", self.got.append)
        if target == "events":
            c.event.listen("fz/.*", self._on_listen)
            c.rpc.provide("fz/rpc", self._on_rpc)
            c.rpc.make("fz/call", 1, lambda err, res: None)
        elif target == "records":
            rec = c.record.get_record("fz/rec")
            rec.subscribe("b", lambda v: None)
            c.record.listen("fz/.*", self._on_listen)
        else:
            c.presence.subscribe(lambda name, online: None)
            c.presence.subscribe("alice", lambda name, online: None)
            c.presence.get_all(lambda names: None)
        link.sent()

    def _on_listen(self, name, is_subscribed, response):
        if response is not None:
            if len(name) & 1:
                response.accept()
            else:
                response.reject()

    def _on_rpc(self, data, response):
        if isinstance(data, str) and data.startswith("e"):
            response.error("no")
        else:
            response.send(data)

    def feed(self, text):
        self.link.conn.receive_text(text)
        self.link.pump()

    def alive(self):
        c = self.link.client
        return c.get_connection_state() == "OPEN"

    def check(self, n):
        """A valid event must reach its subscription."""
        del self.got[:]
        value = "check-%d" % n
        self.feed(wire("E|EVT|fz/a|S") + value + "\x1e")
        if self.got != [value]:
            return "valid event not delivered: %r" % (self.got,)
        return None


# Topics of handlers a target does not use. The client imports a topic's
# handler on the first message of that topic, even an unsolicited one (the
# record module alone is ~19 KB): at 96K both sets do not fit at once.
UNUSED = {"events": "RU", "records": "PU", "presence": "PR"}


MODULES = {"events": ("rpc", "listener"), "records": ("jsonpath", "record_base", "record_core", "record"),
           "presence": ("presence",)}


def preload(target):
    """Import what a target needs one module at a time, collecting between:
    at 96K one big burst of imports can fail on fragmentation alone."""
    import gc
    for name in ("testing",) + MODULES[target]:
        gc.collect()
        __import__("deepstream." + name)
    gc.collect()


def run_core(target, seed, count):
    preload(target)
    rng = Rng(seed)
    core = Core(target)
    errors = resets = 0
    unused = UNUSED[target]
    for n in range(count):
        text = frame_text(rng, unused)
        try:
            core.feed(text)
            if rng.below(16) == 0:
                core.link.advance(rng.below(700))  # let timers fire (ack/rpc/read timeouts)
        except Exception as err:  # the client let an exception out: a bug
            return fail(target, seed, n, text, "%s: %s" % (type(err).__name__, err))
        link = core.link
        for event, msg, topic in link.errors:
            if not (isinstance(event, str) and isinstance(msg, str) and isinstance(topic, str)):
                return fail(target, seed, n, text, "error event with non-text fields %r" % ((event, msg, topic),))
        errors += len(link.errors)
        del link.errors[:]
        del link.frames[:]
        if n % 64 == 63 or not core.alive():
            if core.alive():
                problem = core.check(n)
                if problem:
                    return fail(target, seed, n, text, problem)
            else:  # closed or redirected by the input: a fresh client
                resets += 1
                core = None
                core = Core(target)
    return report(target, seed, count, errors, resets)


def fail(target, seed, n, data, why):
    text = repr(data)
    print("FAIL fuzz %s seed=%d input=%d: %s; input=%s" % (target, seed, n, why, text[:400]))
    return 1


def report(target, seed, count, errors, resets):
    print("fuzz %s seed=%d inputs=%d errors=%d resets=%d ok" % (target, seed, count, errors, resets))
    return 0


def main(argv):
    target, seed, count = argv[1], int(argv[2]), int(argv[3])
    if target == "ws":
        from fuzz_mp_ws import run_ws  # a module of its own: less heap for the core targets
        return run_ws(seed, count)
    if target == "binary":
        from fuzz_mp_bin import run_binary
        return run_binary(seed, count)
    return run_core(target, seed, count)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
