"""A one-port door into a network namespace, for tests (issue 20).

``python tests/nsrelay.py NETNS PORT`` listens on the host's 127.0.0.1 (a free port, printed
on the first line of stdout), then enters namespace NETNS (``/run/netns/NETNS``) and relays
every connection to 127.0.0.1:PORT inside it. The bastion's sshd is the only thing in the
namespace the host can reach this way; the lab devices behind it have no door.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import sys

CLONE_NEWNET = 0x40000000


def enter(netns: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {netns}: {os.strerror(err)}")
    finally:
        os.close(fd)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def serve(listener: socket.socket, port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            inner_reader, inner_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, inner_writer), pipe(inner_reader, writer))

    server = await asyncio.start_server(handle, sock=listener)
    async with server:
        await server.serve_forever()


def main() -> None:
    netns, port = sys.argv[1], int(sys.argv[2])
    listener = socket.socket()  # created before setns: it stays in the host's namespace
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    enter(netns)  # sockets created from now on (the relayed connections) are inside
    print(listener.getsockname()[1], flush=True)
    asyncio.run(serve(listener, port))


if __name__ == "__main__":
    main()
