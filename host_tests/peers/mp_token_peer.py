"""Fresh credentials peer (issue 21), run on the MicroPython unix port by
test_e2e_relogin.py: the docs/FIRMWARE.md pattern, a device that reads its
password (a token) from a file before every login.

Prints `login <ok> <data>` for every login answer and `error <event> <message>`
for every error; exits after `logins` answers or 30 s.
    micropython host_tests/peers/mp_token_peer.py URL TOKEN_FILE LOGINS
"""
import json
import sys
import time

from deepstream import Client

url, token_file, wanted = sys.argv[1], sys.argv[2], int(sys.argv[3])


def credentials():
    with open(token_file) as f:
        return {"username": "dev1", "password": f.read().strip()}


answers = []


def on_login(ok, data):
    answers.append(ok)
    print("login", ok, json.dumps(data))


client = Client(url, reconnect_interval_increment=200, max_reconnect_attempts=100)
client.on("error", lambda msg, event, topic: print("error", event, msg))
client.login(credentials, on_login)
deadline = time.ticks_add(time.ticks_ms(), 30000)
while len(answers) < wanted and time.ticks_diff(deadline, time.ticks_ms()) > 0:
    client.poll(20)
client.close()
client.poll(50)
