"""Where a message is understood: each user turn is read once into a Reading (engine/reading/turn.py), which the
dialogue's routing table (engine/dialogue.py) reads in priority order."""

from .turn import QUESTION, SHORT_LETTERS, Reader, Reading, TurnIdentifier, says, words

__all__ = ["QUESTION", "SHORT_LETTERS", "Reader", "Reading", "TurnIdentifier", "says", "words"]
