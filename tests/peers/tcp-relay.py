#!/usr/bin/env python3
"""A TCP relay whose link a test can cut and restore: a network outage
between ferry and a real peer, without touching the peer.

    tcp-relay.py TARGET_HOST TARGET_PORT PORT_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE once listening)
and copies bytes both ways to TARGET.  SIGUSR1 cuts the link: every open
connection is closed and new ones are closed as soon as accepted, so
clients see resets/EOF, as on a lost network.  SIGUSR2 restores it.  The
relay never looks into the bytes (TLS passes through unchanged).
"""
import os
import signal
import socket
import sys
import threading

host, port, port_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
down = False
open_socks = set()


def cut(_sig, _frame):
    global down
    with lock:
        down = True
        socks = list(open_socks)
        open_socks.clear()
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
    print("relay: link cut", flush=True)


def restore(_sig, _frame):
    global down
    with lock:
        down = False
    print("relay: link restored", flush=True)


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client):
    with lock:
        if down:
            client.close()
            return
    try:
        upstream = socket.create_connection((host, port))
    except OSError:
        client.close()
        return
    with lock:
        open_socks.update((client, upstream))
    a = threading.Thread(target=pump, args=(client, upstream), daemon=True)
    b = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    a.start()
    b.start()
    a.join()
    b.join()
    with lock:
        open_socks.discard(client)
        open_socks.discard(upstream)
    client.close()
    upstream.close()


def main():
    signal.signal(signal.SIGUSR1, cut)
    signal.signal(signal.SIGUSR2, restore)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)
    while True:
        try:
            client, _ = lsock.accept()
        except InterruptedError:
            continue
        threading.Thread(target=serve, args=(client,), daemon=True).start()


main()
