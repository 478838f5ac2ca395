"""Errors of the encrypted container, one per failure a reader must tell apart."""

from vferrors import VideofeedbackError


class EncryptionError(VideofeedbackError):
    """Something about an encrypted file or a key is wrong."""


class HeaderError(EncryptionError):
    """The age header does not parse or breaks the specification."""


class NoIdentityMatchError(EncryptionError):
    """The header is fine, but none of the given identities can open it."""


class WrongPassphraseError(NoIdentityMatchError):
    """A passphrase-protected file did not open with the passphrase given."""


class HeaderMacError(EncryptionError):
    """A key unwrapped, but the header's MAC does not match: the header was altered."""


class PayloadError(EncryptionError):
    """The encrypted content fails to verify: altered, truncated, extended or unfinished."""


class UnfinishedError(PayloadError):
    """The content stops without its final chunk: truncated, or a recording never sealed."""


class IdentityFileError(EncryptionError):
    """An identity or recipient cannot be read."""


class RecoveryError(EncryptionError):
    """An unfinished file cannot be recovered."""


class SignatureError(EncryptionError):
    """A signature does not verify."""
