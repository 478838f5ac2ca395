"""The encrypted container: age v1 files, seekable, with durable recordings and recovery.

See docs/FORMAT.md. Depends on nothing else in the project but the base error class.
"""

from .errors import (
    EncryptionError,
    HeaderError,
    HeaderMacError,
    IdentityFileError,
    NoIdentityMatchError,
    PayloadError,
    RecoveryError,
    SignatureError,
    UnfinishedError,
    WrongPassphraseError,
)
from .files import (
    PRIVATE_FILE,
    PRIVATE_FOLDER,
    DurableEncryptedFile,
    atomic_encrypted_writer,
    atomic_file,
    make_tree_private,
    partial_path,
    private_folder,
    write_encrypted,
)
from .identity_file import UserKeys, is_encrypted_identity, load_identity_file, save_identity_file
from .keys import (
    Identity,
    Recipient,
    ScryptIdentity,
    ScryptRecipient,
    X25519Identity,
    X25519Recipient,
    parse_identities,
)
from .recovery import RecoveryResult, recover, recoverable_bytes
from .signing import SigningKey, VerifyKey
from .stream import CHUNK_SIZE, AgeReader, AgeWriter, iter_decrypt, read_encrypted

__all__ = [
    "CHUNK_SIZE",
    "AgeReader",
    "AgeWriter",
    "DurableEncryptedFile",
    "EncryptionError",
    "HeaderError",
    "HeaderMacError",
    "Identity",
    "IdentityFileError",
    "NoIdentityMatchError",
    "PayloadError",
    "Recipient",
    "RecoveryError",
    "RecoveryResult",
    "ScryptIdentity",
    "ScryptRecipient",
    "SignatureError",
    "SigningKey",
    "UnfinishedError",
    "UserKeys",
    "VerifyKey",
    "WrongPassphraseError",
    "X25519Identity",
    "X25519Recipient",
    "atomic_encrypted_writer",
    "atomic_file",
    "make_tree_private",
    "private_folder",
    "PRIVATE_FILE",
    "PRIVATE_FOLDER",
    "is_encrypted_identity",
    "iter_decrypt",
    "load_identity_file",
    "parse_identities",
    "partial_path",
    "read_encrypted",
    "recover",
    "recoverable_bytes",
    "save_identity_file",
    "write_encrypted",
]
