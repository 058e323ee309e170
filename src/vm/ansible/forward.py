# In deploylab's Ansible control container: makes each VM's SSH answer at
# 127.0.0.1:<its published port> as it does on the student's machine, so
# the inventory deploylab wrote (and any copy of it) works unchanged here.
# Arguments: PORT=HOST:PORT ... Binds every port, then goes to the
# background: when it returns, the ports answer.
import os
import socket
import sys
import threading


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listener, target):
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(target, timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()


listeners = []
for spec in sys.argv[1:]:
    port, target = spec.split("=", 1)
    host, target_port = target.rsplit(":", 1)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(port)))
    listener.listen(16)
    listeners.append((listener, (host, int(target_port))))

if os.fork():
    os._exit(0)
os.setsid()
threads = [threading.Thread(target=serve, args=pair, daemon=True) for pair in listeners]
for t in threads:
    t.start()
for t in threads:
    t.join()
