"""Test harness helpers (CPython only): real server, official JS client, MicroPython runner."""
