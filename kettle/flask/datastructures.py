"""``werkzeug.datastructures``: kettle's multi-value mappings, headers and uploads."""

from kettle.datastructures import Headers, MultiDict
from kettle.datastructures import MultiDict as ImmutableMultiDict
from kettle.filestorage import FileStorage
from kettle.http import Accept, Authorization, MIMEAccept

__all__ = [
    "Accept",
    "Authorization",
    "FileStorage",
    "Headers",
    "ImmutableMultiDict",
    "MIMEAccept",
    "MultiDict",
]
