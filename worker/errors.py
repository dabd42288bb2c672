"""Errors shared by the configuration loaders (lexicons, countries, settings)."""

from __future__ import annotations


class ConfigError(Exception):
    """Invalid configuration: names the file, the field and what is wrong."""

    def __init__(self, file: str, field: str, problem: str) -> None:
        self.file = str(file)
        self.field = field
        self.problem = problem
        super().__init__(f"{self.file}: {field}: {problem}")


class ConfigErrors(Exception):
    """Several configuration errors found in one pass (all are reported at once)."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))
