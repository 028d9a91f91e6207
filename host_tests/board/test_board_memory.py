"""Calls that promise never to raise keep that promise when the heap is exhausted
(issue 22, defect 1), on the emulated board: each module that an error, offline or
reconnect path loads on first use may find no heap for itself. device/memory.py fills
the heap to a small reserve, then takes the path; the library as .mpy files, and the
error path also from ROMFS (the issue saw it there, at 32K).
"""
import pytest

from support.board import PROTOCOLS, BoardRun, board_url
from support.tcpproxy import TcpProxy


def run_path(path, url, romfs=False, reserve=2048):
    """reserve: the bytes left free, as small as the path takes to fail before its fix
    (from ROMFS loading a module takes less heap: error_print.py fits in 2 KB there)."""
    return BoardRun("memory.py", [path, url, reserve], romfs=romfs, timeout=90).start()


def raised(run):
    return run.matching(r"^@raised ")


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("path", ["connect", "lost"])
def test_poll_while_the_link_is_down(ds_server, protocol, path):
    """client.poll(): a failed attempt's text (first_contact.py); a lost link's reconnect
    (handshake.py, unloaded while the link was up)."""
    proxy = TcpProxy(ds_server.port).start()
    try:
        if path == "connect":
            proxy.reject()
        run = run_path(path, board_url(proxy, protocol))
        if path == "lost":
            run.wait_line(r"^@filled", timeout=60)
            proxy.reject()
            proxy.cut()
            run.send("go")
        run.wait_line(r"^@released", timeout=60)
        proxy.restore()
        run.send("go")
        run.wait_line(r"^@done", timeout=60)
        rc = run.finish()
        assert not raised(run), run.output()
        assert rc == 0 and run.output().count("@open") == (2 if path == "lost" else 1), run.output()
        filled = run.output().split("@filled", 1)[1].split("@released", 1)[0]
        if path == "connect":  # the attempts on the full heap were reported all the same
            assert "@error connectionError" in filled, run.output()
        else:  # the lost link was noticed, and the client reconnected once it could
            assert "@state RECONNECTING" in run.output().split("@filled", 1)[1], run.output()
        assert run.output().split("@released", 1)[1].count("@state OPEN") == 1, run.output()
    finally:
        proxy.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("romfs", [False, True], ids=["files", "romfs"])
def test_an_error_nobody_listens_to(ds_server, romfs, protocol):
    """client._error() prints an error nobody listens to (error_print.py)."""
    run = run_path("error", board_url(ds_server, protocol), romfs=romfs, reserve=512)
    rc = run.finish()
    assert not raised(run), run.output()
    assert rc == 0 and run.matching(r"^@done"), run.output()
    before, after = run.output().split("@released", 1)
    assert "INVALID_AUTH_MSG" in before, run.output()  # printed, if more plainly
    assert "deepstream: INVALID_AUTH_MSG (X): authParams is not an object" in after


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_emit_offline_past_the_frame_buffer(ds_server, protocol):
    """emit(): what the frame buffer cannot hold goes to the send queue (offline.py)."""
    run = run_path("emit", board_url(ds_server, protocol))
    rc = run.finish()
    assert not raised(run), run.output()
    assert rc == 0 and run.matching(r"^@done"), run.output()
    before, after = run.output().split("@released", 1)
    assert "@error MESSAGE_DROPPED" in before, run.output()  # dropped, counted, said
    assert "@queued True" in after and "MESSAGE_DROPPED" not in after, run.output()
