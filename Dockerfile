# The worker image. Build: docker build -t gbv-worker .
FROM python:3.11.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY worker ./worker
RUN pip install --no-cache-dir .
COPY config ./config

# Never run as root; the worker needs no privileges.
RUN useradd --system --uid 10001 gbv
USER gbv
ENV GBV_CONFIG_DIR=/app/config
EXPOSE 9108
ENTRYPOINT ["gbv-worker"]
CMD ["worker", "-l", "info"]
