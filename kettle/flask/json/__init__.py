"""``flask.json``: the app's JSON provider's functions, and ``jsonify``."""

from kettle.helpers import jsonify
from kettle.jsonprovider import dump, dumps, load, loads

__all__ = ["dump", "dumps", "jsonify", "load", "loads"]
