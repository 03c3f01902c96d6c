"""The PostgreSQL dialect of the database engine: weighted ``tsvector``, GIN, tiers, facets."""
