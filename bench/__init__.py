"""`make bench`: throughput, latency, detector speed and a soak, as ratios in one run."""
