"""``fastapi.encoders``."""

from kettle.encoders import jsonable_encoder

__all__ = ["jsonable_encoder"]
