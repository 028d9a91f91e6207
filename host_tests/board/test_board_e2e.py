"""The library on the emulated board against the real 7.0.2 server and the official JS
client: events both ways and a burst of 5,000 with no poll() (then flush()), RPC both
ways, records both ways, presence; the heap figures of the run are printed (-s).
One boot (device/e2e.py) for all of it."""
import time

import pytest

from support.board import PROTOCOLS, BoardRun, board_url

BURST = 5000


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_library_on_the_board(ds_server, js_client, protocol):
    name = "e2e-" + protocol
    js = js_client(login={"username": "js-observer"})
    js.event_subscribe("board/%s/burst" % name)
    js.rpc_provide("board/%s/add" % name, behaviour="add")
    js.sync()
    run = BoardRun("e2e.py", [board_url(ds_server, protocol), name], timeout=150).start()
    try:
        run.wait_line(r"^@ready", timeout=60)
        ctl = "board/%s/ctl" % name
        # events to the board, and a burst from it
        js.event_emit("board/%s/in" % name, {"n": 1})
        run.wait_line(r'^@in \{"n": 1\}', timeout=10)
        js.event_emit(ctl, "burst %d" % BURST)
        line = run.wait_line(r"^@burst ", timeout=90)
        _, n, ms, lowest, flushed = line.split()
        assert flushed == "True", line
        seen = wait_events(js, "board/%s/burst" % name, BURST)
        assert seen == list(range(BURST))
        # RPC both ways
        assert js.rpc_make("board/%s/double" % name, 21, timeout=10) == (None, 42)
        run.wait_line(r"^@rpc 21$", timeout=5)
        js.event_emit(ctl, "rpc [1, 2, 3]")
        assert run.wait_line(r"^@result ", timeout=10) == "@result null 6"
        # records both ways
        js.record_set("board/%s/rec" % name, "from-js", path="in")
        run.wait_line(r'^@rec "from-js"$', timeout=10)
        js.record_subscribe("board/%s/rec" % name, path="out")
        js.event_emit(ctl, 'set "from-board"')
        assert js.wait_record("board/%s/rec" % name, path="out", timeout=10) == "from-board"
        # presence: the board sees js-NAME come and go
        other = js_client(login={"username": "js-" + name})
        run.wait_line(r"^@presence js-%s True$" % name, timeout=10)
        other.close()
        run.wait_line(r"^@presence js-%s False$" % name, timeout=10)
        js.event_emit(ctl, "quit")
        run.wait_line(r"^@done", timeout=10)
        assert run.finish() == 0, run.output()
        assert not run.matching(r"^@error"), run.output()
        heap = dict(line.split()[1:] for line in run.matching(r"^@heap "))
        print("board heap free: after import %s, after login %s, lowest in the burst %s; burst %s ms"
              % (heap["import"], heap["login"], lowest, ms))
    finally:
        run.kill()


def wait_events(js, topic, n, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        seen = [note["data"] for note in list(js.history) if note["kind"] == "event" and note["name"] == topic]
        if len(seen) >= n or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)
