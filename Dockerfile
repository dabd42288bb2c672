# The worker image. Build: docker build -t gbv-worker .
FROM python:3.11.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY worker ./worker
# gcc only to build the detector's C scans (worker/detection/_acscan.c), then removed.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install --no-cache-dir . \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY config ./config

# Never run as root; the worker needs no privileges.
RUN useradd --system --uid 10001 gbv
USER gbv
ENV GBV_CONFIG_DIR=/app/config
EXPOSE 9108
ENTRYPOINT ["gbv-worker"]
CMD ["worker", "-l", "info"]
