"""A host name that does not resolve is named in the connectionError, and said not to
resolve, on both runtimes and both drivers (issue 22, defect 3; on the board:
host_tests/board/test_board_connect.py). Before, the text ended in the resolver's
bare error, e.g. `cannot connect to ws://no-such-host.invalid:6020/x: -2`."""
import json
import subprocess
import sys

import pytest

from support.mp import LIB

URL = "ws://no-such-host.invalid:6020/deepstream-v3"
# a client that runs until done() or 5 s: argv[1] is the driver, "poll" or "aio"
RUN = r"""
if sys.argv[1] == "poll":
    for _ in range(100):
        client.poll(50)
        if done():
            break
else:
    import asyncio
    async def main():
        task = client.start()
        for _ in range(100):
            await asyncio.sleep(0.05)
            if done():
                break
        client.close()
        await asyncio.sleep(0.05)
    asyncio.run(main())
"""
SCRIPT = r"""
import json, sys
from deepstream import Client
errors = []
client = Client(%r, max_reconnect_attempts=0, connect_timeout=5000)
client.on("error", lambda message, event, topic: errors.append([event, message]))
done = lambda: errors
""" % URL + RUN + "print(json.dumps(errors))\n"


@pytest.mark.parametrize("driver", ["poll", "aio"])
@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_an_unknown_host_is_named(runtime, driver, run_micropython, tmp_path):
    if runtime == "micropython":
        rc, out, err = run_micropython(SCRIPT, heap="256K", args=[driver])
    else:
        p = subprocess.run([sys.executable, "-c", SCRIPT, driver], capture_output=True, text=True,
                           timeout=60, env={"PYTHONPATH": LIB, "PATH": "/usr/bin:/bin"})
        rc, out, err = p.returncode, p.stdout, p.stderr
    assert rc == 0, out + err
    errors = json.loads(out.strip().splitlines()[-1])
    text = [m for e, m in errors if e == "connectionError"][0]
    assert text.startswith("cannot connect to %s: no-such-host.invalid did not resolve" % URL), text


RESOLVES = r"""
import json, sys
from deepstream import Client
url, dns = sys.argv[2], sys.argv[3]
states = []
client = Client(url, dns_server=dns, max_reconnect_attempts=0, connect_timeout=5000)
client.on("connectionStateChanged", states.append)
client.on("error", lambda message, event, topic: states.append(event + ": " + message))
client.login({"username": "resolver"})
done = lambda: "OPEN" in states
""" + RUN + "client.close()\nprint(json.dumps(states))\n"


@pytest.mark.parametrize("driver", ["poll", "aio"])
@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_dns_server_resolves_with_our_own_query(runtime, driver, run_micropython, ds_server):
    """dns_server: the client's own query (deepstream/dns.py), on the host's runtimes too."""
    from support.dnsserver import DnsServer
    dns = DnsServer({"deepstream.test": "127.0.0.1"}).start()
    try:
        url = ds_server.url.replace("127.0.0.1", "deepstream.test")
        args = [driver, url, "127.0.0.1:%d" % dns.port]
        if runtime == "micropython":
            rc, out, err = run_micropython(RESOLVES, heap="256K", args=args)
        else:
            p = subprocess.run([sys.executable, "-c", RESOLVES] + args, capture_output=True, text=True,
                               timeout=60, env={"PYTHONPATH": LIB, "PATH": "/usr/bin:/bin"})
            rc, out, err = p.returncode, p.stdout, p.stderr
        assert rc == 0, out + err
        states = json.loads(out.strip().splitlines()[-1])
        assert "OPEN" in states, states
        assert dns.queries == {"deepstream.test": 1}
    finally:
        dns.close()
