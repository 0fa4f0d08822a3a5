"""bot/rasa_compat.py: every patch of Rasa is installed in one place, checks what it replaces, and fails loudly on an
upgrade; the policy configuration fits what the tracker store's tail read keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import rasa_compat
from knowledge.loader import load_yaml

ROOT = Path(__file__).resolve().parents[1]


def test_the_installed_rasa_is_what_the_patches_were_written_for():
    """The pinned sources: a Rasa, jsonschema or Sanic upgrade that changes a replaced or relied-upon function fails
    here (and stops `python -m bot.start`), naming the function to re-read."""
    assert rasa_compat.drift() == []


def test_a_changed_function_or_version_is_reported_by_name(monkeypatch):
    target = "rasa.core.actions.action:RemoteAction.run"
    monkeypatch.setitem(rasa_compat.PINNED, target, "0" * 64)
    monkeypatch.setattr(rasa_compat, "RASA_VERSION", "9.9.9")
    problems = rasa_compat.drift()
    assert any(target in p and "changed" in p for p in problems), problems
    assert any("9.9.9" in p for p in problems), problems
    with pytest.raises(rasa_compat.RasaCompatError, match="RemoteAction.run"):
        rasa_compat.install(config_path=None)


def test_every_patch_target_is_pinned_and_install_is_idempotent():
    assert {p.target for p in rasa_compat.PATCHES} <= set(rasa_compat.PINNED)
    rasa_compat.install()
    patched = {p.target: rasa_compat.resolve(p.target)[2] for p in rasa_compat.PATCHES}
    rasa_compat.install()  # a second install neither wraps twice nor fails its own source check
    assert {p.target: rasa_compat.resolve(p.target)[2] for p in rasa_compat.PATCHES} == patched
    assert rasa_compat.installed() and rasa_compat.drift() == []
    for ours in patched.values():
        assert rasa_compat.original(ours) is not ours  # Rasa's own function is kept behind ours


@pytest.mark.slow  # a Python process importing Rasa: seconds of CPU
def test_nothing_is_patched_on_import():
    """Importing the channels and the tracker store changes nothing of Rasa: only bot/start.py installs."""
    import subprocess
    import sys

    code = (
        "import jsonschema, rasa.core.actions.action as a, rasa.utils.endpoints as e, rasa.core.processor as p\n"
        "before = (jsonschema.validate, a.RemoteAction.run, e.EndpointConfig.session, p.MessageProcessor.handle_message)\n"
        "import bot.tracker_store, bot.channels.rest, bot.channels.webchat, bot.channels.socketio, bot.speedups\n"
        "after = (jsonschema.validate, a.RemoteAction.run, e.EndpointConfig.session, p.MessageProcessor.handle_message)\n"
        "print(before == after)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "True", done.stderr[-2000:]


def rules() -> list:
    return load_yaml((ROOT / "data" / "rules" / "respond.yml").read_text())["rules"]


def test_the_policy_configuration_fits_the_tail_read():
    config = load_yaml((ROOT / "bot" / "config.yml").read_text())
    assert rasa_compat.check_policies(config, rules()) == []


@pytest.mark.parametrize(
    "policy, fits",
    [
        ({"name": "RulePolicy"}, True),
        ({"name": "MemoizationPolicy", "max_history": 2}, True),
        ({"name": "MemoizationPolicy"}, False),  # no max_history: looks back over the whole session
        ({"name": "TEDPolicy", "max_history": 8}, False),
        ({"name": "my.custom.LookBackPolicy"}, False),
    ],
)
def test_a_policy_that_looks_further_back_than_the_tail_is_refused(policy, fits):
    assert (rasa_compat.check_policies({"policies": [policy]}) == []) == fits


def test_a_rule_longer_than_the_tail_is_refused():
    from bot.tracker_store import TAIL_USER_TURNS

    steps = [s for _ in range(TAIL_USER_TURNS + 1) for s in ({"intent": "greet"}, {"action": "action_respond"})]
    problems = rasa_compat.check_policies({"policies": [{"name": "RulePolicy"}]}, [{"rule": "long", "steps": steps}])
    assert problems and "long" in problems[0]
