"""Configuration at runtime: a new country by configuration only, and reloads under load."""

import collections
import shutil
import signal
import threading
import time
from pathlib import Path

import yaml

from worker.testing import consume, metric_value, produce, search_event, wait_until

ROOT = Path(__file__).resolve().parents[2]

# A fictional test country: Malagasy-speaking "MG" with its own lexicon. The number is
# obviously fictional test data and lives only in this temporary directory.
MG_COUNTRY = {
    "country": "MG", "name": "Madagascar (test)", "timezone": "Indian/Antananarivo",
    "default_language": "mg", "languages": ["mg", "en"],
    "notices": {
        "mg": {"title": "Tsy irery ianao.", "body": "Misy afaka manampy anao na olona fantatrao.",
               "safety": "Raha mbola mampidi-doza, mandehana any amin'ny toerana azo antoka."},
        "en": {"title": "You are not alone (test).", "body": "Help for you or someone you know.",
               "safety": "Get somewhere safe."},
    },
    "hotlines": [{"id": "test_line", "organisation": "Test organisation", "name": "Test line",
                  "channels": {"phone": "0000"}, "hours": "24/7", "languages": ["mg"],
                  "source": "fictional test data", "confidence": "L", "verified_on": "2026-11-01"}],
    "routing": {c: ["test_line"] for c in ("domestic_violence", "sexual_violence", "harassment", "online_gbv",
                                           "dating_violence", "stalking", "trafficking", "other_gbv")},
}
MG_LEXICON = {
    "language": "mg", "name": "Malagasy (test)", "script": "latin",
    "rules": [{"id": "mg.herisetra_tokantrano", "category": "domestic_violence",
               "terms": ["herisetra an-tokantrano", "herisetra ao an-tokantrano"],
               "why": "Domestic violence in Malagasy."}],
}


def copy_config(target: Path) -> Path:
    shutil.copytree(ROOT / "config" / "countries", target / "countries")
    shutil.copytree(ROOT / "config" / "lexicons", target / "lexicons")
    shutil.copy(ROOT / "config" / "notices.yaml", target / "notices.yaml")
    return target


def test_a_new_country_is_a_configuration_change(broker, topics, start_worker, tmp_path):
    config = copy_config(tmp_path / "config")
    (config / "countries" / "MG.yaml").write_text(yaml.safe_dump(MG_COUNTRY, allow_unicode=True))
    (config / "lexicons" / "mg.yaml").write_text(yaml.safe_dump(MG_LEXICON, allow_unicode=True))
    start_worker(GBV_CONFIG_DIR=config)
    produce(broker.bootstrap, topics.search, [
        search_event("mg-1", "herisetra an-tokantrano", "MG", locale="mg-MG"),
        search_event("mg-2", "toetr'andro rahampitso", "MG", locale="mg-MG"),
        search_event("mg-3", "domestic violence hotline", "MG", locale="en"),
    ])
    notices = {n.json()["search_event_id"]: n.json() for n in consume(broker.bootstrap, topics.notices, expect=2)}
    assert set(notices) == {"mg-1", "mg-3"}
    assert notices["mg-1"]["language"] == "mg" and notices["mg-1"]["title"] == "Tsy irery ianao."
    assert notices["mg-3"]["language"] == "en"
    assert [h["id"] for h in notices["mg-1"]["hotlines"]] == ["test_line"]


def test_reload_under_a_steady_stream_loses_and_duplicates_nothing(broker, topics, start_worker, tmp_path):
    config = copy_config(tmp_path / "config")
    worker = start_worker(GBV_CONFIG_DIR=config)
    total, stop = 3000, threading.Event()

    def feed():
        for start in range(0, total, 100):   # ~100 events every 50 ms, ~8 s in all
            batch = [search_event(f"rl-{i}", "kdrt" if i % 2 == 0 else "cuaca jakarta", "ID", locale="id")
                     for i in range(start, start + 100)]
            produce(broker.bootstrap, topics.search, batch)
            time.sleep(0.05)
        stop.set()

    feeder = threading.Thread(target=feed)
    feeder.start()
    wait_until(lambda: metric_value(worker.scrape(), "gbv_search_events_total") > 300, 60, message="stream flowing")
    version_before = _build_info(worker)

    # 1) a valid change: the Indonesian headline
    path = config / "countries" / "ID.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["notices"]["id"]["title"] = "Kamu tidak sendiri (versi baru)."
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    worker.signal(signal.SIGHUP)
    wait_until(lambda: _build_info(worker) != version_before, 30, message="reload applied")
    version_after = _build_info(worker)

    # 2) an invalid change is rejected and the running configuration stays
    doc["hotlines"][0]["channels"]["phone"] = "not a number"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    worker.signal(signal.SIGHUP)
    wait_until(lambda: metric_value(worker.scrape(), "gbv_config_reloads_total", {"result": "rejected"}) == 1, 30,
               message="rejected reload counted")
    assert _build_info(worker) == version_after

    feeder.join(60)
    assert stop.is_set()
    expected = {f"rl-{i}" for i in range(0, total, 2)}
    notices = consume(broker.bootstrap, topics.notices, expect=len(expected), timeout=90)
    counts = collections.Counter(n.json()["search_event_id"] for n in notices)
    versions = collections.Counter(n.json()["config_version"] for n in notices)
    titles = collections.Counter(n.json()["title"] for n in notices)
    print(f"events={total} gbv={len(expected)} notices={len(notices)} versions={dict(versions)}")
    assert set(counts) == expected, "a notice was lost"
    assert max(counts.values()) == 1, "a notice was duplicated"
    assert set(versions) == {version_before, version_after}
    assert titles["Kamu tidak sendiri (versi baru)."] == versions[version_after]
    assert "phone" in worker.log_text() and "not a number" in worker.log_text()   # the rejection names the problem


def _build_info(worker) -> str:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(worker.scrape()):
        if family.name == "gbv_build_info":
            [sample] = family.samples
            return sample.labels["config_version"]
    raise AssertionError("no gbv_build_info")
