"""Redaction: find and track faces, plan what to hide, render a redacted copy. Qt-free.

Frames come decoded from the encrypted recording through the loopback server into memory;
nothing here writes a frame, a crop or any appearance feature to disk."""
