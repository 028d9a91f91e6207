# Runs first on every boot. Kept tiny: the app starts from main.py.
import micropython

micropython.alloc_emergency_exception_buf(100)  # tracebacks from interrupt handlers
