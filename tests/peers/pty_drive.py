"""Drives a command through a real pseudo-terminal, as a person would.

Usage: python3 pty_drive.py STEPS_JSON COMMAND [ARGS...]
STEPS_JSON is a list of ["expect", REGEX] (wait up to 10 s for the screen
output to match) and ["send", TEXT] (type TEXT). Prints one JSON object:
{"transcript": ..., "code": exit code or null, "error": ... if an expect failed}.
"""
import json
import os
import pty
import re
import select
import signal
import sys
import time

steps = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])

out = b""


def read_for(seconds):
    global out
    end = time.time() + seconds
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not ready:
            return
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        out += data
        yield


error = None
seen = 0
for kind, arg in steps:
    if kind == "send":
        os.write(fd, arg.encode())
        continue
    pattern = re.compile(arg)
    match = pattern.search(out.decode(errors="replace"), seen)
    if not match:
        for _ in read_for(10):
            match = pattern.search(out.decode(errors="replace"), seen)
            if match:
                break
    if not match:
        error = f"timed out waiting for {arg!r}"
        break
    seen = match.end()

code = None
if error is None:
    for _ in read_for(10):
        pass
    end = time.time() + 10
    while time.time() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        time.sleep(0.05)
if code is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print(json.dumps({"transcript": out.decode(errors="replace"), "code": code, "error": error}))
