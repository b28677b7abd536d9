"""``fastapi.security.open_id_connect_url``, also under the shorter name."""

from kettle.security.open_id_connect import OpenIdConnect

__all__ = ["OpenIdConnect"]
