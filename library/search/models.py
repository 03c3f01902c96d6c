"""No Django models: the index tables are SQLite virtual tables created by this app's migration.

The module exists so that Django sends this app ``post_migrate`` (it skips apps without a
models module), which indexes pieces that predate the search tables (see apps.py).
"""
