"""A small server-rendered blog built with kettle's Flask-style API.

The package holds the app factory (``app.py``), the database helpers (``db.py``) and the
``auth`` and ``blog`` blueprints. Serve it from the repository root with::

    kettle run examples/blog/app.py:app
"""
