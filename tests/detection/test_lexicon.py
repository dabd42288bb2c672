from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from worker.detection.lexicon import load_lexicons, parse_term
from worker.errors import ConfigError, ConfigErrors

from .conftest import COMBINATIONS, LEXICONS, write_lexicons

MINI = """
language: xx
name: Test
script: latin
concepts:
  victim_self: [me]
rules:
  - id: xx.one
    category: other_gbv
    terms: [one]
    why: test
exclusions:
  - id: xx.x.one
    terms: [one two]
    why: test
"""


def load_with(tmp_path: Path, text: str, lang: str = "xx", combinations: str = COMBINATIONS) -> None:
    write_lexicons(tmp_path, {lang: text}, combinations)
    load_lexicons(tmp_path)


def errors_for(tmp_path: Path, text: str, lang: str = "xx", combinations: str = COMBINATIONS) -> list[ConfigError]:
    with pytest.raises(ConfigErrors) as exc:
        load_with(tmp_path, text, lang, combinations)
    return exc.value.errors


def edit(old: str, new: str, base: str = MINI) -> str:
    assert old in base
    return base.replace(old, new)


def assert_error(errs: list[ConfigError], field: str, needle: str, file: str = "xx.yaml") -> ConfigError:
    for e in errs:
        if e.field == field and needle in e.problem and e.file.endswith(file):
            # the message names the file and the field
            assert file in str(e) and field in str(e)
            return e
    raise AssertionError(f"no error {field!r} ~ {needle!r} in {[str(e) for e in errs]}")


def test_valid_set_loads(lexdir: Path) -> None:
    ls = load_lexicons(lexdir)
    assert set(ls.languages) == set(LEXICONS)
    assert len(ls.content_hash) == 64
    assert ls.vocabulary[0] == "actor_spouse"
    assert [r.id for r in ls.combinations] == ["combo.spouse_family_harm", "combo.dating_harm", "combo.topic_gender"]
    idl = ls.lexicons["id"]
    assert idl.affixes is not None and "meng" in idl.affixes.prefixes
    assert ls.lexicons["tl"].affixes.infixes == ("um", "in")  # type: ignore[union-attr]
    assert ls.lexicons["tl"].affixes.reduplication is True  # type: ignore[union-attr]
    assert [x.scope for x in idl.exclusions] == ["span", "query"]


def test_minimal_file_loads(tmp_path: Path) -> None:
    load_with(tmp_path, MINI)


def test_unknown_top_level_key(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, MINI + "\nextra: 1\n")
    assert_error(errs, "extra", "unknown key")


def test_unknown_rule_key(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("    why: test\nexclusions", "    why: test\n    weight: 2\nexclusions"))
    assert_error(errs, "rules[0].weight", "unknown key")


def test_unknown_exclusion_key(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, MINI + "    note: x\n")
    assert_error(errs, "exclusions[0].note", "unknown key")


def test_unknown_category(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("category: other_gbv", "category: bullying"))
    assert_error(errs, "rules[0].category", "unknown category 'bullying'")


def test_unknown_concept_in_concepts(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("victim_self: [me]", "victim: [me]"))
    assert_error(errs, "concepts.victim", "unknown concept 'victim'")


def test_unknown_concept_in_all(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("terms: [one]", "all: [victim_self, helpp]"))
    assert_error(errs, "rules[0].all[1]", "unknown concept 'helpp'")


def test_unknown_concept_in_combinations(tmp_path: Path) -> None:
    combos = COMBINATIONS.replace("all: [gbv_topic, gender_context]", "all: [gbv_topic, [gender, help]]")
    errs = errors_for(tmp_path, MINI, combinations=combos)
    assert_error(errs, "rules[2].all[1][0]", "unknown concept 'gender'", file="combinations.yaml")


def test_duplicate_rule_id_in_file(tmp_path: Path) -> None:
    text = edit("exclusions:", "  - id: xx.one\n    category: harassment\n    terms: [two]\n    why: dup\nexclusions:")
    errs = errors_for(tmp_path, text)
    assert_error(errs, "rules[1].id", "duplicate rule id 'xx.one'")


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    other = MINI.replace("language: xx", "language: yy").replace("xx.", "yy.").replace("id: yy.one", "id: xx.one")
    write_lexicons(tmp_path, {"xx": MINI, "yy": other})
    with pytest.raises(ConfigErrors) as exc:
        load_lexicons(tmp_path)
    # yy's rule id does not start with yy. and duplicates xx.one
    assert_error(exc.value.errors, "rules[0].id", "must start with 'yy.'", file="yy.yaml")


def test_duplicate_exclusion_id(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("id: xx.x.one", "id: xx.one"))
    assert_error(errs, "exclusions[0].id", "duplicate rule id 'xx.one'")


def test_empty_terms_list(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("terms: [one]", "terms: []"))
    assert_error(errs, "rules[0].terms", "must not be an empty list")


def test_empty_term(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("terms: [one]", 'terms: [one, ""]'))
    assert_error(errs, "rules[0].terms[1]", "must not be empty")


def test_term_empty_after_normalisation(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("victim_self: [me]", 'victim_self: [me, "!!"]'))
    assert_error(errs, "concepts.victim_self[1]", "empty after normalisation")


def test_boolean_term(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("terms: [one]", "terms: [one, no]"))
    e = assert_error(errs, "rules[0].terms[1]", "boolean")
    assert "quote" in e.problem


def test_number_term(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("terms: [one]", "terms: [129]"))
    assert_error(errs, "rules[0].terms[0]", "quote numbers")


def test_language_must_equal_file_name(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, MINI, lang="zz")
    assert_error(errs, "language", "must equal the file name 'zz'", file="zz.yaml")


def test_bad_scope(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("    terms: [one two]", "    scope: page\n    terms: [one two]"))
    assert_error(errs, "exclusions[0].scope", "bad scope 'page'")


def test_bad_script(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("script: latin", "script: cyrillic"))
    assert_error(errs, "script", "unknown script")


def test_missing_required_keys(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("name: Test\n", ""))
    assert_error(errs, "name", "missing required key")


def test_missing_why(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("    why: test\nexclusions", "exclusions"))
    assert_error(errs, "rules[0].why", "must be a string")


def test_rule_id_prefix(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("id: xx.one", "id: en.one"))
    assert_error(errs, "rules[0].id", "must start with 'xx.'")


def test_terms_and_all_exclusive(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("terms: [one]", "terms: [one]\n    all: [victim_self]"))
    assert_error(errs, "rules[0]", "exactly one of")


def test_star_only_at_end(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("terms: [one]", 'terms: ["r*pe"]'))
    assert_error(errs, "rules[0].terms[0]", "only allowed at the end")


def test_bad_placeholder(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("terms: [one]", 'terms: ["pukul {number}"]'))
    assert_error(errs, "rules[0].terms[0]", "{num}")


def test_num_only_term(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("terms: [one]", 'terms: ["{num}"]'))
    assert_error(errs, "rules[0].terms[0]", "only {num}")


def test_bad_affixes(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, edit("script: latin\n", "script: latin\naffixes:\n  prefixes: [di, 'Me-']\n  suffix: [an]\n"))
    assert_error(errs, "affixes.prefixes[1]", "lower-case")
    assert_error(errs, "affixes.suffix", "unknown key")


def test_invalid_yaml(tmp_path: Path) -> None:
    errs = errors_for(tmp_path, "language: xx\nrules: [\n")
    assert_error(errs, "(file)", "invalid YAML")


def test_missing_combinations(tmp_path: Path) -> None:
    (tmp_path / "xx.yaml").write_text(MINI, encoding="utf-8")
    with pytest.raises(ConfigErrors) as exc:
        load_lexicons(tmp_path)
    assert_error(exc.value.errors, "(file)", "missing", file="combinations.yaml")


def test_all_errors_reported_together(tmp_path: Path) -> None:
    text = edit("category: other_gbv", "category: nope", edit("victim_self: [me]", "victim: [me]"))
    errs = errors_for(tmp_path, text + "\nbogus: true\n")
    fields = {e.field for e in errs}
    assert {"rules[0].category", "concepts.victim", "bogus"} <= fields
    msg = str(ConfigErrors(errs))
    assert msg.count("xx.yaml") >= 3


def test_skip_invalid(tmp_path: Path) -> None:
    bad = edit("category: other_gbv", "category: nope")
    write_lexicons(tmp_path, {"zz": MINI.replace("xx", "zz"), "yy": bad.replace("xx", "yy")})
    ls = load_lexicons(tmp_path, skip_invalid=True)
    assert ls.languages == ("zz",)
    assert ls.skipped and ls.skipped[0].file.endswith("yy.yaml")


def test_content_hash_changes(tmp_path: Path) -> None:
    write_lexicons(tmp_path, {"xx": MINI})
    h1 = load_lexicons(tmp_path).content_hash
    (tmp_path / "xx.yaml").write_text(MINI.replace("terms: [one]", "terms: [one, uno]"), encoding="utf-8")
    h2 = load_lexicons(tmp_path).content_hash
    assert h1 != h2


def test_parse_term() -> None:
    t = parse_term("abus*")
    assert t.prefix and t.tokens == ("abus",) and t.kind == "word"
    t = parse_term("pukul {num}")
    assert t.has_num and t.kind == "word"
    t = parse_term("가정 폭력")
    assert t.kind == "nospace" and t.tokens == ("가정", "폭력")
    t = parse_term("ตี{num}")
    assert t.kind == "nospace" and t.has_num
    assert parse_term("K.D.R.T").tokens == ("kdrt",)
    with pytest.raises(ValueError):
        parse_term("#")


def test_combination_rule_validation(tmp_path: Path) -> None:
    combos = textwrap.dedent(COMBINATIONS) + "  - id: bad\n    category: harassment\n    all: []\n    why: x\n"
    errs = errors_for(tmp_path, MINI, combinations=combos)
    assert_error(errs, "rules[3].id", "must start with 'combo.'", file="combinations.yaml")
    assert_error(errs, "rules[3].all", "non-empty list", file="combinations.yaml")


def test_concept_name_inside_an_inline_list(tmp_path: Path) -> None:
    # `all: [[victim_self, x]]` reads victim_self as the words "victim self": refused.
    errs = errors_for(tmp_path, edit("terms: [one]", "all: [help, [victim_self, beaten]]"))
    assert_error(errs, "rules[0].all[1][0]", "'victim_self' is a concept name inside a list of terms")
