"""Device settings: read config.json, fill in defaults, refuse bad values.

Every problem is a ConfigError whose message names the key, e.g.
    config.json: wifi.ssid must be a non-empty string (got 42)
Unknown keys are refused too: a typo must not silently fall back to a default.
See config.example.json and docs/FIRMWARE.md for the meaning of each key.
"""
import json
import os

PUBLISH_MIN = 0.05  # s: 20 readings a second per sensor is the most we allow

# key: (default, check); None as default means "optional, no value"
WIFI = {
    "ssid": (None, "text"),
    "password": ("", "str"),
    "country": (None, "country"),
    "hostname": (None, "text"),
    "power_save": (False, "bool"),
    "connect_timeout": (20, "seconds"),  # s per attempt before backing off
    "retry_max": (60, "seconds"),  # s: cap of the backoff between attempts
}
SERVER = {
    "url": (None, "url"),
    "auth": (None, "dict"),  # sent as-is to login(), e.g. {"username": "...", "password": "..."}
    "ca_file": (None, "file"),  # wss://: CA certificate (PEM/DER) to verify the server
    "options": (None, "dict"),  # extra client options (deepstream/options.py names)
}
TOP = {
    "wifi": (None, WIFI),
    "server": (None, SERVER),
    "device_id": (None, "device_id"),
    "interval": (5, "interval"),  # s between readings; live-changeable through the record
    "status_interval": (30, "seconds"),  # s between status updates in the record
    "watchdog_ms": (8000, "watchdog"),  # 0 disables the hardware watchdog (development)
    "led_pin": (None, "pin"),  # overrides the board module's LED pin
}
REQUIRED = ("wifi.ssid", "server.url")


class ConfigError(ValueError):
    pass


def _bad(name, expected, value):
    raise ConfigError("config.json: %s must be %s (got %r)" % (name, expected, value))


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check(name, kind, v):
    if kind == "str":
        if not isinstance(v, str):
            _bad(name, "a string", v)
    elif kind == "text":
        if not isinstance(v, str) or not v:
            _bad(name, "a non-empty string", v)
    elif kind == "bool":
        if not isinstance(v, bool):
            _bad(name, "true or false", v)
    elif kind == "dict":
        if not isinstance(v, dict):
            _bad(name, "an object", v)
    elif kind == "seconds":
        if not _number(v) or v < 1:
            _bad(name, "a number of seconds >= 1", v)
    elif kind == "interval":
        if not _number(v) or v < PUBLISH_MIN:
            _bad(name, "a number of seconds >= %s" % PUBLISH_MIN, v)
    elif kind == "watchdog":
        if not isinstance(v, int) or isinstance(v, bool) or (v != 0 and v < 1000):
            _bad(name, "0 (off) or milliseconds >= 1000", v)
    elif kind == "country":
        if not isinstance(v, str) or len(v) != 2 or not v.isalpha() or v.upper() != v:
            _bad(name, "a two-letter upper-case country code such as \"GB\"", v)
    elif kind == "url":
        if not isinstance(v, str) or not (v.startswith("ws://") or v.startswith("wss://")):
            _bad(name, "a ws:// or wss:// URL", v)
    elif kind == "device_id":
        if not isinstance(v, str) or not v or "/" in v or " " in v:
            _bad(name, "a non-empty string without '/' or spaces", v)
    elif kind == "pin":
        if not isinstance(v, (int, str)) or isinstance(v, bool):
            _bad(name, "a pin number or name", v)
    elif kind == "file":
        if not isinstance(v, str) or not v:
            _bad(name, "a file name", v)
        try:
            os.stat(v)
        except OSError:
            raise ConfigError("config.json: %s: file %r not found on the device" % (name, v))


def _section(prefix, spec, given):
    out = {}
    for key in given:
        if key not in spec:
            raise ConfigError("config.json: unknown key %r (known: %s)"
                              % (prefix + key, ", ".join(sorted(spec))))
    for key in spec:
        default, kind = spec[key]
        name = prefix + key
        if key not in given or given[key] is None:
            if isinstance(kind, dict):
                out[key] = None
            else:
                out[key] = default
            continue
        v = given[key]
        if isinstance(kind, dict):
            if not isinstance(v, dict):
                _bad(name, "an object", v)
            out[key] = _section(name + ".", kind, v)
        else:
            _check(name, kind, v)
            out[key] = v
    return out


def validate(raw):
    """Return the full settings (defaults filled in) or raise ConfigError."""
    if not isinstance(raw, dict):
        raise ConfigError("config.json must hold a JSON object")
    cfg = _section("", TOP, raw)
    for name in REQUIRED:
        section, key = name.split(".")
        if cfg[section] is None and section == "wifi":
            continue  # no "wifi" section at all: a board without WiFi (or already online)
        if cfg[section] is None or cfg[section][key] is None:
            raise ConfigError("config.json: %s is required" % name)
    if cfg["server"]["options"] is not None:
        from deepstream.options import merge
        try:
            merge(cfg["server"]["options"])
        except ValueError as err:
            raise ConfigError("config.json: server.options: %s" % err)
    return cfg


def load(path="config.json"):
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError:
        raise ConfigError("%s not found: copy config.example.json, fill it in and deploy it" % path)
    except ValueError as err:
        raise ConfigError("%s is not valid JSON: %s" % (path, err))
    return validate(raw)
