"""`make bench`: one run, one local broker, figures as ratios against baselines of the same run.

1. Detector: queries/s on one core over the development set, beside a plain substring scan.
2. Throughput: the bare aiokafka loop (bench/bare.py) and the real worker (`gbv-worker worker`)
   on the same 200,000-event generated stream (2% GBV, 4 partitions): events/s, the
   worker/bare ratio, CPU seconds per 100,000 events, peak RSS.
3. Latency at a fixed offered load of 5,000 events/s: p50/p99 from the search event's `ts`
   to the notice's arrival at a consumer, beside a baseline pass without the worker (the
   same producer and consumer on the search topic itself: what the harness and the broker
   take), each on fresh topics.
4. Soak: BENCH_SOAK_S seconds (default 600) at a steady rate: RSS growth, open fds.

Writes bench/results.json and prints a table. Sizes can be shrunk for a quick look with
BENCH_EVENTS, BENCH_LATENCY_S and BENCH_SOAK_S.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from worker.broker import DevBroker, create_topics
from worker.testing import ROOT, TopicSet, WorkerProcess, metric_value, produce_async

OUT = ROOT / "bench" / "results.json"
EVENTS = int(os.environ.get("BENCH_EVENTS", "200000"))
LATENCY_S = float(os.environ.get("BENCH_LATENCY_S", "20"))
LATENCY_WARMUP_S = 5.0     # the same load first, not measured: a fresh worker's first fetches are slow
LATENCY_RATE = 5000
# The paced producers stand in for search front ends: Kafka's default linger.ms (5 since Kafka
# 4.0). The linger is inside the measured latency. With 1 ms every batch holds a record or two,
# and Tansu's memory storage, which lists a partition's whole log on every fetch, slows down
# with every batch: the same 20 s then show a broker-only p50 rising from 14 to 60 ms.
PRODUCER_LINGER_MS = int(os.environ.get("BENCH_PRODUCER_LINGER_MS", "5"))
SOAK_S = float(os.environ.get("BENCH_SOAK_S", "600"))
SOAK_RATE = 2000
COUNTRIES = ["ID", "MY", "PH", "TH", "SG", "KR", "VN"]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def generated(n: int, seed: int, positive_rate: float = 0.02) -> list[tuple[bytes, bytes]]:
    from worker.traffic.generate import generate_events

    return [(e["event_id"].encode(), orjson.dumps(e)) for e in generate_events(n, positive_rate, COUNTRIES, seed)]


# -- 1. detector ------------------------------------------------------------------------------
def detector_bench() -> dict:
    from worker.detection.throughput import as_triples, measure, substring_baseline
    from worker.runtime import load_runtime_config
    from worker.settings import Settings

    config = load_runtime_config(Settings.from_env().config_path)
    rows = [json.loads(line) for line in (ROOT / "tests" / "data" / "gbv-dev.jsonl").read_text().splitlines()
            if line.strip()]
    triples = as_triples(rows)
    terms = sorted({t.text for lex in config.detector.lexicons.lexicons.values() for r in lex.rules
                    for t in r.terms if " " not in t.text} if hasattr(config.detector, "lexicons") else [])
    qps = measure(config.detector, triples, min_seconds=2.0)
    baseline = substring_baseline(triples, terms or ["kdrt", "rape", "abuse"], min_seconds=2.0)
    return {"queries": len(triples), "detector_qps": qps, "substring_scan_qps": baseline,
            "substring_terms": len(terms), "ratio_detector_to_scan": qps / baseline}


# -- 2. throughput ----------------------------------------------------------------------------
SENTINEL_QUERY = "domestic violence hotline"


async def new_topics(bootstrap: str, prefix: str) -> TopicSet:
    topics = TopicSet.unique(prefix)
    await create_topics(bootstrap, [topics.search, topics.notices, topics.dead_letters], 4)
    return topics


async def produce_stream(bootstrap: str, topics: TopicSet, events: list) -> None:
    """The stream, then one GBV sentinel at the end of each partition: the sentinels'
    notices tell that every partition has been handled to its end."""
    from aiokafka import AIOKafkaProducer

    await produce_async(bootstrap, topics.search, events, linger_ms=20)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for partition in range(4):
            sentinel = {"event_id": f"sentinel-{partition}", "ts": time.time_ns() // 1_000_000,
                        "query": SENTINEL_QUERY, "country": "SG", "locale": "en"}
            await producer.send_and_wait(topics.search, orjson.dumps(sentinel), partition=partition)
    finally:
        await producer.stop()


def paused(pid: int, work) -> None:
    """Run `work` while the process is stopped, so the stream waits for it in full and
    the measurement starts at SIGCONT with a settled consumer group (no CPU contention
    with the producer on this 2-core machine). Its session timeout outlasts the pause."""
    os.kill(pid, signal.SIGSTOP)
    try:
        work()
    finally:
        os.kill(pid, signal.SIGCONT)


async def _wait_for_sentinels(bootstrap: str, topic: str, timeout: float) -> float:
    """Wall-clock time at which the last partition's sentinel notice arrived."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                fetch_max_wait_ms=5, group_id=None)
    await consumer.start()
    pending = {f"sentinel-{p}" for p in range(4)}
    deadline = time.monotonic() + timeout
    try:
        while pending and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=20)
            for records in batch.values():
                for record in records:
                    pending.discard(orjson.loads(record.value)["search_event_id"])
            if not pending:
                return time.perf_counter()
    finally:
        await consumer.stop()
    raise TimeoutError(f"sentinel notices missing: {sorted(pending)}")


def bare_bench(broker: DevBroker, events: list) -> dict:
    topics = asyncio.run(new_topics(broker.bootstrap, "bare"))
    process = subprocess.Popen([sys.executable, "-m", "bench.bare", "--bootstrap", broker.bootstrap,
                                "--source", topics.search, "--sink", topics.notices, "--dlq", topics.dead_letters,
                                "--expect", str(len(events) + 4)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert process.stdout.readline().strip() == "READY", "bare loop did not start"
        paused(process.pid, lambda: asyncio.run(produce_stream(broker.bootstrap, topics, events)))
        out, _ = process.communicate(timeout=900)
    finally:
        process.kill()
    if process.returncode != 0:
        raise RuntimeError(f"bare loop exited with {process.returncode}")
    return json.loads(out.strip().splitlines()[-1])


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def worker_bench(broker: DevBroker, events: list, workdir: Path) -> dict:
    """The real worker process, joined and settled, on the same stream: timed from SIGCONT
    to the arrival of the last partition's sentinel notice."""
    topics = asyncio.run(new_topics(broker.bootstrap, "worker"))
    worker = WorkerProcess(broker.bootstrap, topics, workdir / "worker-throughput.log", log_level="info",
                           extra_env={"GBV_SESSION_TIMEOUT_S": "30"})
    worker.start(wait=False)
    try:
        worker.wait_ready(90)
        time.sleep(3)                                  # let the first rebalances settle
        pid = worker.process.pid
        paused(pid, lambda: asyncio.run(produce_stream(broker.bootstrap, topics, events)))
        started, cpu0 = time.perf_counter(), _proc_cpu_s(pid)
        ended = asyncio.run(_wait_for_sentinels(broker.bootstrap, topics.notices, 900))
        cpu = _proc_cpu_s(pid) - cpu0
        text = worker.scrape()
        total, elapsed = len(events) + 4, ended - started
        return {"events": total, "notices": int(metric_value(text, "gbv_notice_impressions_total")),
                "seconds": elapsed, "events_per_s": total / elapsed, "cpu_s_per_100k": cpu / total * 100_000,
                "peak_rss_mb": _proc_status_kb(pid, "VmHWM") / 1024}
    finally:
        worker.stop()


# -- 3. latency -------------------------------------------------------------------------------
async def _paced_produce(bootstrap: str, topic: str, seconds: float, rate: int, seed: int,
                         linger_ms: int = PRODUCER_LINGER_MS) -> int:
    from aiokafka import AIOKafkaProducer

    from worker.traffic.generate import generate_events

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=linger_ms, enable_idempotence=False)
    await producer.start()
    source = generate_events(int(seconds * rate) + rate, 0.02, COUNTRIES, seed)
    sent = 0
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            due = int((time.perf_counter() - start) * rate)
            while sent < due:
                event = next(source)
                event["ts"] = time.time_ns() // 1_000_000        # the clock starts at the search
                await producer.send(topic, orjson.dumps(event), key=event["event_id"].encode())
                sent += 1
            await asyncio.sleep(0.002)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def _collect_latency(bootstrap: str, topic: str, stop: asyncio.Event, since_s: list[float],
                           searched_at) -> list[float]:
    """Seconds from each record's search time (`searched_at(value)`, in s) to its arrival here."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                fetch_max_wait_ms=5, group_id=None)
    await consumer.start()
    latencies = []
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=50)
            arrived = time.time()
            for records in batch.values():
                for record in records:
                    searched = searched_at(record.value)
                    if since_s and searched >= since_s[0]:
                        latencies.append(arrived - searched)
    finally:
        await consumer.stop()
    return latencies


def _search_ts(value: bytes) -> float:
    return orjson.loads(value)["ts"] / 1000


def _notice_search_ts(value: bytes) -> float:
    from worker.events import parse_ts

    return parse_ts(orjson.loads(value)["search_ts"]) / 1000


def _latency_pass(broker: DevBroker, workdir: Path, with_worker: bool) -> dict:
    """One pass at LATENCY_RATE on fresh topics. With the worker: search event -> worker -> notice
    -> consumer. Without (the baseline): the same producer and consumer on the search topic
    itself, i.e. what the harness and the broker take before any worker is involved."""
    topics = TopicSet.unique("latency" if with_worker else "latency-base")
    asyncio.run(create_topics(broker.bootstrap, [topics.search, topics.notices, topics.dead_letters], 4))
    worker = None
    if with_worker:
        worker = WorkerProcess(broker.bootstrap, topics, workdir / "worker-latency.log", log_level="info").start()

    async def run() -> tuple[int, list[float]]:
        stop, since = asyncio.Event(), []
        collector = asyncio.ensure_future(_collect_latency(
            broker.bootstrap, topics.notices if with_worker else topics.search, stop, since,
            _notice_search_ts if with_worker else _search_ts))
        await asyncio.sleep(1.0)
        warmup = asyncio.get_running_loop().call_later(LATENCY_WARMUP_S, lambda: since.append(time.time()))
        sent = await _paced_produce(broker.bootstrap, topics.search, LATENCY_WARMUP_S + LATENCY_S, LATENCY_RATE,
                                    seed=11)
        warmup.cancel()
        await asyncio.sleep(2.0)
        stop.set()
        return sent, await collector

    out = {}
    try:
        sent, latencies = asyncio.run(run())
        if worker:
            out["worker_peak_rss_mb"] = _proc_status_kb(worker.process.pid, "VmHWM") / 1024
    finally:
        if worker:
            worker.stop()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 100 else [float("nan")] * 99
    return {"events": sent, "measured": len(latencies), "p50_ms": q[49] * 1000, "p90_ms": q[89] * 1000,
            "p99_ms": q[98] * 1000, "max_ms": latencies[-1] * 1000 if latencies else None, **out}


def latency_bench(broker: DevBroker, workdir: Path) -> dict:
    base = _latency_pass(broker, workdir, with_worker=False)
    log(f"latency baseline (no worker) p50 {base['p50_ms']:.1f} ms, p99 {base['p99_ms']:.1f} ms")
    work = _latency_pass(broker, workdir, with_worker=True)
    return {"offered_events_per_s": LATENCY_RATE, "seconds": LATENCY_S, "warmup_s": LATENCY_WARMUP_S,
            "producer_linger_ms": PRODUCER_LINGER_MS, "events": work["events"], "notices": work["measured"],
            "p50_ms": work["p50_ms"], "p90_ms": work["p90_ms"], "p99_ms": work["p99_ms"], "max_ms": work["max_ms"],
            "worker_peak_rss_mb": work["worker_peak_rss_mb"], "baseline": base,
            "worker_added_p50_ms": work["p50_ms"] - base["p50_ms"],
            "worker_added_p99_ms": work["p99_ms"] - base["p99_ms"]}


# -- 4. soak ----------------------------------------------------------------------------------
def soak_bench(broker: DevBroker, workdir: Path) -> dict:
    topics = TopicSet.unique("soak")
    asyncio.run(create_topics(broker.bootstrap, [topics.search, topics.notices, topics.dead_letters], 4))
    worker = WorkerProcess(broker.bootstrap, topics, workdir / "worker-soak.log", log_level="info").start()
    pid = worker.process.pid
    samples = []

    async def sample(stop: asyncio.Event) -> None:
        while not stop.is_set():
            samples.append((time.monotonic(), _proc_status_kb(pid, "VmRSS") / 1024,
                            len(os.listdir(f"/proc/{pid}/fd"))))
            try:
                await asyncio.wait_for(stop.wait(), 10)
            except asyncio.TimeoutError:
                pass

    async def run() -> int:
        stop = asyncio.Event()
        sampler = asyncio.ensure_future(sample(stop))
        # 1 ms linger: batches of a record or two, the hardest case for Tansu's fetch (where a
        # fixed 10 ms fetch wait once stalled the stream; the worker now raises its wait).
        sent = await _paced_produce(broker.bootstrap, topics.search, SOAK_S, SOAK_RATE, seed=23, linger_ms=1)
        await asyncio.sleep(3)
        stop.set()
        await sampler
        return sent

    try:
        sent = asyncio.run(run())
        exposition = worker.scrape()
        processed = metric_value(exposition, "gbv_search_events_total") + \
            metric_value(exposition, "gbv_dead_letters_total")
        fetch_wait_ms = metric_value(exposition, "gbv_consumer_fetch_wait_seconds") * 1000
    finally:
        worker.stop()
    warm = [s for s in samples if s[0] - samples[0][0] >= 60] or samples   # after the first minute
    return {"seconds": SOAK_S, "rate": SOAK_RATE, "events": sent, "processed": int(processed),
            "fetch_wait_ms_end": fetch_wait_ms,
            "rss_mb_start": round(samples[0][1], 1), "rss_mb_after_1min": round(warm[0][1], 1),
            "rss_mb_end": round(samples[-1][1], 1), "rss_mb_max": round(max(s[1] for s in samples), 1),
            "rss_growth_mb_after_1min": round(samples[-1][1] - warm[0][1], 1),
            "open_fds_start": samples[0][2], "open_fds_end": samples[-1][2],
            "open_fds_max": max(s[2] for s in samples)}


def _latency_row(name: str, r: dict) -> str:
    return (f"| {name} | {r['measured']:,} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['max_ms']:.1f} |")


def table(results: dict) -> str:
    d, b, w, lat = results["detector"], results["bare"], results["worker"], results["latency"]
    lines = [
        "| measure | bare aiokafka loop | gbv-worker (Faust) | worker/bare |",
        "|---|---:|---:|---:|",
        f"| events/s ({w['events']:,} events, 4 partitions, 2% GBV) | {b['events_per_s']:,.0f} | "
        f"{w['events_per_s']:,.0f} | {w['events_per_s'] / b['events_per_s']:.2f} |",
        f"| CPU s per 100,000 events | {b['cpu_s_per_100k']:.2f} | {w['cpu_s_per_100k']:.2f} | "
        f"{w['cpu_s_per_100k'] / b['cpu_s_per_100k']:.2f} |",
        f"| peak RSS MB | {b['peak_rss_mb']:.0f} | {w['peak_rss_mb']:.0f} | |",
        "",
        f"Latency at {lat['offered_events_per_s']:,} events/s for {lat['seconds']:.0f} s after a "
        f"{lat['warmup_s']:.0f} s warm-up (producer linger {lat['producer_linger_ms']} ms):",
        "",
        "| path | measured | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
        _latency_row("broker only: search event -> consumer (baseline)", lat["baseline"]),
        _latency_row("through the worker: search event -> notice -> consumer",
                     dict(lat, measured=lat["notices"])),
        f"| worker's addition | | {lat['worker_added_p50_ms']:.1f} | | {lat['worker_added_p99_ms']:.1f} | |",
        "",
        f"Worker peak RSS in the latency run: {lat['worker_peak_rss_mb']:.0f} MB",
        f"Detector: {d['detector_qps']:,.0f} queries/s on one core over {d['queries']} dev-set queries; "
        f"substring scan of {d['substring_terms']} terms: {d['substring_scan_qps']:,.0f} queries/s "
        f"(ratio {d['ratio_detector_to_scan']:.2f})",
    ]
    if "soak" in results:
        s = results["soak"]
        lines.append(f"Soak: {s['seconds']:.0f} s at {s['rate']}/s ({s['events']:,} events, {s['processed']:,} "
                     f"processed, fetch wait at the end {s['fetch_wait_ms_end']:.0f} ms): "
                     f"RSS {s['rss_mb_start']} -> {s['rss_mb_end']} MB (max {s['rss_mb_max']}, "
                     f"growth after the first minute {s['rss_growth_mb_after_1min']} MB), open fds "
                     f"{s['open_fds_start']} -> {s['open_fds_end']} (max {s['open_fds_max']})")
    return "\n".join(lines)


def main() -> None:
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "platform": platform.platform()}}
    workdir = Path(tempfile.mkdtemp(prefix="gbv-bench-"))
    log(f"logs in {workdir}")
    results["detector"] = detector_bench()
    log(f"detector {results['detector']['detector_qps']:,.0f} q/s")
    with DevBroker(log_path=workdir / "tansu.log") as broker:
        events = generated(EVENTS, seed=7)
        log(f"generated {len(events):,} events")
        results["bare"] = bare_bench(broker, events)
        log(f"bare {results['bare']['events_per_s']:,.0f} events/s")
        results["worker"] = worker_bench(broker, events, workdir)
        log(f"worker {results['worker']['events_per_s']:,.0f} events/s")
        results["worker_to_bare_ratio"] = results["worker"]["events_per_s"] / results["bare"]["events_per_s"]
        results["latency"] = latency_bench(broker, workdir)
        log(f"latency p99 {results['latency']['p99_ms']:.1f} ms")
        if SOAK_S > 0:
            log(f"soak for {SOAK_S:.0f} s")
            results["soak"] = soak_bench(broker, workdir)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\n(results in {OUT.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
