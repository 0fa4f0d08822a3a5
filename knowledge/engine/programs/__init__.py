"""Training programmes: levels, certificates, assignments, exams and the manager's view for teams (issue 26).

- content.py   the wording and word lists (knowledge/content/programs.yaml), validated
- requests.py  what a message says: a level, an assignment's parts
- store.py     the programmes' tables in the application store (declared in knowledge/tables.py), with an injected clock
- team_view.py the manager's overview of a team (chat, the web team page, CSV)
- programs.py  Programs: the answers the dialogue routes to
"""

from .content import ProgramContent, load_programs, programs_content
from .programs import CERTIFICATE_LEVELS, Programs, certificate_paths, nearest_certificate, program_store
from .store import PROGRAM_TABLES, ProgramStore, Settings

__all__ = [
    "CERTIFICATE_LEVELS",
    "PROGRAM_TABLES",
    "ProgramContent",
    "ProgramStore",
    "Programs",
    "Settings",
    "certificate_paths",
    "load_programs",
    "nearest_certificate",
    "program_store",
    "programs_content",
]
