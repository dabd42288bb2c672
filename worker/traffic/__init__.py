"""Traffic tools: replay recorded streams, capture topics, tail notices, generate
synthetic traffic and diff two configurations over a recorded stream.

The commands (`gbv-worker replay|capture|tail|generate|diff`) are in
worker/cli/traffic.py; the workflow is in docs/replay.md.
"""
