"""The team store: cases shared through an S3-compatible object store (docs/FORMAT.md §12).

The store only ever holds age ciphertext under opaque names. This package is Qt-free and
imports its S3 client (boto3) only when a store is actually used.
"""
