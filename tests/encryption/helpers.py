import io
import os

from encryption import AgeWriter, X25519Identity


def encrypt_bytes(data: bytes, *identities: X25519Identity) -> bytes:
    sink = io.BytesIO()
    writer = AgeWriter(sink, [i.recipient for i in identities])
    writer.write(data)
    writer.close()
    return sink.getvalue()


def patterned(size: int) -> bytes:
    """Plaintext where every 4-byte word says its own offset: misplaced bytes show."""
    words = (size + 3) // 4
    return b"".join(i.to_bytes(4, "big") for i in range(words))[:size]


def random_bytes(size: int) -> bytes:
    return os.urandom(size)
