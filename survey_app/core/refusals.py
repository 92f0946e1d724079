"""The one shape of a refusal the user reads: a message in French and in English."""

from __future__ import annotations


class UserError(ValueError):
    """A refused action whose message is shown to the user, in French and in English."""

    def __init__(self, message_fr: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_fr, self.message_en = message_fr, message_en

    def message(self, lang: str) -> str:
        return self.message_fr if lang == "fr" else self.message_en
