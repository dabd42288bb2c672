"""The one settings object: environment variables with documented defaults."""

import pytest

from worker.errors import ConfigError
from worker.settings import ENV_VARS, FIELDS, Settings


def test_defaults_match_the_documented_contract():
    s = Settings.from_env({})
    assert s.bootstrap_servers == "127.0.0.1:9092"
    assert (s.search_topic, s.notice_topic, s.dlq_topic) == ("search-events", "notice-displays", "search-events-dlq")
    assert s.metrics_port == 9108
    assert s.config_dir == "config/"
    assert s.config_path.joinpath("countries").is_dir()


def test_environment_overrides_and_parses():
    s = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "a:1,b:2", "GBV_METRICS_PORT": "9200",
                           "GBV_RELOAD_ON_CHANGE": "yes"})
    assert s.metrics_port == 9200 and s.reload_on_change is True
    assert s.broker_url == "kafka://a:1;kafka://b:2"


def test_invalid_value_names_the_variable_and_hides_secrets():
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"GBV_METRICS_PORT": "nine"})
    assert "GBV_METRICS_PORT" in str(info.value)
    s = Settings.from_env({"KAFKA_SASL_PASSWORD": "hunter2"})
    assert "hunter2" not in str(s.describe())


def test_every_field_has_an_environment_variable():
    assert len(ENV_VARS) == len(FIELDS)
    assert {f for f in Settings.__dataclass_fields__} == set(FIELDS)


def test_readme_documents_every_variable():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [env for env in sorted(ENV_VARS) if f"`{env}`" not in readme]
    assert not missing, f"README configuration table lacks {missing}"
