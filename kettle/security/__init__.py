"""Authentication and authorization: FastAPI's security schemes, tokens, passwords."""
