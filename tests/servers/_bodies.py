"""Test payloads shared by the real-server tests."""

from __future__ import annotations

import hashlib
import os
import random

KiB = 1024
MiB = 1024 * KiB


def blob(size: int, seed: int) -> bytes:
    """Deterministic bytes that contain CR, LF and dashes, so boundaries are really searched for."""
    rng = random.Random(seed)
    base = bytes(rng.getrandbits(8) for _ in range(4096)) + b"\r\n--\r\n--"
    return (base * (size // len(base) + 1))[:size]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(path: os.PathLike[str] | str, data: bytes) -> str:
    with open(path, "wb") as out:
        out.write(data)
    return str(path)


PHOTO = blob(3 * MiB + 17, 1)
SMALL = blob(1000, 2)
EMPTY = b""
