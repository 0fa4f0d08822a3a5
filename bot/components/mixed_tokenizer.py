"""Tokenizer for English, Chinese and the two mixed in one message.

Rasa's JiebaTokenizer hands whitespace through as tokens ("这个客户很 picky" yields a " " token),
which breaks DIET training and parsing (RasaHQ/rasa#7910). This one drops them, lower-cases
English and reads Traditional characters as Simplified, keeping offsets on the original text.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import jieba
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from knowledge.text import to_simplified

jieba.setLogLevel(60)  # once: per message it was 1.4% of the server's time under load (py-spy)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class MixedTokenizer(JiebaTokenizer):
    @staticmethod
    def supported_languages() -> Optional[List[str]]:
        return None  # every language: messages mix Chinese and English

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**JiebaTokenizer.get_default_config(), "dictionary_path": None}

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        text = message.get(attribute) or ""
        simplified = to_simplified(text)
        if len(simplified) != len(text):  # a rare multi-character conversion: keep offsets on the original
            simplified = text
        tokens = [Token(word.lower(), start) for word, start, _ in jieba.tokenize(simplified) if word.strip()]
        return self._apply_token_pattern(tokens)
