"""``werkzeug.security``: password hashes in Werkzeug's format, and ``safe_join``."""

from kettle.helpers import safe_join
from kettle.security.hashes import check_password_hash, gen_salt, generate_password_hash

__all__ = ["check_password_hash", "gen_salt", "generate_password_hash", "safe_join"]
