"""Eligibility rules: declarative formulas over a person's attributes, written in the scenario.

A rule is a short expression a civil-affairs officer can read against the policy text, e.g. seed 004
三(一)4 "70周岁及以上的计生特扶老人、独居老人"::

    age >= 70 and (fp_special or alone)

Vocabulary: ``age`` (completed years), ``ability`` compared with the level names ``intact`` < ``mild``
< ``moderate`` < ``severe`` < ``complete``; yes/no attributes ``tekun_centralised``,
``tekun_dispersed``, ``dibao``, ``near_dibao``, ``ordinary``, ``with_family``, ``empty_nest``,
``left_behind``, ``alone``, ``lost_only_child``, ``fp_special``, ``veteran_family``,
``model_worker``, ``handicapped``, ``ltc_insured``, ``urban``, ``rural``, ``male``, ``female``; the
care setting ``family_care_only``, ``uses_home_services``, ``in_family_bed``, ``in_day_care``,
``in_institution``; and
names the scenario defines in ``[policy.definitions]``. Operators: ``and or not``, comparisons,
parentheses. Anything else is rejected when the scenario is loaded.

Rules are evaluated once per parameter period on the grid of attribute combinations that the rules
mention (age × ability × the referenced categories), not per person per month; a person's monthly
entitlement is then one table lookup.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from agingsim.population.attributes import (
    ABILITY_LEVELS,
    CARE_SETTINGS,
    ECON_STATUSES,
    FAMILY_SITUATIONS,
    FLAGS,
    RESIDENCES,
    SEXES,
)

LEVEL_CONSTANTS: dict[str, int] = {lv: i for i, lv in enumerate(ABILITY_LEVELS)}
NUMERIC_VARIABLES = ("age", "ability")

#: Yes/no variable → (grid axis, code meaning "yes").
BOOLEAN_VARIABLES: dict[str, tuple[str, int]] = {
    **{name: ("econ", i) for i, name in enumerate(ECON_STATUSES)},
    **{name: ("family", i) for i, name in enumerate(FAMILY_SITUATIONS)},
    **{name: (name, 1) for name in FLAGS},
    "urban": ("residence", RESIDENCES.index("urban")),
    "rural": ("residence", RESIDENCES.index("rural")),
    "male": ("sex", SEXES.index("M")),
    "female": ("sex", SEXES.index("F")),
    "family_care_only": ("care_setting", CARE_SETTINGS.index("family_care")),
    "uses_home_services": ("care_setting", CARE_SETTINGS.index("home_services")),
    "in_family_bed": ("care_setting", CARE_SETTINGS.index("family_bed")),
    "in_day_care": ("care_setting", CARE_SETTINGS.index("day_care")),
    "in_institution": ("care_setting", CARE_SETTINGS.index("institution")),
}
AXIS_SIZES: dict[str, int] = {
    "econ": len(ECON_STATUSES),
    "family": len(FAMILY_SITUATIONS),
    "residence": len(RESIDENCES),
    "sex": len(SEXES),
    "care_setting": len(CARE_SETTINGS),
    **{name: 2 for name in FLAGS},
}
VOCABULARY = frozenset([*NUMERIC_VARIABLES, *LEVEL_CONSTANTS, *BOOLEAN_VARIABLES])
#: Axes whose code changes during a person's life; every other attribute is fixed from entry.
MOVING_AXES = frozenset({"age", "ability", "care_setting"})

_COMPARE = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}


#: Limits on rules, so that no scenario (or app upload) can exhaust CPU or memory: a rule is a
#: line of a policy text, a definition a named clause; none of the seeds needs a tenth of these.
MAX_RULE_CHARS = 2_000
MAX_RULE_NODES = 400
MAX_RULE_DEPTH = 30
MAX_DEFINITIONS = 200
#: Numbers in rules are ages (and level codes): a number above this is not an age.
MAX_LITERAL = 1_000

#: Every syntax node a rule may contain, exactly: ``is``, ``in``, arithmetic, calls ... are not.
_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.Compare,
    ast.Name,
    ast.Load,
    ast.Constant,
    *_COMPARE,
)
_OPERATOR_WORDS = {ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}


class RuleError(ValueError):
    """A rule that cannot be parsed or names something unknown."""


def _depth(tree: ast.AST) -> int:
    """Nesting depth of a syntax tree (iteratively: a deep tree must not exhaust the stack)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _describe(node: ast.AST) -> str:
    if type(node) in _OPERATOR_WORDS:
        return f"the operator '{_OPERATOR_WORDS[type(node)]}'"
    try:
        return f"'{ast.unparse(node)}'"
    except Exception:  # an operator node alone has no source form
        return f"'{type(node).__name__}'"


def parse_rule(text: str) -> ast.Expression:
    """Parse and check a rule's syntax: only names, numbers, comparisons, and/or/not, within the
    size, depth and literal limits above."""
    text = text.strip()
    if len(text) > MAX_RULE_CHARS:
        raise RuleError(
            f"rule is {len(text):,} characters long; at most {MAX_RULE_CHARS:,}: "
            "name its parts in [policy.definitions]"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise RuleError(f"cannot parse rule {text[:80]!r}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise RuleError(
            f"rule {text[:80]!r}... is nested too deeply (at most {MAX_RULE_DEPTH} levels)"
        ) from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_RULE_NODES:
        raise RuleError(
            f"rule {text[:80]!r}... has {len(nodes):,} parts; at most {MAX_RULE_NODES}: "
            "name its parts in [policy.definitions]"
        )
    if _depth(tree) > MAX_RULE_DEPTH:
        raise RuleError(f"rule {text[:80]!r}... is nested more than {MAX_RULE_DEPTH} levels deep")
    for node in nodes:
        ok = isinstance(node, _ALLOWED_NODES)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                ok = False
            elif not (math.isfinite(value) and 0 <= value <= MAX_LITERAL):
                raise RuleError(
                    f"rule {text!r}: the number {value!r} is out of range: numbers in rules are ages "
                    f"or levels, in [0, {MAX_LITERAL:,}]"
                )
        if not ok:
            raise RuleError(
                f"rule {text[:80]!r}: {_describe(node)} is not allowed "
                "(use and/or/not and the comparisons < <= > >= == !=)"
            )
    return tree


def rule_names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _numbers(tree: ast.AST) -> list[float]:
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]


@dataclass(frozen=True)
class RuleSet:
    """Definitions plus the rules of every scheme, checked together.

    Definitions form a DAG, resolved once: each definition's expansion (the built-in names it
    finally reads) is computed one time and reused, so 40 chained definitions cost 40 steps, not
    2^40; the grid likewise evaluates each definition once."""

    definitions: dict[str, ast.Expression]
    #: definition → the built-in names it reads, definitions expanded
    uses: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, definitions: dict[str, str]) -> RuleSet:
        if len(definitions) > MAX_DEFINITIONS:
            raise RuleError(f"{len(definitions)} definitions; at most {MAX_DEFINITIONS}")
        parsed: dict[str, ast.Expression] = {}
        for name, text in definitions.items():
            if name in VOCABULARY:
                raise RuleError(f"definition '{name}' shadows a built-in name")
            parsed[name] = parse_rule(text)
        rs = cls(parsed)
        for name in parsed:
            rs._expand(name, (name,))
        return rs

    def _unknown(self, name: str) -> RuleError:
        known = ", ".join(sorted(VOCABULARY | set(self.definitions)))
        return RuleError(f"unknown attribute '{name}'; known: {known}")

    def _expand(self, name: str, stack: tuple[str, ...]) -> frozenset[str]:
        """The built-in names a definition reads (memoised); raises on unknown names and cycles."""
        if name in self.uses:
            return self.uses[name]
        found: set[str] = set()
        for used in rule_names(self.definitions[name]):
            if used in VOCABULARY:
                found.add(used)
            elif used not in self.definitions:
                raise self._unknown(used)
            elif used in stack:
                raise RuleError(f"definition cycle: {' → '.join((*stack, used))}")
            else:
                found |= self._expand(used, (*stack, used))
        self.uses[name] = frozenset(found)
        return self.uses[name]

    def _check_names(self, tree: ast.AST) -> None:
        for name in rule_names(tree):
            if name not in VOCABULARY and name not in self.definitions:
                raise self._unknown(name)

    def compile(self, text: str) -> ast.Expression:
        tree = parse_rule(text)
        self._check_names(tree)
        return tree

    def axes_of(self, tree: ast.AST) -> set[str]:
        """Grid axes a rule needs (definitions expanded)."""
        names: set[str] = set()
        for name in rule_names(tree):
            names |= self.uses[name] if name in self.definitions else {name}
        return {BOOLEAN_VARIABLES[n][0] for n in names if n in BOOLEAN_VARIABLES}


class RuleGrid:
    """Every combination of age band, ability level (and dead) and the referenced axes.

    Ages 60..age_max are grouped into bands on which every rule is constant: rules compare ``age``
    only with numbers, so the bands split at each number the rules contain (``age >= 80`` splits
    at 80, ``age > 79.5`` at 80 too). Given no rules, every year of age is a band. Fewer cells make
    the monthly count of people into cells cheap."""

    def __init__(
        self, rules: RuleSet, axes: set[str], age_max: int, trees: Iterable[ast.AST] | None = None
    ) -> None:
        self.rules = rules
        self.age_max = age_max
        if trees is None:
            cuts: set[int] = set(range(61, age_max + 1))
        else:
            numbers = [n for t in [*trees, *rules.definitions.values()] for n in _numbers(t)]
            cuts = {b for c in numbers for b in (math.ceil(c), math.floor(c) + 1)}
        #: first age of each band, and the band of each year of age from 60
        self.age_starts = np.array([60, *sorted(b for b in cuts if 60 < b <= age_max)])
        self.age_band = np.searchsorted(self.age_starts, np.arange(60, age_max + 1), side="right") - 1
        self.axes: list[tuple[str, int]] = [
            ("age", len(self.age_starts)),
            ("ability", len(ABILITY_LEVELS) + 1),  # + dead, never eligible
            *sorted((a, AXIS_SIZES[a]) for a in axes),
        ]
        self.shape = tuple(size for _, size in self.axes)
        self.size = int(np.prod(self.shape))
        #: each definition's value on the grid, computed once (read-only: it is shared)
        self._definition_values: dict[str, np.ndarray] = {}

    @cached_property
    def codes(self) -> dict[str, np.ndarray]:
        """Each axis's code on every grid cell (e.g. ``codes["ability"]``, 5 = dead)."""
        idx = np.indices(self.shape).reshape(len(self.shape), -1)
        return {name: idx[i] for i, (name, _) in enumerate(self.axes)}

    def variable(self, name: str) -> np.ndarray:
        codes = self.codes
        if name == "age":
            return self.age_starts[codes["age"]]
        if name == "ability":
            return codes["ability"]
        if name in LEVEL_CONSTANTS:
            return np.full(self.size, LEVEL_CONSTANTS[name])
        if name in BOOLEAN_VARIABLES:
            axis, yes = BOOLEAN_VARIABLES[name]
            return codes[axis] == yes
        if name not in self._definition_values:
            value = np.asarray(self.evaluate(self.rules.definitions[name]))
            value.setflags(write=False)
            self._definition_values[name] = value
        return self._definition_values[name]

    def evaluate(self, tree: ast.AST) -> np.ndarray:
        """Boolean (or numeric) value of a rule on every grid cell."""
        node = tree.body if isinstance(tree, ast.Expression) else tree
        if isinstance(node, ast.Name):
            return self.variable(node.id)
        if isinstance(node, ast.Constant):
            return np.full(self.size, node.value)
        if isinstance(node, ast.BoolOp):
            parts = [self.evaluate(v).astype(bool) for v in node.values]
            op = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return op.reduce(parts)
        if isinstance(node, ast.UnaryOp):  # only `not` passes parse_rule
            return ~self.evaluate(node.operand).astype(bool)
        if isinstance(node, ast.Compare):
            result = np.ones(self.size, dtype=bool)
            left = self.evaluate(node.left)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self.evaluate(comp)
                result &= _COMPARE[type(op)](left, right)
                left = right
            return result
        raise RuleError(f"cannot evaluate '{ast.unparse(node)}'")  # unreachable after parse_rule

    def people_fields(self) -> list[str]:
        """The people arrays this grid reads (only those its rules mention)."""
        fields = []
        for name, _ in self.axes:
            field = "age_m" if name == "age" else "flags" if name in FLAGS else name
            if field not in fields:
                fields.append(field)
        return fields

    def cells(self, columns: dict[str, np.ndarray], county: np.ndarray | None = None) -> np.ndarray:
        """Grid cell of each person from people arrays (age_m, ability, econ, family, flags, ...);
        with ``county``, the cell within the person's county (county × grid size + cell)."""
        return self.fixed_cells(columns, county) + self.moving_cells(columns)

    @cached_property
    def _strides(self) -> dict[str, int]:
        sizes = [size for _, size in self.axes]
        return {name: int(np.prod(sizes[i + 1 :])) for i, (name, _) in enumerate(self.axes)}

    @cached_property
    def _age_part(self) -> np.ndarray:
        """Age band × its stride for every age in completed months an int16 can hold."""
        months = np.arange(np.iinfo(np.int16).max + 1) // 12
        return self.age_band[np.clip(months, 60, self.age_max) - 60] * self._strides["age"]

    def fixed_cells(self, columns: dict[str, np.ndarray], county: np.ndarray | None = None) -> np.ndarray:
        """The part of each person's cell from attributes fixed for life (and the county offset)."""
        n = len(next(iter(columns.values())))
        cell = np.zeros(n, dtype=np.int64) if county is None else county.astype(np.int64) * self.size
        for name, _ in self.axes:
            if name not in MOVING_AXES:
                code = (columns["flags"] >> FLAGS.index(name)) & 1 if name in FLAGS else columns[name]
                cell += code.astype(np.int64) * self._strides[name]
        return cell

    def stride(self, axis: str) -> int:
        """How far one step along ``axis`` moves a cell (0 for an axis no rule reads)."""
        return self._strides.get(axis, 0)

    def moving_cells(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """The part of each person's cell from age band, ability and care setting.

        Gathers by indexing (``table[age_m]``), not ``table.take(age_m)``: under numpy 2.4 ``take``
        from an 8-byte table with int16 indices was erratic (0.2 ms for 200,000 rows, 3–8 ms for
        253,000 in the same process), indexing 0.4–0.6 ms for both."""
        cell = self._age_part[columns["age_m"]]
        for name, _ in self.axes:
            if name in MOVING_AXES and name != "age":
                cell += columns[name].astype(np.int64) * self._strides[name]
        return cell
