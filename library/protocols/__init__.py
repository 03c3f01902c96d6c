"""Open protocols: the catalogue as machines read it.

Embedded metadata (Highwire ``citation_*`` tags, Dublin Core, COinS, schema.org JSON-LD)
and unAPI for reference managers, Atom/RSS feeds, OAI-PMH for library harvesters, the
sitemap, robots.txt and the OpenSearch description. Each protocol is its own module; the
pieces themselves are read through the catalogue models and never written here.
"""
