"""Holds many idle TCP connections open from one process, for the memory test.

Usage: python3 idle_clients.py PORT COUNT [MAX_SECONDS]

Opens COUNT connections to 127.0.0.1:PORT with non-blocking connects (at
most 500 in flight), sends one byte on each and waits for its echo, then
prints `ready N` (N connections echoed). Each line on stdin then prints
`open N`: how many are still open (neither closed nor reset by the server).
It exits when stdin ends or after MAX_SECONDS (default 60), closing every
connection.
"""
import errno
import resource
import selectors
import socket
import sys
import time


def is_open(sock):
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    deadline = time.monotonic() + (float(sys.argv[3]) if len(sys.argv) > 3 else 60.0)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    sel = selectors.DefaultSelector()
    alive, started, failed, in_flight = [], 0, 0, 0
    while len(alive) + failed < count and time.monotonic() < deadline:
        while started < count and in_flight < 500:
            started += 1
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            if sock.connect_ex(("127.0.0.1", port)) not in (0, errno.EINPROGRESS):
                sock.close()
                failed += 1
                continue
            sel.register(sock, selectors.EVENT_WRITE, "connecting")
            in_flight += 1
        for key, _ in sel.select(timeout=0.1):
            sock = key.fileobj
            if key.data == "connecting":
                try:
                    ok = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
                    ok = ok and sock.send(b"x") == 1
                except OSError:
                    ok = False
                if ok:
                    sel.modify(sock, selectors.EVENT_READ, "echo")
                    continue
            else:
                try:
                    ok = sock.recv(1) == b"x"
                except OSError:
                    ok = False
            sel.unregister(sock)
            in_flight -= 1
            if ok:
                alive.append(sock)
            else:
                sock.close()
                failed += 1
    print(f"ready {len(alive)}", flush=True)

    stdin = selectors.DefaultSelector()
    stdin.register(sys.stdin, selectors.EVENT_READ)
    while stdin.select(timeout=max(0.0, deadline - time.monotonic())) and sys.stdin.readline():
        print(f"open {sum(1 for sock in alive if is_open(sock))}", flush=True)
    for sock in alive:
        sock.close()


if __name__ == "__main__":
    main()
