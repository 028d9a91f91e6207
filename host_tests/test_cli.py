"""The command-line client (`python -m deepstream`, lib/deepstream/cli.py) end to end:
the real @deepstream/server 7.0.2, the official JS client of the same protocol on the
other side (2.3.4 text, 7.0.5 binary). Every test that talks to a server runs on both
protocols (the URL's path chooses: /deepstream-v3 text, /deepstream binary);
--protocol and DEEPSTREAM_PROTOCOL override the path."""
import json
import signal
import subprocess
import sys
import time

import pytest

from support.cli import CliProcess, cli_env, run_cli
from support.dsserver import PATHS, die_with_parent, free_port

SUBCOMMANDS = ("sub", "pub", "rpc", "record", "presence", "listen")


def wait_listen(js, pattern, subscribed=True):
    return js.wait_for(lambda n: n["kind"] == "listen" and n["pattern"] == pattern
                       and n["isSubscribed"] is subscribed)


# ---- help and arguments -----------------------------------------------------------


def test_help_names_every_command_the_environment_and_exit_codes():
    r = run_cli(["--help"])
    assert r.returncode == 0, r.stderr
    for word in SUBCOMMANDS + ("DEEPSTREAM_URL", "DEEPSTREAM_PROTOCOL", "DEEPSTREAM_AUTH", "exit codes",
                               "--count", "--protocol", "default ws://127.0.0.1:6020/deepstream)"):
        assert word in r.stdout
    for args in (["sub"], ["rpc", "make"], ["rpc", "provide"], ["record", "get"],
                 ["record", "set"], ["record", "watch"], ["presence"], ["listen"], ["pub"]):
        r = run_cli(args + ["--help"])
        assert r.returncode == 0 and "--url" in r.stdout and "--protocol" in r.stdout, (args, r.stderr)


@pytest.mark.parametrize("args, says", [
    (["pub", "news", "on"], "not JSON: on"),                    # text without JSON quotes
    (["sub"], "EVENT"),                                          # no event name
    (["--auth", "[1]", "presence"], "auth must be a JSON object"),
    (["sub", "--count", "0", "x"], "positive whole number"),
    (["record", "set", "r", "a", "b", "1"], "NAME [PATH] JSON"),
    (["record", "set", "r", "{bad"], "not JSON"),
    ([], "COMMAND"),
    (["--url", "http://127.0.0.1:1/x", "presence"], "ws:// or wss://"),
    (["--protocol", "v3", "presence"], "invalid choice: 'v3'"),
])
def test_bad_arguments_exit_2_with_a_message(args, says):
    r = run_cli(args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert says in r.stderr
    assert "Traceback" not in r.stderr


def test_bad_deepstream_auth_in_the_environment_is_named():
    r = run_cli(["presence"], env={"DEEPSTREAM_AUTH": "user=me"})
    assert r.returncode == 2 and "DEEPSTREAM_AUTH" in r.stderr, r.stderr


def test_bad_deepstream_protocol_in_the_environment_is_named():
    r = run_cli(["presence"], env={"DEEPSTREAM_PROTOCOL": "v3"})
    assert r.returncode == 2 and "DEEPSTREAM_PROTOCOL" in r.stderr and "'v3'" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_protocol_flag_and_environment_override_the_url_path(ds_server, js_client):
    """By default /deepstream-v3 means text and /deepstream binary; --protocol (or
    DEEPSTREAM_PROTOCOL) wins over the path: binary on the text endpoint cannot
    connect (exit 3, and the error says why), auto finds out either endpoint."""
    js = js_client(login=True)
    js.event_subscribe("cli/protocol")
    js.sync()
    text, binary = ds_server.url_for("text"), ds_server.url_for("binary")
    for args, env in ((["--protocol", "binary"], {}), ([], {"DEEPSTREAM_PROTOCOL": "binary"})):
        r = run_cli(args + ["pub", "cli/protocol", "0"], url=text, env=env)
        assert r.returncode == 3 and "speaks deepstream's text protocol" in r.stderr, (args, env, r.stderr)
    r = run_cli(["--protocol", "text", "pub", "cli/protocol", "1"], url=text, env={"DEEPSTREAM_PROTOCOL": "binary"})
    assert r.returncode == 0, r.stderr  # the flag wins over the environment
    for n, url in ((2, text), (3, binary)):
        r = run_cli(["pub", "cli/protocol", str(n), "--protocol", "auto"], url=url)
        assert r.returncode == 0, (url, r.stderr)
    assert [js.wait_event("cli/protocol") for _ in range(3)] == [1, 2, 3]


def test_an_invalid_name_is_refused_before_sending(protocol, ds_server):
    r = run_cli(["pub", "bad\x1fname", "1"], url=ds_server.url_for(protocol))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr


def test_no_server_exits_3_naming_the_url(protocol):
    url = "ws://127.0.0.1:%d%s" % (free_port(), PATHS[protocol])
    r = run_cli(["--url", url, "pub", "x", "1"])
    assert r.returncode == 3, r.stderr
    assert "Can't connect! Deepstream server unreachable on " + url in r.stderr  # the reference text
    assert "Traceback" not in r.stderr


# ---- events ------------------------------------------------------------------------


def test_pub_reaches_a_js_subscriber(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    js.event_subscribe("cli/pub")
    js.sync()
    r = run_cli(["pub", "cli/pub", '{"led": "on", "n": [1, 2.5, null, true]}'], url=ds_server.url_for(protocol))
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert js.wait_event("cli/pub") == {"led": "on", "n": [1, 2.5, None, True]}
    r = run_cli(["--url", ds_server.url_for(protocol), "pub", "cli/pub"])  # no data: JS sees undefined
    assert r.returncode == 0, r.stderr
    assert js.wait_event("cli/pub") is None


def test_sub_prints_js_events_as_json_lines_and_stops_after_count(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    js.event_listen("cli/sub/.*")  # tells us when the command's subscriptions are in place
    with CliProcess(["sub", "--count", "3", "cli/sub/a", "cli/sub/b"], url=ds_server.url_for(protocol)) as p:
        names = {wait_listen(js, "cli/sub/.*")["name"], wait_listen(js, "cli/sub/.*")["name"]}
        assert names == {"cli/sub/a", "cli/sub/b"}
        js.event_emit("cli/sub/a", "text")
        assert p.next_line() == {"event": "cli/sub/a", "data": "text"}
        js.event_emit("cli/sub/b", {"t": 21.5})
        js.event_emit("cli/sub/a", 3)
        assert p.next_line() == {"event": "cli/sub/b", "data": {"t": 21.5}}
        assert p.next_line() == {"event": "cli/sub/a", "data": 3}
        assert p.wait() == 0, p.stderr
        assert p.stderr == ""


def test_ctrl_c_ends_sub_cleanly(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    js.event_listen("cli/ctrlc")
    with CliProcess(["sub", "cli/ctrlc"], url=ds_server.url_for(protocol)) as p:
        wait_listen(js, "cli/ctrlc")
        js.sync()  # our accept has reached the server: only an accepted listener is told of the end
        assert p.interrupt() == 0
        assert p.stderr == ""
        # our close reached the server: the subscription went away with the client
        wait_listen(js, "cli/ctrlc", subscribed=False)


def test_sigterm_ends_as_cleanly_as_ctrl_c(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    js.event_listen("cli/term")
    with CliProcess(["sub", "cli/term"], url=ds_server.url_for(protocol)) as p:
        wait_listen(js, "cli/term")
        assert p.interrupt(signal.SIGTERM) == 0
        assert "Traceback" not in p.stderr


def test_sub_into_a_closed_pipe_ends_quietly(protocol, ds_server, js_client, tmp_path):
    js = js_client(protocol=protocol, login=True)
    js.event_listen("cli/pipe")
    # `deepstream sub ... | head -n 1`: head leaves after one line, the next write fails
    script = ('%s -m deepstream sub cli/pipe 2>%s | head -n 1 >%s; echo ${PIPESTATUS[0]} >%s'
              % (sys.executable, tmp_path / "err", tmp_path / "out", tmp_path / "rc"))
    shell = subprocess.Popen(["bash", "-c", script], env=cli_env(ds_server.url_for(protocol)),
                             preexec_fn=die_with_parent)
    try:
        wait_listen(js, "cli/pipe")
        for i in range(20):  # until the command's second write meets the closed pipe
            js.event_emit("cli/pipe", i)
            try:
                shell.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
        assert shell.wait(timeout=10) == 0
    finally:
        if shell.poll() is None:
            shell.kill()
    assert (tmp_path / "out").read_text() == '{"event": "cli/pipe", "data": 0}\n'
    assert (tmp_path / "rc").read_text().strip() == "0"
    assert (tmp_path / "err").read_text() == ""


def test_listen_prints_js_subscriptions_and_accepts(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    with CliProcess(["listen", "--count", "2", "cli/listen/.*"], url=ds_server.url_for(protocol)) as p:
        # whichever comes first: the server tells a new listener of existing subscriptions
        js.event_subscribe("cli/listen/x")
        first = p.next_line()
        assert first == {"pattern": "cli/listen/.*", "name": "cli/listen/x", "subscribed": True}
        # the command accepts right after printing; the server sends SR only to a listener
        # whose accept it has processed, and nothing outside the command can observe that
        time.sleep(0.5)
        js.event_unsubscribe("cli/listen/x")
        assert p.next_line() == {"pattern": "cli/listen/.*", "name": "cli/listen/x",
                                 "subscribed": False}
        assert p.wait() == 0, p.stderr


def test_listen_record_subscriptions(protocol, ds_server, js_client):
    with CliProcess(["listen", "--record", "--count", "1", "cli/rlisten/.*"], url=ds_server.url_for(protocol)) as p:
        js = js_client(protocol=protocol, login=True)
        js.record_subscribe("cli/rlisten/1")
        js.record_get("cli/rlisten/1")
        assert p.next_line(timeout=10) == {"pattern": "cli/rlisten/.*", "name": "cli/rlisten/1",
                                           "subscribed": True}
        assert p.wait() == 0, p.stderr


# ---- RPC -----------------------------------------------------------------------------


def test_rpc_make_prints_the_js_providers_answer(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    js.rpc_provide("cli/add", behaviour="add")
    js.rpc_provide("cli/fail", behaviour="error", message="no such led")
    js.sync()
    r = run_cli(["rpc", "make", "cli/add", '{"a": 2, "b": 40}'], url=ds_server.url_for(protocol))
    assert (r.returncode, r.stdout, r.stderr) == (0, "42\n", "")
    r = run_cli(["rpc", "make", "cli/fail", "1"], url=ds_server.url_for(protocol))
    assert r.returncode == 1 and "no such led" in r.stderr, r.stderr
    r = run_cli(["rpc", "make", "cli/nobody"], url=ds_server.url_for(protocol))
    assert r.returncode == 1 and "NO_RPC_PROVIDER" in r.stderr, r.stderr


def test_ctrl_c_during_a_one_shot_command_exits_130(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    js.rpc_provide("cli/silent", behaviour="ignore")
    js.sync()
    with CliProcess(["rpc", "make", "cli/silent"], url=ds_server.url_for(protocol)) as p:
        js.wait_rpc("cli/silent")  # the request is out and will never be answered
        assert p.interrupt() == 130
        assert "Traceback" not in p.stderr


def test_no_answer_within_timeout_exits_3(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    js.rpc_provide("cli/slow", behaviour="ignore")
    js.sync()
    r = run_cli(["--timeout", "0.5", "rpc", "make", "cli/slow"], url=ds_server.url_for(protocol))
    assert r.returncode == 3 and "no answer to rpc 'cli/slow' within 0.5s" in r.stderr, r.stderr


def make_until_provided(js, name, data):
    """rpc.make from JS, again while the command's provide is not registered yet."""
    end = time.monotonic() + 10
    while time.monotonic() < end:
        error, result = js.rpc_make(name, data)
        if error != "NO_RPC_PROVIDER":
            return error, result
        time.sleep(0.05)
    raise AssertionError("the command never provided %s" % name)


def test_rpc_provide_echoes_and_prints_requests(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    with CliProcess(["rpc", "provide", "--count", "2", "cli/echo"], url=ds_server.url_for(protocol)) as p:
        assert make_until_provided(js, "cli/echo", {"x": [1]}) == (None, {"x": [1]})
        assert p.next_line() == {"rpc": "cli/echo", "data": {"x": [1]}}
        assert js.rpc_make("cli/echo", "two") == (None, "two")
        assert p.next_line() == {"rpc": "cli/echo", "data": "two"}
        assert p.wait() == 0, p.stderr


def test_rpc_provide_answers_a_fixed_json(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    with CliProcess(["rpc", "provide", "cli/fixed", '{"ok": true}'], url=ds_server.url_for(protocol)) as p:
        assert make_until_provided(js, "cli/fixed", 7) == (None, {"ok": True})
        assert p.next_line() == {"rpc": "cli/fixed", "data": 7}
        assert p.interrupt() == 0, p.stderr


# ---- records --------------------------------------------------------------------------


def test_record_set_and_get_with_a_js_client(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    url = ds_server.url_for(protocol)
    rec = "cli/rec/" + protocol  # one server for both protocols: a record of each's own
    r = run_cli(["record", "set", rec, '{"config": {"interval": 5}, "pets": ["a"]}'], url=url)
    assert (r.returncode, r.stderr) == (0, "")
    assert js.record_get(rec) == {"config": {"interval": 5}, "pets": ["a"]}
    r = run_cli(["record", "set", rec, "config.interval", "10"], url=url)
    assert r.returncode == 0, r.stderr
    js.record_subscribe(rec, "config.interval")
    js.record_set(rec, "b", path="pets[1]", ack=True)
    r = run_cli(["record", "get", rec], url=url)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"config": {"interval": 10}, "pets": ["a", "b"]}
    r = run_cli(["record", "get", rec, "pets[1]"], url=url)
    assert (r.returncode, r.stdout) == (0, '"b"\n')
    r = run_cli(["record", "get", rec, "nothing.here"], url=url)
    assert r.returncode == 1 and "no value at 'nothing.here'" in r.stderr


def test_record_get_of_a_missing_record_exits_1_and_creates_nothing(protocol, ds_server, js_client):
    r = run_cli(["record", "get", "cli/never-written"], url=ds_server.url_for(protocol))
    assert r.returncode == 1 and "'cli/never-written' does not exist" in r.stderr, r.stderr
    js = js_client(protocol=protocol, login=True)
    assert js.record_head("cli/never-written") == (None, -1)


def test_record_watch_prints_now_and_on_js_changes(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    rec = "cli/watch/" + protocol
    js.record_set(rec, {"status": "idle"}, ack=True)
    with CliProcess(["record", "watch", "--count", "1", rec], url=ds_server.url_for(protocol)) as p:
        first = p.next_line()
        assert first["record"] == rec and first["data"] == {"status": "idle"}
        js.record_set(rec, "busy", path="status")
        second = p.next_line()
        assert second["data"] == {"status": "busy"}
        assert second["version"] == first["version"] + 1
        assert p.wait() == 0, p.stderr


def test_record_watch_of_a_path(protocol, ds_server, js_client):
    js = js_client(protocol=protocol, login=True)
    rec = "cli/watchpath/" + protocol
    with CliProcess(["record", "watch", rec, "a.b"], url=ds_server.url_for(protocol)) as p:
        assert p.next_line() == {"record": rec, "version": 0, "data": None,
                                 "path": "a.b"}
        js.record_set(rec, 5, path="a.b")
        assert p.next_line()["data"] == 5
        assert p.interrupt() == 0


# ---- presence, auth -------------------------------------------------------------------


def test_presence_lists_then_follows(protocol, ds_server_factory, js_client):
    srv = ds_server_factory()  # our own server: nobody else is online
    js_client(srv.url_for(protocol), login={"username": "alice"})
    r = run_cli(["presence", "--once"], url=srv.url_for(protocol))
    assert (r.returncode, r.stdout) == (0, '{"user": "alice", "online": true}\n'), r.stderr
    with CliProcess(["presence", "--count", "2"], url=srv.url_for(protocol)) as p:
        assert p.next_line() == {"user": "alice", "online": True}
        bob = js_client(srv.url_for(protocol), login={"username": "bob"})
        assert p.next_line() == {"user": "bob", "online": True}
        bob.close()
        assert p.next_line() == {"user": "bob", "online": False}
        assert p.wait() == 0, p.stderr


def test_auth_from_flag_and_environment_and_a_refused_login(protocol, ds_server_factory, js_client):
    srv = ds_server_factory(auth={"dev": {"password": "pw"}})
    js = js_client(srv.url_for(protocol), login={"username": "dev", "password": "pw"})
    js.event_subscribe("cli/auth")
    js.sync()
    good = '{"username": "dev", "password": "pw"}'
    r = run_cli(["--auth", good, "pub", "cli/auth", "1"], url=srv.url_for(protocol))
    assert r.returncode == 0, r.stderr
    assert js.wait_event("cli/auth") == 1
    r = run_cli(["pub", "cli/auth", "2"], url=srv.url_for(protocol), env={"DEEPSTREAM_AUTH": good})
    assert r.returncode == 0, r.stderr
    assert js.wait_event("cli/auth") == 2
    r = run_cli(["pub", "cli/auth", "3", "-a", '{"username": "dev", "password": "no"}'],
                url=srv.url_for(protocol))
    assert r.returncode == 4 and "login refused" in r.stderr, r.stderr


def test_permission_denied_exits_1(protocol, ds_server_factory):
    srv = ds_server_factory(permissions={"event": {"*": {"publish": True, "subscribe": False,
                                                         "listen": True}}})
    r = run_cli(["sub", "cli/denied"], url=srv.url_for(protocol))
    assert r.returncode == 1 and "permission denied" in r.stderr, r.stderr
