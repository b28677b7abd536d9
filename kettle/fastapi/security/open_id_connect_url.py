"""``fastapi.security.open_id_connect_url``."""

from kettle.security.open_id_connect import OpenIdConnect

__all__ = ["OpenIdConnect"]
