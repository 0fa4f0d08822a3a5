"""bot/channels/buttons.py: the one normalisation of a bot message's buttons."""

from bot.channels.buttons import normalise


def test_buttons_become_title_and_payload_strings_and_odd_entries_are_dropped():
    given = [{"title": "What to avoid", "payload": "/ask_avoid"}, {"payload": 5}, "not a button", None, {"title": "only a title"}]
    assert normalise(given) == [
        {"title": "What to avoid", "payload": "/ask_avoid"},
        {"title": "", "payload": "5"},
        {"title": "only a title", "payload": ""},
    ]
    assert normalise(None) == [] and normalise([]) == []
