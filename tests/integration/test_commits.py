"""Offsets keep being committed however records arrive in chunks (worker/transport.py).

Regression: a first chunk of one record at offset 0, then more records. Faust registers
the offsets before a chunk as a gap only after a read offset that is not 0, so without
the transport's own gap the partition's commits stalled at 1 forever."""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from worker.testing import search_event, wait_until


async def _send(bootstrap: str, topic: str, partition: int, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, linger_ms=20)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topic, v, partition=partition) for v in values])
    finally:
        await producer.stop()


async def _committed(bootstrap: str, group: str, topic: str, partition: int) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(topic, partition)) or 0
    finally:
        await consumer.stop()


def test_commits_follow_a_single_record_first_chunk(broker, topics, start_worker):
    worker = start_worker()
    asyncio.run(_send(broker.bootstrap, topics.search, 3, [search_event("first", "weather", "SG")]))
    wait_until(lambda: asyncio.run(_committed(broker.bootstrap, topics.group, topics.search, 3)) == 1, 30,
               message="first commit")
    more = [search_event(f"more-{i}", "weather", "SG") for i in range(500)]
    asyncio.run(_send(broker.bootstrap, topics.search, 3, more))
    wait_until(lambda: asyncio.run(_committed(broker.bootstrap, topics.group, topics.search, 3)) == 501, 30,
               message="commits past the second chunk")
    assert worker.process.poll() is None
