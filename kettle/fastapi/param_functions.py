"""``fastapi.param_functions``: the parameter markers (``Query(...)``, ``Depends(...)``...)."""

from kettle.params import Body, Cookie, Depends, File, Form, Header, Path, Query, Security

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query", "Security"]
