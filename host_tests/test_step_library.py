"""The behave step library itself, run on feature files that must fail: its error
bookkeeping is as strict as the vocabulary says (an error event that no `the client
throws ...` step looked at fails the scenario). The files live in a scratch copy
whose steps, support and environment are the project's own (symlinks)."""
import os
import re
import subprocess
import sys

import pytest

from support.dsserver import free_port
from support.mp import micropython_path

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEHAVE = os.path.join(os.path.dirname(sys.executable), "behave")

CONNECTED = """
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
"""
# a listen match for a pattern nobody listens to: an UNSOLICITED_MESSAGE error each time
STRAY = "When the server sends the message E|SP|unSupported|unSupported/1+"
LOOKED_AT = 'Then the client throws a "UNSOLICITED_MESSAGE" error with message "unSupported"'

FEATURE = f"""Feature: error bookkeeping

  Scenario: unseen
{CONNECTED}    {STRAY}

  Scenario: looked at
{CONNECTED}    {STRAY}
    {LOOKED_AT}

  Scenario: raised after the last look
{CONNECTED}    {STRAY}
    {LOOKED_AT}
    When the server sends the message E|SP|unSupported|unSupported/2+
"""


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_errors_no_step_looked_at_fail_the_scenario(tmp_path, runtime):
    features = tmp_path / "features"
    features.mkdir()
    os.symlink(os.path.join(REPO, "lib"), tmp_path / "lib")
    for name in ("environment.py", "steps", "support"):
        os.symlink(os.path.join(REPO, "features", name), features / name)
    (features / "bookkeeping.feature").write_text(FEATURE)
    mp = micropython_path()
    env = dict(os.environ, DS_RUNTIME=runtime, DS_FIRST_PORT=str(free_port()),
               DS_SECOND_PORT=str(free_port()), MICROPYTHON=mp,
               MPY_CROSS=os.environ.get("MPY_CROSS") or os.path.join(os.path.dirname(mp), "mpy-cross"))
    r = subprocess.run([BEHAVE, "-f", "plain", "--no-capture", "features"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    unseen = re.findall(r"bookkeeping\.feature:(\d+): the client raised errors that no step checked: "
                        r"UNSOLICITED_MESSAGE", out)
    failing = [str(i + 1) for i, line in enumerate(FEATURE.splitlines())
               if line.strip() in ("Scenario: unseen", "Scenario: raised after the last look")]
    assert unseen == failing, out
    assert re.search(r"1 scenario passed, 0 failed, 2 (hook_error|error)", out), out
