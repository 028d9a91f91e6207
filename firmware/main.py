# Runs after boot.py: read config.json, then run the device app (firmware/app.py)
# with this board's module (boards/<BOARD>/board.py, deployed as board.py).
import sys

import settings

try:
    cfg = settings.load("config.json")
except settings.ConfigError as err:
    cfg = None
    print("main.py: not starting the app:", err)
del settings
sys.modules.pop("settings", None)  # its code is not needed any more: give the heap back

if cfg is not None:
    import board
    import app

    app.main(cfg, board)
