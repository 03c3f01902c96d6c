"""The SQLite dialect of the database engine: FTS5 tables, compiler, facets."""
