"""Reading lists: ordered, sectioned, annotated lists of catalogue pieces, shared and exported."""
