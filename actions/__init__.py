"""Rasa SDK action server: thin adapters from trackers to the coaching engine in knowledge/engine."""
