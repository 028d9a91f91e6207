# Runs first on every boot. Kept tiny: the app starts from main.py.
import micropython

if hasattr(micropython, "alloc_emergency_exception_buf"):  # all boards; not the unix port
    micropython.alloc_emergency_exception_buf(100)  # tracebacks from interrupt handlers
