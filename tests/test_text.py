"""Input clean-up: language of a message, Traditional input, markup and oversized text."""

from knowledge.text import clean, detect_lang, has_words, to_simplified


def test_language_follows_the_message():
    assert detect_lang("he keeps interrupting me") == "en"
    assert detect_lang("客户什么都要看合同原文才肯信") == "zh"
    assert detect_lang("这个客户很 picky") == "zh"
    assert detect_lang("👍", default="zh") == "zh"


def test_traditional_is_read_as_simplified():
    assert to_simplified("客戶說話帶刺") == "客户说话带刺"
    assert to_simplified("plain English") == "plain English"


def test_markup_control_characters_and_length_are_neutralised():
    assert clean("<script>alert(1)</script>hi") == "alert(1) hi"
    assert clean("a\x00b\u200b") == "ab"
    assert len(clean("x" * 10_000)) == 5000
    assert clean(None) == ""


def test_emoji_only_has_no_words():
    assert not has_words("😀😀🎉")
    assert has_words("ok 😀")
