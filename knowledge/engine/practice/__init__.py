"""Practice: the simulated customer, the scoring of a trainee's replies and sessions, and the trainer (quiz,
progress, leaderboard). The parts:

- state.py     the typed session state, stored as JSON in the user-data store
- customer.py  the customer's lines (type reactions, the scene, shared lines)
- trainee.py   what a message during a session is (command, question to the coach, out of role, a reply)
- scoring.py   one reply's quality as the customer hears it, and the session score
- summary.py   the line after each reply, hints, the rubric and the end-of-session summary
- session.py   Practice: one session from start to summary
- trainer.py   Trainer: quiz, progress, leaderboard
"""

from .customer import scenes
from .scoring import ScoreParts, final_score, score_parts, similarity
from .session import Practice
from .state import LineRef, Pool, SessionState, Turn
from .summary import excerpt
from .trainer import LEADERBOARD_MIN_SESSIONS, Trainer
from .tuning import STAGES, TUNING, Tuning

__all__ = [
    "LEADERBOARD_MIN_SESSIONS",
    "STAGES",
    "TUNING",
    "LineRef",
    "Pool",
    "ScoreParts",
    "Practice",
    "SessionState",
    "Trainer",
    "Tuning",
    "Turn",
    "excerpt",
    "final_score",
    "scenes",
    "score_parts",
    "similarity",
]
