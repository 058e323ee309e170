# The built-in cluster's kube-proxy for one Service: listens on each of
# the Service's ports and forwards every connection to a ready endpoint
# (pod address and target port), read from the endpoints file the API
# server keeps current. Other pods reach it by the Service's DNS names.
import asyncio
import json
import random
import sys

TABLE = "/svc/endpoints.json"


def targets(port):
    try:
        with open(TABLE) as f:
            return json.load(f).get(str(port), [])
    except (OSError, ValueError):
        return []


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def handle(port, reader, writer):
    choices = targets(port)
    random.shuffle(choices)
    for host, target in choices:
        try:
            upstream = await asyncio.wait_for(asyncio.open_connection(host, target), 3)
            break
        except (OSError, asyncio.TimeoutError):
            continue
    else:
        writer.close()
        return
    up_reader, up_writer = upstream
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def main():
    servers = []
    for port in (int(p) for p in sys.argv[1:]):
        serve = lambda r, w, p=port: handle(p, r, w)
        servers.append(await asyncio.start_server(serve, "0.0.0.0", port))
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main())
