"""Birthday cards greet the customer by name in every shipped language, and greet
politely without one."""

from __future__ import annotations

import pytest

from rapport.templates.render import Renderer
from rapport.templates.samples import sample_variables

LANGUAGES = ["en", "es", "fi", "it", "pl", "sv"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_birthday_card_greets_the_customer_by_name(language: str) -> None:
    variables = sample_variables("birthday_card", "card", full=True)
    assert variables["customer"]["name"] == "Aino"
    card = Renderer().render_message("birthday_card", "card", language, variables)
    assert "Aino" in card.text.splitlines()[0]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_birthday_card_without_a_name_greets_without_a_blank(language: str) -> None:
    variables = sample_variables("birthday_card", "card", full=False)
    assert variables["customer"]["name"] is None
    card = Renderer().render_message("birthday_card", "card", language, variables)
    first = card.text.splitlines()[0]
    assert first.strip()
    assert "None" not in first
