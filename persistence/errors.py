"""Translating PyMongo's transaction failures into the domain's retry signal."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError, PyMongoError

TRANSIENT_LABEL = "TransientTransactionError"


def is_transient(error: BaseException) -> bool:
    return isinstance(error, PyMongoError) and error.has_error_label(TRANSIENT_LABEL)


def is_duplicate_key(error: BaseException) -> bool:
    return isinstance(error, DuplicateKeyError)
