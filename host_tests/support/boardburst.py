"""One burst on the board (device/burst.py) watched by a JS subscriber: shared by
host_tests/board/test_board_heap.py and tools/bench_board.py."""
import threading
import time

from support.board import BoardRun, board_url

TOPIC = "board/burst/out"


def burst(server, js, n=5000, heap=None, romfs=False, protocol="text", timeout=120):
    """Run it; returns (exit code, {"import", "login", "lowest", "ms", "received"}, run)."""
    js.event_subscribe(TOPIC)
    js.sync()
    js.clear()
    run = BoardRun("burst.py", [board_url(server, protocol), n], heap=heap, romfs=romfs,
                   timeout=timeout).start()
    done = threading.Event()

    def acker():  # acknowledges once all n arrived (or the run ended)
        while not done.is_set():
            if len(js.notifications("event")) >= n:
                js.event_emit("board/burst/ack", True)
                return
            time.sleep(0.05)
    threading.Thread(target=acker, daemon=True).start()
    try:
        rc = run.finish()
    finally:
        done.set()
    figures = {"received": len([x for x in js.notifications("event") if x["name"] == TOPIC])}
    for line in run.matching(r"^@heap "):
        _, what, free = line.split()
        figures[what] = int(free)
    for line in run.matching(r"^@burst "):
        _, _, ms, lowest, _ = line.split()
        figures["ms"], figures["lowest"] = int(ms), int(lowest)
    figures["acked"] = bool(run.matching(r"^@acked"))
    return rc, figures, run
