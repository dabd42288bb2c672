"""Loading and strict validation of the detection lexicons (config/lexicons/).

``load_lexicons(lexicon_dir)`` reads ``combinations.yaml`` and every ``<lang>.yaml``
once, validates them against docs/lexicon-format.md and returns an immutable
``LexiconSet``. Every problem found in every file is collected and raised together as
one ``ConfigErrors`` whose items name the file, the field (``rules[3].category``) and
what is wrong.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from worker.errors import ConfigError, ConfigErrors

from .normalize import NUM_SENTINEL, has_nospace_script, tokenize

__all__ = [
    "CATEGORIES",
    "SCRIPTS",
    "Affixes",
    "Exclusion",
    "Lexicon",
    "LexiconSet",
    "Rule",
    "load_lexicons",
    "parse_term",
    "ParsedTerm",
]

CATEGORIES = (
    "domestic_violence",
    "sexual_violence",
    "harassment",
    "online_gbv",
    "dating_violence",
    "stalking",
    "trafficking",
    "other_gbv",
)
SCRIPTS = ("latin", "thai", "hangul", "han")
COMBINATIONS_FILE = "combinations.yaml"

_LANG_KEYS = {"language", "name", "script", "affixes", "concepts", "rules", "exclusions"}
_LANG_REQUIRED = ("language", "name", "script")
_AFFIX_KEYS = {"prefixes", "suffixes", "infixes", "reduplication"}
_RULE_KEYS = {"id", "category", "terms", "all", "why"}
_EXCL_KEYS = {"id", "scope", "terms", "why"}
_COMBO_FILE_KEYS = {"concepts_vocabulary", "rules"}
_COMBO_RULE_KEYS = {"id", "category", "all", "why"}
_SCOPES = ("span", "query")
_ID_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
_AFFIX_RE = re.compile(r"^[a-z]+$")

# Tagalog defaults when its file gives no `infixes` / `reduplication`.
_DEFAULT_INFIXES = {"tl": ("um", "in")}
_DEFAULT_REDUPLICATION = {"tl": True}

# A group of an `all:` rule: a concept name, or a tuple of terms (language files) /
# a tuple of concept names (combinations.yaml).
Group = Union[str, tuple[str, ...]]


@dataclass(frozen=True)
class ParsedTerm:
    """A term after normalisation.

    kind: ``word`` (Latin script, whole words, padded with spaces) or ``nospace``
    (contains Thai/Hangul/Han: matched anywhere, spaces ignored).
    tokens: normalised tokens; ``{num}`` is the token ``NUM_SENTINEL``.
    prefix: trailing ``*`` (the last word is a prefix; word kind only).
    """

    raw: str
    kind: str
    tokens: tuple[str, ...]
    prefix: bool

    @property
    def has_num(self) -> bool:
        return NUM_SENTINEL in self.tokens

    @property
    def text(self) -> str:
        """The term as written in the lexicon (same as ``raw``)."""
        return self.raw


@dataclass(frozen=True)
class Affixes:
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    infixes: tuple[str, ...] = ()
    reduplication: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    why: str
    language: str | None  # None for combinations.yaml
    terms: tuple[ParsedTerm, ...] = ()
    all: tuple[Group, ...] = ()  # language file: str concept | tuple[ParsedTerm]; combos: str | tuple[str]

    @property
    def is_combination(self) -> bool:
        return bool(self.all)


@dataclass(frozen=True)
class Exclusion:
    id: str
    scope: str  # "span" | "query"
    terms: tuple[ParsedTerm, ...]
    why: str
    language: str


@dataclass(frozen=True)
class Lexicon:
    language: str
    name: str
    script: str
    path: str
    affixes: Affixes | None
    concepts: Mapping[str, tuple[ParsedTerm, ...]]
    rules: tuple[Rule, ...]
    exclusions: tuple[Exclusion, ...]
    sha256: str


@dataclass(frozen=True)
class LexiconSet:
    lexicons: Mapping[str, Lexicon]  # language code -> lexicon, in file-name order
    combinations: tuple[Rule, ...]
    vocabulary: tuple[str, ...]
    content_hash: str  # sha256 over every *.yaml file name and content in the directory
    directory: str = ""
    files: tuple[str, ...] = field(default=())
    skipped: tuple[ConfigError, ...] = field(default=())  # only with skip_invalid=True

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.lexicons)


def parse_term(raw: str) -> ParsedTerm:
    """Normalise one term; raises ValueError with a readable problem."""
    text = raw.strip()
    prefix = False
    if text.endswith("*"):
        prefix = True
        text = text[:-1].rstrip()
    if "*" in text:
        raise ValueError(f"'*' is only allowed at the end of a term: {raw!r}")
    if "{" in text or "}" in text:
        if re.search(r"\{(?!num\})|(?<!\{num)\}", text):
            raise ValueError(f"only the placeholder {{num}} is allowed in braces: {raw!r}")
        text = text.replace("{num}", f" {NUM_SENTINEL} ")
    toks = tuple(tokenize(text))
    if not toks:
        raise ValueError(f"term is empty after normalisation: {raw!r}")
    if all(t == NUM_SENTINEL for t in toks):
        raise ValueError(f"a term cannot be only {{num}} (it would match every number): {raw!r}")
    nospace = any(_is_nospace(t) for t in toks)
    if prefix and toks[-1] == NUM_SENTINEL:
        raise ValueError(f"'*' cannot follow {{num}}: {raw!r}")
    if prefix and nospace:
        prefix = False  # Thai/Korean/Chinese terms already match anywhere
    return ParsedTerm(raw=raw, kind="nospace" if nospace else "word", tokens=toks, prefix=prefix)


def _is_nospace(tok: str) -> bool:
    return has_nospace_script(tok)


# --- validation helpers ---------------------------------------------------------------


class _Ctx:
    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[ConfigError] = []

    def err(self, fld: str, problem: str) -> None:
        self.errors.append(ConfigError(self.file, fld, problem))


def _type_name(v: Any) -> str:
    if v is None:
        return "empty (null)"
    if isinstance(v, bool):
        return f"a boolean ({v}; YAML reads yes/no/on/off/true/false as booleans: quote it)"
    return type(v).__name__


def _check_keys(ctx: _Ctx, fld: str, obj: Mapping[str, Any], allowed: set[str]) -> None:
    for k in obj:
        if k not in allowed:
            where = f"{fld}.{k}" if fld else str(k)
            ctx.err(where, f"unknown key {k!r} (allowed: {', '.join(sorted(allowed))})")


def _nonempty_str(ctx: _Ctx, fld: str, v: Any) -> str | None:
    if not isinstance(v, str):
        ctx.err(fld, f"must be a string, got {_type_name(v)}")
        return None
    if not v.strip():
        ctx.err(fld, "must not be empty")
        return None
    return v


def _terms(ctx: _Ctx, fld: str, v: Any) -> tuple[ParsedTerm, ...]:
    if not isinstance(v, list):
        ctx.err(fld, f"must be a list of terms, got {_type_name(v)}")
        return ()
    if not v:
        ctx.err(fld, "must not be an empty list")
        return ()
    out = []
    for i, t in enumerate(v):
        f = f"{fld}[{i}]"
        if not isinstance(t, str):
            hint = " (quote numbers)" if isinstance(t, (int, float)) and not isinstance(t, bool) else ""
            ctx.err(f, f"term must be a string, got {_type_name(t)}{hint}")
            continue
        if not t.strip():
            ctx.err(f, "term must not be empty (Aho-Corasick rejects empty patterns)")
            continue
        try:
            out.append(parse_term(t))
        except ValueError as e:
            ctx.err(f, str(e))
    return tuple(out)


def _category(ctx: _Ctx, fld: str, v: Any) -> str | None:
    if not isinstance(v, str) or v not in CATEGORIES:
        ctx.err(fld, f"unknown category {v!r} (expected one of: {', '.join(CATEGORIES)})")
        return None
    return v


def _rule_id(ctx: _Ctx, fld: str, v: Any, prefix: str, seen: dict[str, str]) -> str | None:
    s = _nonempty_str(ctx, fld, v)
    if s is None:
        return None
    if not s.startswith(prefix):
        ctx.err(fld, f"id {s!r} must start with {prefix!r}")
    elif not _ID_RE.match(s):
        ctx.err(fld, f"id {s!r} may only contain a-z, 0-9, '_' and dots")
    if s in seen:
        ctx.err(fld, f"duplicate rule id {s!r} (first defined in {seen[s]})")
    else:
        seen[s] = f"{ctx.file}:{fld}"
    return s


def _load_yaml(ctx: _Ctx, path: Path) -> tuple[Any, bytes]:
    data = path.read_bytes()
    try:
        obj = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        ctx.err("(file)", f"not valid UTF-8: {e}")
        return None, data
    except yaml.YAMLError as e:
        ctx.err("(file)", f"invalid YAML: {e}")
        return None, data
    if not isinstance(obj, dict):
        ctx.err("(file)", f"must be a mapping at top level, got {_type_name(obj)}")
        return None, data
    return obj, data


# --- combinations.yaml ------------------------------------------------------------------


def _load_combinations(path: Path, seen_ids: dict[str, str]) -> tuple[tuple[str, ...], tuple[Rule, ...], list[ConfigError]]:
    ctx = _Ctx(str(path))
    if not path.is_file():
        ctx.err("(file)", "missing: combinations.yaml is required")
        return (), (), ctx.errors
    obj, _ = _load_yaml(ctx, path)
    if obj is None:
        return (), (), ctx.errors
    _check_keys(ctx, "", obj, _COMBO_FILE_KEYS)
    vocab_raw = obj.get("concepts_vocabulary")
    vocab: list[str] = []
    if not isinstance(vocab_raw, list) or not vocab_raw:
        ctx.err("concepts_vocabulary", "must be a non-empty list of concept names")
    else:
        for i, c in enumerate(vocab_raw):
            if not isinstance(c, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", c):
                ctx.err(f"concepts_vocabulary[{i}]", f"invalid concept name {c!r}")
            elif c in vocab:
                ctx.err(f"concepts_vocabulary[{i}]", f"duplicate concept name {c!r}")
            else:
                vocab.append(c)
    vset = set(vocab)
    rules: list[Rule] = []
    rules_raw = obj.get("rules", [])
    if not isinstance(rules_raw, list):
        ctx.err("rules", f"must be a list, got {_type_name(rules_raw)}")
        rules_raw = []
    for i, r in enumerate(rules_raw):
        f = f"rules[{i}]"
        if not isinstance(r, dict):
            ctx.err(f, f"must be a mapping, got {_type_name(r)}")
            continue
        _check_keys(ctx, f, r, _COMBO_RULE_KEYS)
        rid = _rule_id(ctx, f"{f}.id", r.get("id"), "combo.", seen_ids)
        cat = _category(ctx, f"{f}.category", r.get("category"))
        why = _nonempty_str(ctx, f"{f}.why", r.get("why"))
        groups: list[Group] = []
        all_raw = r.get("all")
        if not isinstance(all_raw, list) or not all_raw:
            ctx.err(f"{f}.all", "must be a non-empty list of groups (a concept name or a list of concept names)")
        else:
            for j, g in enumerate(all_raw):
                gf = f"{f}.all[{j}]"
                names = [g] if isinstance(g, str) else g
                if not isinstance(names, list) or not names:
                    ctx.err(gf, f"must be a concept name or a non-empty list of concept names, got {_type_name(g)}")
                    continue
                ok = True
                for k, n in enumerate(names):
                    nf = gf if isinstance(g, str) else f"{gf}[{k}]"
                    if not isinstance(n, str) or n not in vset:
                        ctx.err(nf, f"unknown concept {n!r} (not in concepts_vocabulary)")
                        ok = False
                if ok:
                    groups.append(g if isinstance(g, str) else tuple(names))
        if rid and cat and why and len(groups) == len(all_raw or []):
            rules.append(Rule(id=rid, category=cat, why=why, language=None, all=tuple(groups)))
    return tuple(vocab), tuple(rules), ctx.errors


# --- <lang>.yaml --------------------------------------------------------------------------


def _load_language(path: Path, vocab: set[str], seen_ids: dict[str, str]) -> tuple[Lexicon | None, list[ConfigError]]:
    ctx = _Ctx(str(path))
    obj, data = _load_yaml(ctx, path)
    if obj is None:
        return None, ctx.errors
    lang_expected = path.stem
    _check_keys(ctx, "", obj, _LANG_KEYS)
    for k in _LANG_REQUIRED:
        if k not in obj:
            ctx.err(k, "missing required key")
    language = obj.get("language")
    if "language" in obj and language != lang_expected:
        ctx.err("language", f"{language!r} must equal the file name {lang_expected!r}")
    lang = lang_expected
    name = obj.get("name")
    if "name" in obj:
        _nonempty_str(ctx, "name", name)
    script = obj.get("script")
    if "script" in obj and script not in SCRIPTS:
        ctx.err("script", f"unknown script {script!r} (expected one of: {', '.join(SCRIPTS)})")

    affixes = None
    if "affixes" in obj:
        a = obj["affixes"]
        if not isinstance(a, dict):
            ctx.err("affixes", f"must be a mapping with prefixes and suffixes, got {_type_name(a)}")
        else:
            _check_keys(ctx, "affixes", a, _AFFIX_KEYS)
            lists: dict[str, tuple[str, ...]] = {}
            for key in ("prefixes", "suffixes", "infixes"):
                v = a.get(key, [])
                if not isinstance(v, list):
                    ctx.err(f"affixes.{key}", f"must be a list, got {_type_name(v)}")
                    v = []
                good = []
                for i, x in enumerate(v):
                    if not isinstance(x, str) or not _AFFIX_RE.match(x):
                        ctx.err(f"affixes.{key}[{i}]", f"affix must be a non-empty lower-case a-z string, got {x!r}")
                    else:
                        good.append(x)
                lists[key] = tuple(good)
            redup = a.get("reduplication", _DEFAULT_REDUPLICATION.get(lang, False))
            if not isinstance(redup, bool):
                ctx.err("affixes.reduplication", f"must be true or false, got {_type_name(redup)}")
                redup = False
            infixes = lists["infixes"] if "infixes" in a else _DEFAULT_INFIXES.get(lang, ())
            affixes = Affixes(lists["prefixes"], lists["suffixes"], infixes, redup)

    concepts: dict[str, tuple[ParsedTerm, ...]] = {}
    craw = obj.get("concepts", {}) or {}
    if not isinstance(craw, dict):
        ctx.err("concepts", f"must be a mapping of concept name -> list of terms, got {_type_name(craw)}")
        craw = {}
    for cname, terms in craw.items():
        f = f"concepts.{cname}"
        if cname not in vocab:
            ctx.err(f, f"unknown concept {cname!r} (not in concepts_vocabulary of combinations.yaml)")
            continue
        concepts[cname] = _terms(ctx, f, terms)

    rules: list[Rule] = []
    rraw = obj.get("rules", []) or []
    if not isinstance(rraw, list):
        ctx.err("rules", f"must be a list, got {_type_name(rraw)}")
        rraw = []
    for i, r in enumerate(rraw):
        f = f"rules[{i}]"
        if not isinstance(r, dict):
            ctx.err(f, f"must be a mapping, got {_type_name(r)}")
            continue
        _check_keys(ctx, f, r, _RULE_KEYS)
        rid = _rule_id(ctx, f"{f}.id", r.get("id"), f"{lang}.", seen_ids)
        cat = _category(ctx, f"{f}.category", r.get("category"))
        why = _nonempty_str(ctx, f"{f}.why", r.get("why"))
        has_terms, has_all = "terms" in r, "all" in r
        terms: tuple[ParsedTerm, ...] = ()
        groups: list[Group] = []
        ok = True
        if has_terms == has_all:
            ctx.err(f, "a rule needs exactly one of `terms` (direct rule) or `all` (combination)")
            ok = False
        elif has_terms:
            n_err = len(ctx.errors)
            terms = _terms(ctx, f"{f}.terms", r["terms"])
            ok = len(ctx.errors) == n_err
        else:
            all_raw = r["all"]
            if not isinstance(all_raw, list) or not all_raw:
                ctx.err(f"{f}.all", "must be a non-empty list of groups (a concept name or a list of terms)")
                ok = False
            else:
                for j, g in enumerate(all_raw):
                    gf = f"{f}.all[{j}]"
                    if isinstance(g, str):
                        if g not in vocab:
                            ctx.err(gf, f"unknown concept {g!r} (not in concepts_vocabulary); write inline terms as a list: [{g}]")
                            ok = False
                        else:
                            groups.append(g)
                    else:
                        n_err = len(ctx.errors)
                        # A concept name like actor_spouse inside an inline list would be read
                        # as the words "actor spouse": a mistake that silently matches nothing.
                        # (Names without "_", like help, are ordinary words too.)
                        for k, t in enumerate(g if isinstance(g, list) else []):
                            if isinstance(t, str) and "_" in t and t.strip() in vocab:
                                ctx.err(f"{gf}[{k}]", f"{t.strip()!r} is a concept name inside a list of terms; "
                                        f"give the concept as a group of its own: all: [{t.strip()}, [...]]")
                        ts = _terms(ctx, gf, g)
                        if len(ctx.errors) != n_err:
                            ok = False
                        groups.append(ts)
        if ok and rid and cat and why:
            rules.append(Rule(id=rid, category=cat, why=why, language=lang, terms=terms, all=tuple(groups)))

    exclusions: list[Exclusion] = []
    xraw = obj.get("exclusions", []) or []
    if not isinstance(xraw, list):
        ctx.err("exclusions", f"must be a list, got {_type_name(xraw)}")
        xraw = []
    for i, x in enumerate(xraw):
        f = f"exclusions[{i}]"
        if not isinstance(x, dict):
            ctx.err(f, f"must be a mapping, got {_type_name(x)}")
            continue
        _check_keys(ctx, f, x, _EXCL_KEYS)
        xid = _rule_id(ctx, f"{f}.id", x.get("id"), f"{lang}.", seen_ids)
        scope = x.get("scope", "span")
        if scope not in _SCOPES:
            ctx.err(f"{f}.scope", f"bad scope {scope!r} (expected 'span' (default) or 'query')")
        why = _nonempty_str(ctx, f"{f}.why", x.get("why"))
        if "terms" not in x:
            ctx.err(f"{f}.terms", "missing required key")
            continue
        n_err = len(ctx.errors)
        terms = _terms(ctx, f"{f}.terms", x["terms"])
        if len(ctx.errors) == n_err and xid and why and scope in _SCOPES:
            exclusions.append(Exclusion(id=xid, scope=scope, terms=terms, why=why, language=lang))

    if ctx.errors:
        return None, ctx.errors
    lex = Lexicon(
        language=lang,
        name=str(name),
        script=str(script),
        path=str(path),
        affixes=affixes,
        concepts=concepts,
        rules=tuple(rules),
        exclusions=tuple(exclusions),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return lex, []


def load_lexicons(lexicon_dir: Path | str, *, skip_invalid: bool = False) -> LexiconSet:
    """Load and validate every lexicon file of ``lexicon_dir`` (raises ConfigErrors).

    ``skip_invalid=True`` (developer CLIs only) leaves out language files that have
    errors instead of raising, and lists their errors in ``LexiconSet.skipped``;
    errors in combinations.yaml still raise.
    """
    d = Path(lexicon_dir)
    if not d.is_dir():
        raise ConfigErrors([ConfigError(str(d), "(directory)", "lexicon directory not found")])
    errors: list[ConfigError] = []
    seen_ids: dict[str, str] = {}
    vocab, combos, errs = _load_combinations(d / COMBINATIONS_FILE, seen_ids)
    errors.extend(errs)
    if errors:
        raise ConfigErrors(errors)
    lexicons: dict[str, Lexicon] = {}
    files = sorted(p for p in d.glob("*.yaml") if p.is_file())
    for p in files:
        if p.name == COMBINATIONS_FILE:
            continue
        lex, errs = _load_language(p, set(vocab), seen_ids)
        errors.extend(errs)
        if lex is not None:
            lexicons[lex.language] = lex
    if errors and not skip_invalid:
        raise ConfigErrors(errors)
    h = hashlib.sha256()
    for p in files:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return LexiconSet(
        lexicons=lexicons,
        combinations=combos,
        vocabulary=vocab,
        content_hash=h.hexdigest(),
        directory=str(d),
        files=tuple(str(p) for p in files),
        skipped=tuple(errors),
    )
