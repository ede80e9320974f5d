"""Linux clients run on the client machine (inside its network namespace).

    python -m harness.netclient tcp 198.18.0.2 8135

prints one JSON object: {"ok": true, "answer": "<first line the server sent>"} or
{"ok": false, "errno": 111, "error": "Connection refused"}; the exit status is 0 or 1.
Decisions are made on errno, never on the text.
"""

from __future__ import annotations

import json
import socket
import sys


def tcp(address: str, port: int, timeout: float = 10.0) -> dict[str, object]:
    """Connect, read the first line the server sends, close."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            data = b""
            while not data.endswith(b"\n") and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError as error:
        return {
            "ok": False,
            "errno": error.errno,
            "error": error.strerror or str(error),
        }
    return {"ok": True, "answer": data.decode("utf-8", "replace").strip()}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "tcp" or not argv[2].isdigit():
        print(json.dumps({"ok": False, "error": "usage: tcp ADDRESS PORT"}))
        return 2
    result = tcp(argv[1], int(argv[2]))
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
