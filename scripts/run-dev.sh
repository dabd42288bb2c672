#!/usr/bin/env bash
# make run: the embedded Tansu broker on 127.0.0.1:9092 (unless KAFKA_BOOTSTRAP_SERVERS
# points elsewhere), the topics, and the worker in the foreground. Ctrl-C stops both.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin/gbv-worker
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}"
broker_pid=""

cleanup() {
  trap - EXIT INT TERM
  # The worker first (it commits what it delivered), while the broker is still up.
  if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then
    kill -TERM "$worker_pid" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$worker_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$worker_pid" 2>/dev/null
    wait "$worker_pid" 2>/dev/null
  fi
  if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
    echo "run: stopping the embedded broker" >&2
    kill -TERM -- "-$broker_pid" 2>/dev/null     # its whole session: the python wrapper and tansu
    for _ in $(seq 1 50); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null
  fi
}
worker_pid=""
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$KAFKA_BOOTSTRAP_SERVERS" in
  127.0.0.1:9092|localhost:9092)
    if (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null; then
      echo "run: something already listens on 127.0.0.1:9092; using it as the broker" >&2
    else
      echo "run: starting the embedded Tansu broker on 127.0.0.1:9092 (memory only)" >&2
      # In its own session, so Ctrl-C reaches the worker first and the broker outlives it.
      setsid "$BIN" dev-broker --port 9092 >.run-broker.log 2>&1 &
      broker_pid=$!
      for _ in $(seq 1 100); do
        (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null && break
        sleep 0.1
      done
    fi
    ;;
  *)
    echo "run: using the broker at $KAFKA_BOOTSTRAP_SERVERS" >&2
    ;;
esac

"$BIN" check-config || exit 2
"$BIN" create-topics || exit 1
echo "run: worker starting; metrics on http://127.0.0.1:${GBV_METRICS_PORT:-9108}/metrics (Ctrl-C stops)" >&2
"$BIN" worker -l info &
worker_pid=$!
wait "$worker_pid"
