"""Whether the site can listen where it was asked to, checked before serving.

uvicorn only finds out after ``paperwire serve`` has printed "Serving on …"
and then exits with a bare bind error; checking first lets the command say
what is wrong and what to do instead.
"""

from __future__ import annotations

import errno
import socket


def port_problem(host: str, port: int) -> str | None:
    """A sentence saying why ``host:port`` cannot be listened on, or ``None`` if it can.

    The probe binds the way uvicorn does (``SO_REUSEADDR``), so a port held
    only by connections in TIME_WAIT counts as free, as it is for uvicorn.
    """
    if not 0 < port < 65536:
        return f"port {port} is out of range (1-65535)"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {host!r}: {exc.strerror or exc}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except PermissionError:
            return f"not allowed to listen on port {port} (ports below 1024 need root); pick another with --port"
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"port {port} on {host} is already in use (another paperwire or another program is "
                        f"listening there); stop it or pick another port with --port")
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None
