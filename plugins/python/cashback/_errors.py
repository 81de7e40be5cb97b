"""Exceptions of the cashback package: each carries the SDK status."""

__all__ = ["Error", "ConfigError", "ClickError", "FieldError",
           "SpoolError", "NetworkError", "NotFoundError"]


class Error(Exception):
    """A libcashback failure.

    status: the SDK status number (include/cashback.h), status_text its
    text, keyword: the Python argument it is about ("" for none), detail:
    the SDK's detail (never a secret).
    """

    def __init__(self, status, status_text, keyword, detail):
        self.status = status
        self.status_text = status_text
        self.keyword = keyword
        self.detail = detail
        text = detail or status_text
        super().__init__("%s: %s" % (keyword, text) if keyword else text)


class ConfigError(Error):
    """Bad or missing configuration (CASHBACK_E_CONFIG)."""


class ClickError(Error):
    """A click cookie or token is expired, tampered with or malformed."""


class FieldError(Error, ValueError):
    """An event field is invalid (amount, currency, field, too big)."""


class SpoolError(Error, OSError):
    """The event could not be stored (spool full, disk full, I/O)."""


class NetworkError(Error):
    """The network could not be reached or refused the events."""


class NotFoundError(Error, LookupError):
    """No such quarantined event (CASHBACK_E_NOT_FOUND)."""


_CLASSES = {3: ConfigError, 5: ClickError, 6: ClickError, 7: ClickError,
            1: FieldError, 8: FieldError, 9: FieldError, 10: FieldError,
            11: FieldError, 17: SpoolError, 19: SpoolError, 20: SpoolError,
            21: NetworkError, 22: NetworkError, 23: NetworkError,
            24: NetworkError, 25: NetworkError, 27: NetworkError,
            26: NotFoundError}

# The SDK's field names that a Python keyword of cashback.Client.sale() etc.
# gives under another name.
_KEYWORDS = {"amount_minor": "amount", "voucher": "vouchers"}


def keyword(key):
    """The Python keyword for an SDK field key."""
    if key.startswith("meta."):
        return "meta[%r]" % key[5:]
    return _KEYWORDS.get(key, key)


def make(status, status_text, key, detail):
    """Called by cashback._native: the exception for a failed call."""
    kw = keyword(key) if key else ""
    cls = _CLASSES.get(status, Error)
    if key in ("config", "connection", "env"):
        cls = ConfigError  # a file that cannot be read is a configuration error
    return cls(status, status_text, kw, detail)
