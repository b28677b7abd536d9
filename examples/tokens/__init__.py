"""A token-auth API: OAuth2 password flow, JWTs, scopes, users in SQLite."""
