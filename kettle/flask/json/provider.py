"""``flask.json.provider``: ``app.json``'s classes."""

from kettle.jsonprovider import DefaultJSONProvider, JSONProvider

__all__ = ["DefaultJSONProvider", "JSONProvider"]
