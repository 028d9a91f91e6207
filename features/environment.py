"""behave hooks: test servers, the runtime under test, error bookkeeping.

    DS_RUNTIME=cpython behave features        (default)
    DS_RUNTIME=micropython behave features    (MICROPYTHON=path/to/micropython)

Runtime tags: `@cpython_only` / `@micropython_only` on a scenario (or feature)
means it cannot run on the other runtime. The reason must be given in the
scenario's description (text lines under the `Scenario:` line); it is printed
when the scenario is skipped.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (HERE, os.path.join(ROOT, "lib")):
    if p not in sys.path:
        sys.path.insert(0, p)

from support.harness import FIRST_PORT, SECOND_PORT, describe_errors, unseen_errors  # noqa: E402
from support.runtime import RUNTIMES, Recorder  # noqa: E402
from support.test_server import TestServer  # noqa: E402

ONLY_TAGS = {"cpython_only": "cpython", "micropython_only": "micropython"}


def before_all(context):
    runtime = os.environ.get("DS_RUNTIME", "cpython").strip().lower() or "cpython"
    if runtime not in RUNTIMES:
        raise SystemExit(f"DS_RUNTIME must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    context.runtime = runtime
    context.first_server = TestServer(FIRST_PORT)
    context.second_server = TestServer(SECOND_PORT)
    try:
        context.first_server.start()
    except OSError as exc:
        raise SystemExit(f"test server: cannot listen on port {FIRST_PORT} ({exc}); another behave "
                         f"run? DS_FIRST_PORT / DS_SECOND_PORT choose other ports") from exc
    sys.__stderr__.write(f"[behave] client runtime: {runtime}\n")


def _runtime_skip_reason(context, scenario):
    tags = set(scenario.effective_tags)
    for tag, runtime in ONLY_TAGS.items():
        if tag in tags and context.runtime != runtime:
            why = " ".join(line.strip() for line in (scenario.description or [])).strip()
            if not why and scenario.feature is not None:
                why = " ".join(line.strip() for line in (scenario.feature.description or [])).strip()
            if not why:
                raise AssertionError(
                    f"{scenario.location}: @{tag} needs a reason in the scenario description")
            return f"@{tag} ({context.runtime}): {why}"
    return None


def before_scenario(context, scenario):
    reason = _runtime_skip_reason(context, scenario)
    if reason:
        sys.__stderr__.write(f"\n[behave] SKIP {scenario.location} {scenario.name}: {reason}\n")
        sys.__stderr__.flush()
        scenario.skip(reason=reason)
        return
    first, second = context.first_server, context.second_server
    first.start()
    first.close_connections()
    second.stop()
    first.reset()
    second.reset()
    context.server = first
    context.recorder = Recorder()
    context.client = None
    context.errors_seen = 0
    context.uid = None


def after_scenario(context, scenario):
    client = getattr(context, "client", None)
    try:
        if client is not None and scenario.status.name == "passed":
            left = unseen_errors(context)
            if left:
                scenario.set_status("failed")
                msg = (f"{scenario.location}: the client raised errors that no step checked: "
                       f"{describe_errors(left)}")
                raise AssertionError(msg)
    finally:
        if client is not None:
            client.shutdown()
            context.client = None


def after_all(context):
    for server in (getattr(context, "first_server", None), getattr(context, "second_server", None)):
        if server is not None:
            server.stop()
