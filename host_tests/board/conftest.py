"""The board tier: the library and the firmware on the emulated board (tools/board.py)
against the real server. Skipped, with the reason, when no firmware is given."""
import os

import pytest

from support.board import skip_reason


def pytest_collection_modifyitems(config, items):
    given = os.environ.get("BOARD_FIRMWARE")
    if given and not os.path.isfile(given):  # a firmware named but not there: say so, do not skip
        raise pytest.UsageError("BOARD_FIRMWARE=%s: no such file" % given)
    reason = skip_reason()
    if reason is None:
        return
    mark = pytest.mark.skip(reason=reason)
    for item in items:
        if "/host_tests/board/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(mark)
