"""Plain-Python coaching engine: identification, reply scoring, coaching answers, practice."""
