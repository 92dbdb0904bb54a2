"""Knowledge base: documents, parsing, chunking, index backends and search."""
