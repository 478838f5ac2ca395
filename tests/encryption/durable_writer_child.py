"""Child process for the crash test: writes a durable encrypted file until it is killed.

argv: path, recipient, seed. Prints "ready" once the header is durable, then after every
write the number of plaintext bytes already durable (sealed in complete, fsynced chunks).
"""

import random
import sys
from collections.abc import Iterator

from encryption import DurableEncryptedFile, X25519Recipient


def pieces(seed: int) -> Iterator[bytes]:
    """An endless stream of random-sized random writes, the same for the same seed."""
    rng = random.Random(seed)
    while True:
        yield rng.randbytes(rng.randint(1, 200_000))


def prefix(seed: int, size: int) -> bytes:
    out = bytearray()
    for piece in pieces(seed):
        if len(out) >= size:
            break
        out += piece
    return bytes(out[:size])


def main() -> None:
    path, recipient, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with DurableEncryptedFile(path, [X25519Recipient.parse(recipient)]) as file:
        print("ready", flush=True)
        for piece in pieces(seed):
            file.write(piece)
            print(file.durable_bytes, flush=True)


if __name__ == "__main__":
    main()
