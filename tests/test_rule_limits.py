"""Issue 18 class 5: the rule language cannot exhaust CPU or memory, and its whitelist is exact."""

from __future__ import annotations

import ast

import pytest

from agingsim.policy.rules import (
    MAX_RULE_CHARS,
    MAX_RULE_DEPTH,
    RuleError,
    RuleGrid,
    RuleSet,
    parse_rule,
)


def chained(n: int) -> dict[str, str]:
    """d0 = age >= 61, e0 = ...; dN = "dN-1 or eN-1": naive expansion does 2^N work."""
    defs = {"d0": "age >= 61", "e0": "alone"}
    for i in range(1, n):
        defs[f"d{i}"] = f"d{i - 1} or e{i - 1}"
        defs[f"e{i}"] = f"e{i - 1} and d{i - 1}"
    return defs


def test_forty_chained_definitions_are_compiled_once(monkeypatch):
    """Memoised DAG: 40 chained definitions take linear work to check, expand and evaluate."""
    defs = chained(40)
    calls = {"names": 0, "evaluate": 0}
    import agingsim.policy.rules as rules

    real_names, real_eval = rules.rule_names, RuleGrid.evaluate

    def counting_names(tree):
        calls["names"] += 1
        return real_names(tree)

    def counting_eval(self, tree):
        calls["evaluate"] += 1
        return real_eval(self, tree)

    monkeypatch.setattr(rules, "rule_names", counting_names)
    monkeypatch.setattr(RuleGrid, "evaluate", counting_eval)
    rs = RuleSet.from_texts(defs)
    tree = rs.compile("d39 or e39")
    axes = rs.axes_of(tree)
    assert axes == {"family"}
    grid = RuleGrid(rs, axes, 100, [tree])
    value = grid.evaluate(tree)
    assert value.shape == (grid.size,)
    # 80 definitions: one expansion each, a handful of node visits each (2^40 without memoising)
    assert calls["names"] <= 2 * len(defs) + 5
    assert calls["evaluate"] <= 10 * len(defs)
    # and the answer is right: d_n = (age >= 61) or alone for every n >= 1
    expected = (grid.variable("age") >= 61) | grid.variable("alone")
    assert (value.astype(bool) == expected).all()


def test_a_huge_rule_is_refused_before_parsing():
    """A 100,000-term rule needed ~11 GB."""
    text = " or ".join(["alone"] * 100_000)
    with pytest.raises(RuleError, match=f"at most {MAX_RULE_CHARS:,}"):
        parse_rule(text)


def test_deeply_nested_not_is_refused():
    """100,000 nested `not` → MemoryError; now a clear limit."""
    with pytest.raises(RuleError, match="characters long"):
        parse_rule("not " * 100_000 + "alone")
    with pytest.raises(RuleError, match=f"nested more than {MAX_RULE_DEPTH} levels"):
        parse_rule("not " * (MAX_RULE_DEPTH + 1) + "alone")
    parse_rule("not " * 10 + "alone")  # a sane depth is fine


def test_too_many_parts_is_refused():
    text = " or ".join(f"age >= {60 + i % 40}" for i in range(150))
    assert len(text) <= MAX_RULE_CHARS
    with pytest.raises(RuleError, match="parts; at most"):
        parse_rule(text)


@pytest.mark.parametrize(
    ("text", "word"),
    [("age is 60", "is"), ("age is not 60", "is not"), ("age in 60", "in"), ("age not in 60", "not in")],
)
def test_identity_and_membership_operators_are_rejected(text, word):
    """`is`, `is not`, `in`, `not in` passed the whitelist and then crashed the evaluator."""
    with pytest.raises(RuleError, match=f"the operator '{word}' is not allowed"):
        parse_rule(text)


@pytest.mark.parametrize("number", ["1e999", "1e308", "1001", "-1"])
def test_literal_range(number):
    """`age >= 1e999` → OverflowError in the grid's age cuts; now refused at validation."""
    with pytest.raises(RuleError):
        parse_rule(f"age >= {number}")


def test_only_the_listed_nodes_are_allowed():
    for text in ["age + 1 > 60", "f(age)", "age.x", "[age]", "age if alone else 0", "'a' == age"]:
        with pytest.raises(RuleError):
            parse_rule(text)
    assert isinstance(parse_rule("60 <= age < 80 and not alone"), ast.Expression)


def test_limits_are_scenario_errors(tiny_copy, capsys):
    from agingsim.cli import main

    with (tiny_copy.dir / "tiny.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            '\n[policy]\n[[policy.schemes]]\nid = "a"\nname = "a"\nfamily = "allowance"\n'
            'eligible = "age is 80"\namount = { value = 1, assumption = "t" }\n'
            'payers = { county = { value = 1.0, assumption = "t" } }\n'
        )
    assert main(["validate", str(tiny_copy.scenario)]) == 2
    err = capsys.readouterr().err
    assert "policy.schemes[0].eligible:" in err and "'is' is not allowed" in err and "Traceback" not in err
