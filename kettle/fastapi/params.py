"""``fastapi.params``."""

from kettle.params import Body, Cookie, Depends, File, Form, Header, Param, Path, Query, Security

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "Header",
    "Param",
    "Path",
    "Query",
    "Security",
]
