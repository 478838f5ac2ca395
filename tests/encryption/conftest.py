import pytest

from encryption import X25519Identity


@pytest.fixture(scope="session")
def identity() -> X25519Identity:
    return X25519Identity.generate()


@pytest.fixture(scope="session")
def other_identity() -> X25519Identity:
    return X25519Identity.generate()
