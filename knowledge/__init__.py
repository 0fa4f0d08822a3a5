"""Sales Coach knowledge: content files, their schema, the SQLite store and the coaching engine."""
