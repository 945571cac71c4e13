"""rapport.toml: every key optional, every mistake named by its key path."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from rapport import ConfigError, Rapport, load_settings, parse_settings
from rapport.models.enums import Channel
from rapport.rules import BirthdayCard, CheckInCall, ThankYouNote

FULL = """
database = "sqlite:///rapport.db"
templates_dir = "templates"

[business]
name = "Harbour Books"
timezone = "Europe/Helsinki"
country = "FI"
currency = "EUR"
language = "en"
signature = "Maria and the Harbour Books team"

[planner]
horizon_days = 7
catch_up_days = 30
send_hour = 9

[caps]
max_touches = 2
per_days = 7

[consent]
mail = true
phone = true
email = false
sms = false

[rules.birthday_card]
enabled = true
lead_days = 7
channels = ["mail", "email"]
feb29 = "feb28"

[rules.thank_you_note]
min_amount = 500
delay_days = 1
window_days = 14
coalesce_days = 7
channels = ["mail", "email"]

[rules.check_in_call]
top_share = 0.2
every_days = 90
quiet_after_purchase_days = 14
channels = ["phone"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rapport.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_specs_example_file_loads(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL))
    assert settings.business.name == "Harbour Books"
    assert settings.business.country == "FI"
    # Each rule reads its own section with the settings model that lives with it.
    assert ThankYouNote.configured(settings).settings.min_amount == Decimal(500)
    assert BirthdayCard.configured(settings).settings.channels == [Channel.MAIL, Channel.EMAIL]
    assert CheckInCall.configured(settings).settings.every_days == 90


def test_no_file_means_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.planner.horizon_days == 7
    assert settings.caps.max_touches == 2


def test_rapport_toml_in_the_current_folder_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "[business]\nname = 'Corner Shop'\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().business.name == "Corner Shop"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rules.birthday_card]\nlead_dayz = 7\n", "rules.birthday_card.lead_dayz: unknown key"),
        ("[planner]\nhorizon = 7\n", "planner.horizon: unknown key"),
        ("colour = 'blue'\n", "colour: unknown key"),
        ("[business]\ntimezone = 'Europe/Helsingfors'\n", "business.timezone: unknown timezone"),
        ("[business]\ncountry = 'XX'\n", "business.country: no public holiday calendar"),
        ("[business]\ncurrency = 'EURO'\n", "business.currency: unknown currency"),
        ("[caps]\nmax_touches = 0\n", "caps.max_touches: Input should be greater than or equal"),
        ("[rules.birthday_card]\nfeb29 = 'mar2'\n", "rules.birthday_card.feb29"),
        ("[rules.birthday_card]\nchannels = ['pigeon']\n", "rules.birthday_card.channels.0"),
        ("[rules.thank_you_note]\nmin_amount = -1\n", "rules.thank_you_note.min_amount"),
        ("[planner]\nsend_hour = 24\n", "planner.send_hour"),
        ("[rules.check_in_call]\ntop_share = 1.5\n", "rules.check_in_call.top_share"),
    ],
)
def test_mistakes_name_the_key_path(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"rapport\.toml: ") as caught:
        load_settings(write(tmp_path, text))
    assert message in str(caught.value)


def test_a_section_for_an_unknown_rule_is_an_error(engine: Engine) -> None:
    settings = parse_settings({"rules": {"birthday_cards": {"lead_days": 3}}})
    with pytest.raises(ConfigError, match=r"rules\.birthday_cards: unknown rule; known rules"):
        Rapport(engine, settings=settings)


def test_broken_toml_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[business\nname = 1"))


def test_a_missing_file_given_by_name_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "nope.toml")
