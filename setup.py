"""The C scans of the detector (worker/detection/_acscan.c); everything else is in
pyproject.toml. Optional: without a C compiler the install still succeeds and the
detector uses the same scans in Python over ahocorasick_rs (same decisions, slower).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("worker.detection._acscan", ["worker/detection/_acscan.c"], optional=True)])
