"""The type stubs (lib/deepstream/*.pyi, py.typed): the pinned mypy accepts a typed
program that uses the whole API and catches the mistakes of another, and the stubs
agree with the runtime API (mypy's stubtest), so that an API change without a stub
change fails here."""
import ast
import os
import re
import shutil
import subprocess
import sys


HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LIB = os.path.join(REPO, "lib")
PKG = os.path.join(LIB, "deepstream")
TYPING = os.path.join(HERE, "typing")
ALLOWLIST = os.path.join(HERE, "stubtest_allowlist.txt")
ERROR_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<text>.*?)\s+\[(?P<code>[a-z-]+)\]$")


def mypy(*args, lib=LIB):
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                        "--cache-dir", os.devnull, "--python-version", "3.11", "--show-error-codes",
                        "--no-error-summary", "--no-color-output"] + list(args),
                       capture_output=True, text=True, cwd=REPO,
                       env=dict(os.environ, MYPYPATH=lib, PYTHONPATH=""), timeout=300)
    return r


def test_mypy_is_the_pinned_one():
    with open(os.path.join(REPO, "requirements.txt")) as f:
        pinned = re.search(r"^mypy==(\S+)$", f.read(), re.M).group(1)
    import mypy.version
    assert mypy.version.__version__ == pinned


def test_a_program_using_the_whole_api_type_checks():
    r = mypy(os.path.join(TYPING, "uses_the_api.py"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""


def expected_errors(path):
    """{line: {codes}} from the `# E: code [code...]` marks."""
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if "# E:" in line:
                out[n] = set(line.split("# E:")[1].split())
    return out


def test_mistakes_fail_for_the_expected_reasons():
    path = os.path.join(TYPING, "mistakes.py")
    r = mypy(path)
    assert r.returncode == 1, r.stdout + r.stderr
    got = {}
    for line in r.stdout.splitlines():
        m = ERROR_LINE.match(line)
        if m:
            assert m.group("file").endswith("mistakes.py"), line  # never in the stubs
            got.setdefault(int(m.group("line")), set()).add(m.group("code"))
        else:
            assert ": note:" in line, line
    want = expected_errors(path)
    assert len(want) >= 20
    assert got == want, "\n" + r.stdout


def stubtest(lib=LIB, tmp=None):
    """mypy.stubtest over the package. Modules without a .pyi are internal: their own
    type errors and their runtime names are not the stubs' business."""
    internal = sorted(f[:-3] for f in os.listdir(os.path.join(lib, "deepstream"))
                      if f.endswith(".py") and not os.path.exists(os.path.join(lib, "deepstream", f[:-3] + ".pyi")))
    assert "client" not in internal and "connection" in internal
    config = os.path.join(tmp, "stubtest.ini")
    with open(config, "w") as f:
        f.write("[mypy]\n\n[mypy-%s]\nignore_errors = True\n" % ",".join("deepstream." + m for m in internal))
    allow = os.path.join(tmp, "allowlist.txt")
    with open(ALLOWLIST) as src, open(allow, "w") as f:
        f.write(src.read() + "".join("deepstream\\.%s(\\..*)?\n" % m for m in internal))
    return subprocess.run([sys.executable, "-m", "mypy.stubtest", "deepstream", "--mypy-config-file", config,
                           "--allowlist", allow, "--ignore-unused-allowlist"],
                          capture_output=True, text=True, cwd=tmp, timeout=300,
                          env=dict(os.environ, MYPYPATH=lib, PYTHONPATH=lib))


def test_stubs_and_runtime_agree(tmp_path):
    r = stubtest(tmp=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_allowlist_names_real_things():
    """A stale allowlist entry would hide a future disagreement."""
    sys.path.insert(0, LIB)
    try:
        for entry in open(ALLOWLIST).read().split("\n"):
            entry = entry.strip()
            if not entry or entry.startswith("#"):
                continue
            parts = entry.split(".")
            module = __import__(".".join(parts[:2]), None, None, ["x"])
            parent, obj = None, module
            for name in parts[2:]:
                parent, obj = obj, getattr(obj, name, None)
            if obj is not None:
                continue
            with open(os.path.join(PKG, parts[1] + ".pyi")) as f:
                stub = f.read()
            if isinstance(parent, type):  # an instance attribute served by __getattr__
                assert "__getattr__" in vars(parent), entry
                assert re.search(r"^    def %s\(" % parts[-1], stub, re.M), entry
            else:  # stub-only: a type alias in the module's .pyi
                assert re.search(r"^%s: TypeAlias = " % parts[-1], stub, re.M), entry
    finally:
        sys.path.remove(LIB)


def test_stubtest_notices_an_api_change_without_a_stub(tmp_path):
    """The guard works: a method added to Client, and a stub without a runtime twin."""
    lib = tmp_path / "lib"
    shutil.copytree(LIB, lib, ignore=shutil.ignore_patterns("__pycache__"))
    with open(lib / "deepstream" / "client.py", "a") as f:
        f.write("\n    def added_later(self, timeout_ms=1000):\n        return True\n")
    with open(lib / "deepstream" / "rpc.pyi", "a") as f:
        f.write("\ndef only_in_the_stub() -> None: ...\n")
    r = stubtest(lib=str(lib), tmp=str(tmp_path))
    assert r.returncode == 1
    assert "deepstream.client.Client.added_later is not present in stub" in r.stdout, r.stdout
    assert "deepstream.rpc.only_in_the_stub is not present at runtime" in r.stdout, r.stdout


# ---- the parts stubtest cannot see ----------------------------------------------------


def stub_tree(name):
    with open(os.path.join(PKG, name + ".pyi")) as f:
        return ast.parse(f.read())


def test_the_options_typeddict_lists_every_option_with_its_type():
    sys.path.insert(0, LIB)
    try:
        from deepstream.options import DEFAULTS
    finally:
        sys.path.remove(LIB)
    cls = [n for n in stub_tree("options").body if isinstance(n, ast.ClassDef) and n.name == "Options"][0]
    fields = {n.target.id: ast.unparse(n.annotation) for n in cls.body if isinstance(n, ast.AnnAssign)}
    assert sorted(fields) == sorted(DEFAULTS), "options.pyi Options and options.DEFAULTS differ"
    for key, default in DEFAULTS.items():
        annotation = fields[key]
        if default is None:
            assert annotation.startswith("Optional["), (key, annotation)
        else:
            assert annotation == type(default).__name__, (key, annotation, default)


def raised_error_names():
    """The error event names the library raises by a literal: the event argument of
    _error(message, event, topic), report_error(event, ...) and acks.add(..., event)."""
    consts, trees = {}, {}
    for f in sorted(os.listdir(PKG)):
        if f.endswith(".py") and f != "errors.py":
            with open(os.path.join(PKG, f)) as src:
                trees[f] = tree = ast.parse(src.read())
            for n in tree.body:
                if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) \
                        and isinstance(n.value.value, str) and isinstance(n.targets[0], ast.Name):
                    consts[n.targets[0].id] = n.value.value
    names = {}
    for f, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                index = {"_error": 1, "report_error": 0, "add": 4}.get(node.func.attr)
                if index is None or len(node.args) <= index:
                    continue
                arg = node.args[index]
                value = arg.value if isinstance(arg, ast.Constant) else consts.get(getattr(arg, "id", None))
                if isinstance(value, str):
                    names.setdefault(value, f)
            elif isinstance(node, ast.FunctionDef) and node.name == "add":  # add(..., event="ACK_TIMEOUT")
                args = node.args
                for a, d in zip(args.args[len(args.args) - len(args.defaults):], args.defaults):
                    if a.arg == "event" and isinstance(d, ast.Constant):
                        names.setdefault(d.value, f)
    return names


def test_errors_module_names_every_error_the_library_raises():
    sys.path.insert(0, LIB)
    try:
        from deepstream import errors
    finally:
        sys.path.remove(LIB)
    values = {v for k, v in vars(errors).items() if k.isupper()}
    raised = raised_error_names()
    for name in ("connectionError", "ACK_TIMEOUT", "CALLBACK_ERROR", "MESSAGE_TOO_LARGE"):
        assert name in raised  # the scan finds literals, defaults and module constants
    missing = {name: f for name, f in raised.items() if name not in values}
    assert not missing, "error events raised but not in deepstream/errors.py(i): %r" % missing
    for key, value in vars(errors).items():
        if key.isupper():
            assert value == key or (key, value) in (("CONNECTION_ERROR", "connectionError"),
                                                    ("REAUTHENTICATION_FAILURE", "reauthenticationFailure"))


def test_the_stubs_ship_with_a_py_typed_marker():
    assert os.path.isfile(os.path.join(PKG, "py.typed"))
    for f in ("client", "event", "record", "record_core", "record_list", "rpc", "presence",
              "options", "constants", "errors", "__init__"):
        assert os.path.isfile(os.path.join(PKG, f + ".pyi")), f
