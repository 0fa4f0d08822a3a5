"""Rasa SDK action server: one thin action that hands each turn to the engine's dialogue (knowledge/engine)."""
from knowledge.app import dialogue

# Load the engine (knowledge store and models) when the action server starts, so the first message of the day
# is answered as fast as any other (loading takes several seconds; measured by scripts/bench_engine.py).
dialogue()
