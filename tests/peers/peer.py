"""Peers nobody in tcpkit wrote: plain Python sockets, for interop tests.

Usage: python3 peer.py MODE [PORT]
  reset_server          listen on 127.0.0.1:0, print the port, accept one client,
                        read a line, then reset the connection (SO_LINGER 0)
  reset_client PORT     connect, wait for a greeting, send a line, then reset
  echo_server           listen on 127.0.0.1:0, print the port, echo one client
                        until it half-closes, then close
  echo_client PORT      send stdin, half-close, print what comes back
  text_client PORT ENCODING TEXT
                        send TEXT in ENCODING, print the reply decoded, until the
                        server closes or 2 s pass quietly
  select_server ENCODING REPLY
                        a non-blocking select() server for many clients: prints
                        "ADDRESS: text" for each message, answers REPLY
  proxy_tls_client PORT CAFILE
                        send a PROXY v1 header and the TLS ClientHello in one
                        write (as a balancer may), finish the handshake for
                        localhost, send "hello\n", print the line that comes back
"""
import select
import socket
import ssl
import struct
import sys


def proxy_tls_client(port, cafile):
    conn = socket.create_connection(("127.0.0.1", port))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    context = ssl.create_default_context(cafile=cafile)
    tls = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    header = b"PROXY TCP4 203.0.113.7 198.51.100.1 40001 443\r\n"
    first = True
    while True:
        try:
            tls.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        out = outgoing.read()
        conn.sendall(header + out if first else out)
        first = False
        if done:
            break
        data = conn.recv(65536)
        if not data:
            sys.exit("closed during the handshake")
        incoming.write(data)
    tls.write(b"hello\n")
    conn.sendall(outgoing.read())
    reply = b""
    while not reply.endswith(b"\n"):
        try:
            reply += tls.read(65536)
        except ssl.SSLWantReadError:
            data = conn.recv(65536)
            if not data:
                break
            incoming.write(data)
    sys.stdout.write(reply.decode())
    conn.close()


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def listen():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    print(server.getsockname()[1], flush=True)
    return server


def main():
    mode = sys.argv[1]
    if mode == "reset_server":
        conn, _ = listen().accept()
        conn.recv(1024)
        reset(conn)
    elif mode == "reset_client":
        conn = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
        conn.recv(1024)
        conn.sendall(b"hello\n")
        reset(conn)
    elif mode == "reset_storm":
        # Connects and resets at once, N times: peers gone before the server knows them.
        for _ in range(int(sys.argv[3])):
            reset(socket.create_connection(("127.0.0.1", int(sys.argv[2]))))
    elif mode == "echo_server":
        conn, _ = listen().accept()
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
        conn.close()
    elif mode == "echo_client":
        conn = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
        conn.sendall(sys.stdin.buffer.read())
        conn.shutdown(socket.SHUT_WR)
        while True:
            data = conn.recv(65536)
            if not data:
                break
            sys.stdout.buffer.write(data)
        conn.close()
    elif mode == "text_client":
        encoding, text = sys.argv[3], sys.argv[4]
        conn = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
        conn.settimeout(2)
        conn.sendall(text.encode(encoding))
        reply = b""
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                reply += data
        except socket.timeout:
            pass
        sys.stdout.write(reply.decode(encoding))
        conn.close()
    elif mode == "select_server":
        encoding, reply = sys.argv[2], sys.argv[3].encode(sys.argv[2])
        server = listen()
        server.setblocking(False)
        clients = {}
        while True:
            readable, _, _ = select.select([server, *clients], [], [])
            for sock in readable:
                if sock is server:
                    conn, addr = server.accept()
                    conn.setblocking(False)
                    clients[conn] = f"{addr[0]}:{addr[1]}"
                    continue
                data = sock.recv(65536)
                if not data:
                    del clients[sock]
                    sock.close()
                    continue
                print(f"{clients[sock]}: {data.decode(encoding).rstrip()}", flush=True)
                sock.sendall(reply)
    elif mode == "proxy_tls_client":
        proxy_tls_client(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(f"unknown mode {mode}")


main()
