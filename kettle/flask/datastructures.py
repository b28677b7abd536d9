"""``werkzeug.datastructures``: kettle's multi-value mappings, headers and uploads."""

from kettle.datastructures import Headers, MultiDict
from kettle.datastructures import MultiDict as ImmutableMultiDict
from kettle.filestorage import FileStorage

__all__ = ["FileStorage", "Headers", "ImmutableMultiDict", "MultiDict"]
