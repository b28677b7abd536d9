"""``fastapi.datastructures`` (and ``starlette.datastructures``)."""

from kettle.datastructures import URL, Address, Headers, MutableHeaders, QueryParams, State
from kettle.forms import FormData, UploadFile

__all__ = [
    "URL",
    "Address",
    "FormData",
    "Headers",
    "MutableHeaders",
    "QueryParams",
    "State",
    "UploadFile",
]
