"""Every change this project makes to Rasa 3.6.21 or its dependencies, and every Rasa internal it leans on, in one place.

`install()` runs once at start-up (bot/start.py, before Rasa loads anything) and applies the patches in
`PATCHES`; nothing patches on import. Before it applies anything it checks that the installed Rasa is the
version these were written for and that each function a patch replaces, or a class of ours re-implements or
calls, still has the source it was written against (`PINNED`: a SHA-256 of `inspect.getsource`). A Rasa or
jsonschema upgrade that changes one of them stops the server at start with the function's name, and
tests/test_rasa_compat.py fails on it, instead of the patch silently doing the wrong thing. When that
happens: read the new source, re-check (and re-measure) the patch, then update its hash here.

The patches:
- `schema_check_once` (bot/speedups.py): `jsonschema.validate` checks a given schema once (issue 17);
- `pooled_action_calls` (bot/speedups.py): `EndpointConfig.session` shares one connection pool per event loop;
- `action_unavailable_answer` (bot/action_fallback.py): `RemoteAction.run` answers "having trouble, try again"
  when the action server fails, instead of silence;
- `tail_read_on_message_path` (bot/tracker_store.py): `MessageProcessor.handle_message` marks its tracker reads
  as the message path, the one place the tracker store reads a bounded tail; every other read (the HTTP API's
  story, predict and tracker routes, reminders, trigger_intent) reads the whole session, as Rasa does.

The policy configuration (bot/config.yml) is checked against what that tail read keeps: `check_policies`.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import yaml

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"
CONFIG_PATH = Path(__file__).resolve().parent / "config.yml"

# "module:qualified.name" -> SHA-256 of its source, as installed with rasa==3.6.21 (jsonschema 4.17.3, sanic 21.12).
PINNED: Dict[str, str] = {
    # replaced by a patch below
    "jsonschema:validate": "dc1e7e6a0aee8a4e5f3fbf9ace69e843f0ee3732fa4ee270da51f731037b2a74",
    "rasa.utils.endpoints:EndpointConfig.session": "e55aa13d9d4fb4bc440ac33b870a97ee162b76dda7ccb6bf68433567475fdffb",
    "rasa.core.actions.action:RemoteAction.run": "ccabf6f1160d527a157fad5bd285ce69e8221b1bcad23f8a61499b4360a1c17e",
    "rasa.core.processor:MessageProcessor.handle_message": "0c41d4780d2d46769ef2ae2b3f450b88d2602e916590e8be9975aa474db9f7f4",
    # what the patches rely on: Rasa reads jsonschema.validate at call time and opens a session per request
    "rasa.utils.endpoints:EndpointConfig.request": "ccdb778aed8208e23cde3c3f47eac7fbbbb735dac8f7ef7254d54451c64ad608",
    # bot/tracker_store.py re-implements Rasa's session query, save and stored-events count for SQL
    "rasa.core.tracker_store:SQLTrackerStore._event_query": "cd44f7901b860bfd598a813bde17d0d5b0d7bab129feaf76bb2dca87d628625b",
    "rasa.core.tracker_store:SQLTrackerStore._retrieve": "c8adbf6f4b61ddd1124690944ebdf2ebc82d0723bd07c6704caab0b80120a0ef",
    "rasa.core.tracker_store:SQLTrackerStore.save": "57165e46eab3de0866e77f03df0bf7fd5eac2c1de617ed431b934c9a4edfeef6",
    "rasa.core.tracker_store:SQLTrackerStore._additional_events": "d22f99eb863acb07afee63d9fe3a04ca8464251e67a43eb7d36c2d65ffc1653f",
    "rasa.shared.core.trackers:DialogueStateTracker.applied_events": "764d5065ea9997d613c1984d9357370f9ae32d31ca21346086f16c54f0487aae",
    "rasa.core.processor:MessageProcessor.log_message": "f2f8ec66a291d83d783b7acda52bbc0cc2a093b27a67625d8b9882e95138fac1",
    "rasa.core.processor:MessageProcessor.fetch_tracker_and_update_session": "400f21a2ea5d3426689e4f3be44cd2eecfb2c44c11e036409b29d7c8a456d321",  # noqa: E501
    # bot/channels/socketio.py answers session_request itself (Rasa's does not await enter_room)
    "rasa.core.channels.socketio:SocketIOInput.blueprint": "1246d69fa05c3b1f3dcc77d4ef78e992674cc3d9f7077e9793fd578563b9ee73",
    # bot/cluster/lock_store.py makes the Redis lock store's changes atomic
    "rasa.core.lock_store:LockStore.lock": "8b9b716c031a34445100c32e7123859553831d2ac4747ae2b47a581f137ea371",
    "rasa.core.lock_store:LockStore._acquire_lock": "ead2fff373291c24619f2a2b53453f64ed2975ed68f53dce0e56041061356f05",
    "rasa.core.lock_store:RedisLockStore.__init__": "829e898a8cddff8dc3f2ff6e260e944b7e1e3e4ec2d4ce8787785ce062ffc551",
    "rasa.core.lock_store:RedisLockStore.get_lock": "57d7f8558543450dbfeb0632021bb66d58d96948573284c384d7e80844de0c9b",
    # private Rasa names the Slack connector (bot/channels/team/slack.py) calls
    "rasa.core.channels.slack:SlackInput._sanitize_user_message": "c04ea0afd7049876d32e5434eccee85ea2932a47379dec5e5a37c104132888bb",
    "rasa.core.channels.slack:SlackBot._post_message": "c84448fd34bac517e7aa3da860775ac46f345c6f29529342d2d80e2d4e9639fe",
}

_MARK = "__coach_patch__"  # set on our replacement functions: their original is kept under `__wrapped__`


class RasaCompatError(RuntimeError):
    """The installed Rasa (or a dependency) is not what the patches were written for."""


def resolve(target: str) -> Tuple[Any, str, Any]:
    """(owner object, attribute name, current value) of "module:Qualified.name"."""
    module_name, qualified = target.split(":")
    owner: Any = importlib.import_module(module_name)
    *path, name = qualified.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, name, inspect.getattr_static(owner, name)


def original(value: Any) -> Any:
    """The function Rasa shipped, also after our patch replaced it."""
    while getattr(value, _MARK, False):
        value = value.__wrapped__
    return value


def source_hash(target: str) -> str:
    _, _, value = resolve(target)
    return hashlib.sha256(inspect.getsource(original(value)).encode()).hexdigest()


def drift() -> List[str]:
    """What differs from what the patches were written for: the Rasa version and each changed function."""
    import rasa

    problems = []
    if rasa.__version__ != RASA_VERSION:
        problems.append(f"rasa {rasa.__version__} is installed; bot/rasa_compat.py was written for {RASA_VERSION}")
    for target, expected in PINNED.items():
        try:
            got = source_hash(target)
        except (ImportError, AttributeError, OSError, TypeError) as e:
            problems.append(f"{target} is gone ({type(e).__name__}: {e})")
            continue
        if got != expected:
            problems.append(f"{target} changed (source sha256 {got[:12]}, pinned {expected[:12]})")
    return problems


@dataclass
class Patch:
    """One replacement of a Rasa (or dependency) attribute by ours; `replacement(original)` builds ours."""

    name: str
    target: str
    replacement: Callable[[Any], Any]
    why: str
    installed: bool = field(default=False, init=False)

    def apply(self) -> None:
        owner, name, current = resolve(self.target)
        if getattr(current, _MARK, False):
            self.installed = True
            return
        ours = self.replacement(current)
        setattr(ours, _MARK, True)
        ours.__wrapped__ = current
        setattr(owner, name, ours)
        self.installed = True


def _schema_check_once(_original: Any) -> Any:
    from bot import speedups

    def validate(*args: Any, **kwargs: Any) -> None:
        return speedups.validate(*args, **kwargs)

    return validate


def _pooled_session(_original: Any) -> Any:
    from bot import speedups

    def session(self: Any) -> Any:
        return speedups.pooled_session(self)

    return session


def _action_unavailable_answer(run: Any) -> Any:
    from bot import action_fallback

    action_fallback.check_text()  # a broken ui.yaml shows at start, not when the action server first fails

    async def run_or_apologise(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
        return await action_fallback.run_or_apologise(run, self, output_channel, nlg, tracker, domain)

    return run_or_apologise


def _tail_read_on_message_path(handle_message: Any) -> Any:
    from bot import tracker_store

    async def handle_on_message_path(self: Any, message: Any) -> Any:
        with tracker_store.message_path():
            return await handle_message(self, message)

    return handle_on_message_path


PATCHES = [
    Patch("schema_check_once", "jsonschema:validate", _schema_check_once, "bot/speedups.py: 22% of the server's time"),
    Patch("pooled_action_calls", "rasa.utils.endpoints:EndpointConfig.session", _pooled_session, "bot/speedups.py"),
    Patch("action_unavailable_answer", "rasa.core.actions.action:RemoteAction.run", _action_unavailable_answer, "bot/action_fallback.py"),
    Patch(
        "tail_read_on_message_path",
        "rasa.core.processor:MessageProcessor.handle_message",
        _tail_read_on_message_path,
        "bot/tracker_store.py: a bounded tail on the message path only",
    ),
]


def installed() -> bool:
    return all(p.installed for p in PATCHES)


def install(config_path: Optional[Path] = CONFIG_PATH) -> None:
    """Check the versions, sources and policy configuration, then apply every patch (once per process)."""
    problems = drift()
    if config_path is not None:
        problems += check_policies(yaml.safe_load(config_path.read_text()) or {})
    if problems:
        raise RasaCompatError("Rasa is not what bot/rasa_compat.py was written for:\n  " + "\n  ".join(problems))
    for patch in PATCHES:
        patch.apply()
    logger.debug("rasa_compat: installed %s", ", ".join(p.name for p in PATCHES))


# The policy configuration against the tracker store's tail read --------------------------------------------------
# Policies that look back a bounded number of turns, with the option that bounds them.
BOUNDED_POLICIES = {"MemoizationPolicy", "AugmentedMemoizationPolicy", "TEDPolicy", "UnexpecTEDIntentPolicy"}


def check_policies(config: Dict[str, Any], rules: Optional[List[Dict[str, Any]]] = None) -> List[str]:
    """Why the policies of a Rasa config (and its rules) would see less than they need through the tail read.

    The message path reads the session's last `TAIL_USER_TURNS` user turns plus the latest value of each slot and
    loop (bot/tracker_store.py). RulePolicy's rules fit when no rule spans more user turns than that; a
    memoization or TED policy fits with an explicit `max_history` of at most that; any other policy is refused
    until someone checks how far back it looks and adds it here."""
    from bot.tracker_store import TAIL_USER_TURNS

    problems = []
    for policy in config.get("policies") or []:
        name = str(policy.get("name", "")).rsplit(".", 1)[-1]
        if name == "RulePolicy":
            continue
        if name in BOUNDED_POLICIES:
            history = policy.get("max_history")
            if history is None or int(history) > TAIL_USER_TURNS:
                problems.append(f"{name} needs max_history <= {TAIL_USER_TURNS} (bot/tracker_store.py TAIL_USER_TURNS), has {history}")
            continue
        problems.append(f"policy {name}: the tracker tail read (bot/tracker_store.py) has not been checked against it")
    for rule in rules or []:
        user_turns = sum(1 for step in rule.get("steps") or [] if "intent" in step or "user" in step)
        if user_turns > TAIL_USER_TURNS:
            problems.append(f"rule '{rule.get('rule')}' spans {user_turns} user turns; the tail read keeps {TAIL_USER_TURNS}")
    return problems
