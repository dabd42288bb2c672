"""The hotline registry: the shipped configuration is valid, and each kind of broken file
is rejected with a message that names the file, the field and what is wrong."""

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from worker.categories import CATEGORIES
from worker.errors import ConfigErrors
from worker.notices.registry import load_registry

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config"
COUNTRIES = ("ID", "MY", "PH", "TH", "SG", "KR", "VN")


def test_shipped_configuration_is_valid_and_complete():
    registry = load_registry(SHIPPED)
    assert set(COUNTRIES) <= set(registry.countries)
    for cc in COUNTRIES:
        country = registry.countries[cc]
        assert country.always_open, f"{cc} has no 24/7 line"
        assert set(country.routing) == set(CATEGORIES)
        assert "en" in country.languages
        for hotline in country.hotlines.values():
            assert hotline.source.startswith("shared/reference/hotlines.md")


def test_no_number_is_invented():
    """Every phone-like value in the registry appears in the reference facts."""
    reference = (ROOT.parent / "shared" / "reference" / "hotlines.md")
    if not reference.exists():
        pytest.skip("shared/reference is not beside this checkout")
    digits_in_reference = "".join(ch for ch in reference.read_text() if ch.isdigit() or ch == "\n")
    registry = load_registry(SHIPPED)
    for country in registry.countries.values():
        for hotline in country.hotlines.values():
            for kind in ("phone", "sms", "whatsapp"):
                if kind in hotline.channels:
                    digits = "".join(ch for ch in hotline.channels[kind] if ch.isdigit())
                    assert any(digits in "".join(ch for ch in line if ch.isdigit())
                               for line in digits_in_reference.split("\n")), (country.country, hotline.id)


@pytest.fixture
def config_copy(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(SHIPPED / "countries", target / "countries")
    shutil.copy(SHIPPED / "notices.yaml", target / "notices.yaml")
    return target


def edit(config: Path, cc: str, change) -> Path:
    path = config / "countries" / f"{cc}.yaml"
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    return path


def problems(config: Path) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        load_registry(config)
    return [str(e) for e in info.value.errors]


def test_phone_number_must_look_like_one(config_copy):
    path = edit(config_copy, "MY", lambda d: d["hotlines"][0]["channels"].update(phone="call us"))
    assert problems(config_copy) == [f"{path}: hotlines[0].channels.phone: 'call us' does not look like a phone number"]


def test_hours_must_parse(config_copy):
    path = edit(config_copy, "ID", lambda d: d["hotlines"][1]["hours"]["weekly"].update({"mon-fri": "9am-4pm"}))
    [message] = problems(config_copy)
    assert message.startswith(f"{path}: hotlines[1].hours:") and "not HH:MM-HH:MM" in message


def test_every_category_needs_a_hotline(config_copy):
    path = edit(config_copy, "KR", lambda d: d["routing"].pop("stalking"))
    assert problems(config_copy) == [f"{path}: routing.stalking: missing: every category needs at least one hotline"]


def test_routing_to_unknown_or_numberless_hotline(config_copy):
    path = edit(config_copy, "TH", lambda d: d["routing"].update(stalking=["pavena"], harassment=["nope"]))
    found = problems(config_copy)
    assert f"{path}: routing.stalking: hotline 'pavena' has no channel to show (number not found)" in found
    assert f"{path}: routing.harassment: unknown hotline id 'nope'" in found


def test_every_country_needs_a_24_7_line(config_copy):
    def office_hours_only(doc):
        for hotline in doc["hotlines"]:
            hotline["hours"] = {"timezone": "Asia/Singapore", "weekly": {"mon-fri": "09:00-17:00"}}
    path = edit(config_copy, "SG", office_hours_only)
    assert f"{path}: hotlines: no 24/7 hotline with a channel: every country needs one" in problems(config_copy)


def test_schema_errors_name_field(config_copy):
    path = edit(config_copy, "VN", lambda d: (d["notices"].pop("en"), d.update(colour="blue"),
                                               d["hotlines"][0].update(verified_on="last week")))
    found = problems(config_copy)
    assert f"{path}: notices.en: missing: every supported language needs the notice text" in found
    assert f"{path}: colour: unknown key" in found
    assert f"{path}: hotlines[0].verified_on: must be a date (YYYY-MM-DD)" in found


def test_yaml_syntax_error_names_the_line(config_copy):
    path = config_copy / "countries" / "PH.yaml"
    path.write_text("country: PH\nname: [unclosed\n")
    [message] = problems(config_copy)
    assert message.startswith(f"{path}: line ") and "YAML does not parse" in message


def test_country_code_must_match_file_name(config_copy):
    path = edit(config_copy, "ID", lambda d: d.update(country="MY"))
    assert f"{path}: country: 'MY' does not match the file name 'ID.yaml'" in problems(config_copy)


def test_stale_entries_are_reported_by_age(config_copy):
    edit(config_copy, "KR", lambda d: d["hotlines"][0].update(verified_on="2025-01-01"))
    registry = load_registry(config_copy, today=dt.date(2026, 11, 28))
    stale = registry.stale(dt.date(2026, 11, 28), 180)
    assert [(e.country, e.hotline_id, e.age_days) for e in stale] == [("KR", "kr_1366", 696)]
