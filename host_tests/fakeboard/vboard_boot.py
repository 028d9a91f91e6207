# The virtual board's boot sequence (run by `micropython -i`, which then gives the REPL):
# boot.py, then main.py, from the current directory (the board's filesystem), as a board does.
import os


def _run(name):
    try:
        os.stat(name)
    except OSError:
        return
    with open(name) as f:
        code = f.read()
    exec(code, {"__name__": "__main__"})


_run("boot.py")
if not os.getenv("VBOARD_SKIP_MAIN"):  # set after a soft reset from the raw REPL
    _run("main.py")
del _run
