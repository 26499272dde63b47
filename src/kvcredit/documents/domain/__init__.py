"""Pure rules of documents: what a file's bytes are, which kinds each object takes."""
