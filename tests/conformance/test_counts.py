"""`count_documents` counts what MongoDB's matching rules match, for generated documents and
filters (the embedded server answers these counts in SQL): values compare within their type, an
array matches when one of its elements does, null matches a missing field, a regex matches text,
a dotted path reaches into a sub-document or the sub-documents of an array."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import operator
import re

from bson import Decimal128
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BASE = dt.datetime(2026, 1, 1)
REGEX = ["$regex"]
FIELDS = {
    "age": st.integers(-3, 3),
    "score": st.sampled_from([-1.5, 0.0, 0.1 + 0.2, 0.3, 2.0, 1e300]),
    "name": st.sampled_from(["", "ada", "Ada", "bob", "zoë"]),
    "active": st.booleans(),
    "seen": st.integers(0, 3).map(lambda days: BASE + dt.timedelta(days=days, milliseconds=days * 7)),
}


# Numbers stored beside a field's own (never filtered on): Decimal128s and doubles JSON cannot hold.
STORED_NUMBERS = st.sampled_from(
    [Decimal128("0.3"), Decimal128("-1.5"), Decimal128("2"), Decimal128("NaN"), Decimal128("-0"), math.inf, -math.inf]
)


@st.composite
def field_values(draw, field: str):
    """A field's value as a model would store it: its type, null, or a list of its type; a
    number field may also hold a Decimal128, an infinity or NaN."""
    values = st.one_of(FIELDS[field], STORED_NUMBERS) if field in ("age", "score") else FIELDS[field]
    kind = draw(st.sampled_from(["value", "value", "null", "list"]))
    if kind == "null":
        return None
    if kind == "list":
        return draw(st.lists(values, max_size=3))
    return draw(values)


@st.composite
def documents(draw, nested: bool = True):
    """A document of some of `FIELDS`, and maybe `sub`: a sub-document of them, an array of
    those (with numbers among them), a number or null, which dotted paths `sub.<field>` reach."""
    present = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True))
    doc = {field: draw(field_values(field)) for field in present}
    if nested and draw(st.booleans()):
        inner = documents(nested=False)
        doc["sub"] = draw(
            st.one_of(inner, st.lists(st.one_of(inner, st.integers(0, 2)), max_size=3), st.integers(0, 2), st.none())
        )
    return doc


@st.composite
def conditions(draw):
    condition = draw(field_conditions())
    if not draw(st.booleans()):
        return condition
    return {f"sub.{field}": operators for field, operators in condition.items()}


@st.composite
def field_conditions(draw):
    field = draw(st.sampled_from(sorted(FIELDS)))
    operator = draw(
        st.sampled_from(["eq", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$regex"])
    )
    if operator == "$regex":
        return {
            field: {
                "$regex": draw(st.sampled_from(["^a", "a", "ë", "^$", "B"])),
                "$options": draw(st.sampled_from(["", "i"])),
            }
        }
    operands = st.one_of(FIELDS[field], STORED_NUMBERS, st.just(math.nan)) if field == "score" else FIELDS[field]
    value = draw(operands if field != "active" or operator in ("eq", "$eq", "$ne") else st.just(True))
    if operator in ("$gt", "$gte", "$lt", "$lte") and field == "active":
        operator = "$eq"
    if operator == "eq":
        return {field: draw(st.one_of(st.just(value), st.none()))}
    if operator in ("$in", "$nin"):
        return {field: {operator: draw(st.lists(st.one_of(FIELDS[field], st.none()), max_size=3))}}
    if operator == "$exists":
        return {field: {"$exists": draw(st.booleans())}}
    if operator != "$eq" and field != "active" and draw(st.booleans()):  # a range's two bounds, or more
        other = draw(st.sampled_from(["$gt", "$gte", "$lt", "$lte", "$ne", "$eq"]))
        return {field: {operator: value, other: draw(FIELDS[field])}}
    return {field: {operator: value}}


@st.composite
def filters(draw):
    parts = draw(st.lists(conditions(), min_size=1, max_size=3))
    if len(parts) == 1:
        return parts[0]
    return {draw(st.sampled_from(["$and", "$or", "$nor"])): parts}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(documents(), max_size=12), query=filters())
def test_count_documents_equals_the_documents_read(coll, docs, query):
    coll.delete_many({})
    if docs:
        coll.insert_many([{"_id": number, **doc} for number, doc in enumerate(docs)])
    matched = [number for number, doc in enumerate(docs) if matches(doc, query)]
    expected = len(matched)
    assert coll.count_documents(query) == expected
    assert coll.count_documents(query, skip=1, limit=2) == max(0, min(expected - 1, 2))
    assert sorted(doc["_id"] for doc in coll.find(query, {"_id": 1})) == matched


_MISSING = object()


def _bracket(value) -> str:
    is_number = isinstance(value, int | float | Decimal128) and not isinstance(value, bool)
    return "number" if is_number else type(value).__name__


_DOUBLE_DIGITS = decimal.Context(prec=34)  # MongoDB compares a double to a Decimal128 rounded so


def _number(value):
    """A number as MongoDB compares it: exactly, NaN apart (it equals no other number)."""
    if isinstance(value, Decimal128):
        value = value.to_decimal()
        return math.nan if value.is_nan() else value
    if isinstance(value, float) and math.isfinite(value):
        return _DOUBLE_DIGITS.create_decimal_from_float(value)
    return value


def _same(item, operand) -> bool:
    if _bracket(item) != _bracket(operand):
        return False
    if _bracket(item) != "number":
        return item == operand
    left, right = _number(item), _number(operand)
    return left == right or (_is_nan(left) and _is_nan(right))  # NaN equals NaN in MongoDB


def _candidates(value) -> list:
    return [value, *value] if isinstance(value, list) else [value]


def _equal(values: list, operand) -> bool:
    if operand is None:
        return any(value is _MISSING or any(item is None for item in _candidates(value)) for value in values)
    return any(_same(item, operand) for value in values for item in _candidates(value))


RANGES = {"$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le}


def _holds(values: list, name: str, operand) -> bool:
    """Whether the values a path reaches hold `name: operand`."""
    if name == "$eq":
        return _equal(values, operand)
    if name == "$ne":
        return not _equal(values, operand)
    if name == "$in":
        return any(_equal(values, item) for item in operand)
    if name == "$nin":
        return not any(_equal(values, item) for item in operand)
    if name == "$exists":
        return any(value is not _MISSING for value in values) == operand
    items = [item for value in values for item in _candidates(value) if value is not _MISSING]
    if name == "$regex":
        return any(isinstance(item, str) and re.search(operand, item) for item in items)
    compare = RANGES[name]
    return any(_ranged(item, operand, compare) for item in items)


def _reached(doc: dict, path: str) -> list:
    """The values `field` or `sub.field` reaches: through a sub-document, or each sub-document
    of an array (its other elements reach nothing); a path through a scalar or null is missing."""
    head, _, field = path.partition(".")
    value = doc.get(head, _MISSING)
    if not field:
        return [value]
    if isinstance(value, list):
        return [item.get(field, _MISSING) for item in value if isinstance(item, dict)]
    return [value.get(field, _MISSING) if isinstance(value, dict) else _MISSING]


def _ranged(item, operand, compare) -> bool:
    if _bracket(item) != _bracket(operand):
        return False
    if _bracket(item) != "number":
        return compare(item, operand)
    left, right = _number(item), _number(operand)
    if _is_nan(left) or _is_nan(right):  # NaN is in no range, but is >= and <= itself
        return _is_nan(left) and _is_nan(right) and compare in (operator.ge, operator.le)
    return compare(left, right)


def _is_nan(number) -> bool:
    return number != number


def matches(doc: dict, query: dict) -> bool:
    """MongoDB's rules for these documents and filters, written out."""
    for field, condition in query.items():
        if field in ("$and", "$or", "$nor"):
            found = [matches(doc, part) for part in condition]
            if not {"$and": all(found), "$or": any(found), "$nor": not any(found)}[field]:
                return False
            continue
        reached = _reached(doc, field)
        operators = condition if isinstance(condition, dict) else {"$eq": condition}
        if "$options" in operators:
            flags = operators["$options"]
            operators = {"$regex": f"(?{flags}){operators['$regex']}" if flags else operators["$regex"]}
        if not all(_holds(reached, name, operand) for name, operand in operators.items()):
            return False
    return True


def test_not_equal_to_a_date_counts_every_other_value_kept_as_an_object(coll):
    when = dt.datetime(2020, 1, 1)
    coll.insert_many([{"x": {"a": 1}}, {"x": Decimal128("1")}, {"x": when}, {"x": math.inf}, {}])
    assert coll.count_documents({"x": {"$ne": when}}) == 4
    assert coll.count_documents({"x": {"$nin": [when]}}) == 4
    assert coll.count_documents({"x": when}) == 1


def test_id_ranges_on_object_ids_count_with_other_conditions(coll):
    coll.insert_many([{"n": number, "name": f"user {number}"} for number in range(50)])
    ids = [doc["_id"] for doc in coll.find().sort("_id", 1)]
    assert coll.count_documents({"_id": {"$gte": ids[10]}, "name": {"$regex": "1"}}) == sum(
        1 for number in range(10, 50) if "1" in str(number)
    )
    assert coll.count_documents({"_id": {"$gt": ids[10], "$lt": ids[20]}}) == 9
    assert coll.count_documents({"_id": ids[3]}) == 1
    assert coll.count_documents({"_id": {"$in": ids[:5]}, "n": {"$gte": 2}}) == 3
    assert coll.count_documents({"$or": [{"_id": ids[0]}, {"n": 49}]}) == 2


def test_text_equality_counts_values_elements_and_written_values_never_keys_or_longer_text(coll):
    coll.insert_many(
        [
            {"status": "active", "n": 1},
            {"status": "inactive", "n": 2},
            {"status": ["gold", "active"], "n": 3},
            {"active": "status", "n": 4},
            {"status": "active ", "n": 5},
            {"status": 'say "active"', "n": 6},
            {"other": "active", "n": 7},
            {"status": "a/b", "n": 8},
            {"status": "active\n", "n": 10},
            {"n": 9},
        ]
    )
    coll.update_one({"n": 9}, {"$set": {"status": "active"}})
    coll.update_one({"n": 2}, {"$set": {"tags": ["active"]}})
    assert coll.count_documents({"status": "active"}) == 3
    assert coll.count_documents({"n": {"$gte": 2}, "status": "active"}) == 2
    assert coll.count_documents({"status": {"$ne": "active"}}) == 7
    assert coll.count_documents({"status": {"$in": ["active", "a/b"]}, "n": {"$lt": 9}}) == 3
    assert coll.count_documents({"status": {"$nin": ["active"]}, "tags": "active"}) == 1
    assert coll.count_documents({"$nor": [{"status": "active"}, {"other": "active"}]}) == 6
    assert coll.count_documents({"status": 'say "active"'}) == 1
    assert coll.count_documents({"status": "active\n"}) == 1


def test_text_equality_counts_text_holding_glob_characters_as_itself(coll):
    statuses = ["a*b", "a?b", "a[b]", "a]b", "axb", "a[*]b", "a[?]b", "[", "*"]
    coll.insert_many([{"status": status} for status in statuses] + [{"status": ["x", "a*b"]}])
    for status in statuses:
        assert coll.count_documents({"status": status}) == 1 + (status == "a*b")
    assert coll.count_documents({"status": {"$in": ["a?b", "["]}}) == 2
    assert coll.count_documents({"status": {"$ne": "a[b]"}}) == len(statuses)


def test_a_range_counts_values_and_elements_of_its_type_only(coll):
    ages = [35, 35.5, "35", True, [10, 50], [35], [50, 60], [], None, 30, 40, {"a": 35}]
    coll.insert_many([{"age": age} for age in ages] + [{}])
    assert coll.count_documents({"age": {"$gte": 30, "$lt": 40}}) == 5  # 35, 35.5, [10, 50], [35], 30
    assert coll.count_documents({"age": {"$gt": 30, "$lte": 40, "$ne": 35}}) == 3  # 35.5, [10, 50], 40
    assert coll.count_documents({"age": {"$gte": 30, "$lt": "z"}}) == 0
    assert coll.count_documents({"age": {"$gte": 1, "$lte": 1}}) == 0  # true is no number
    assert coll.count_documents({"age": {"$lt": "a"}}) == 1  # "35"


def test_counts_of_a_large_collection_are_exact_with_gaps_in_it(coll):
    statuses = ("active", "inactive", "banned")
    docs = [{"n": i, "age": 18 + i % 70, "status": statuses[i % 3]} for i in range(30_000)]
    docs[7]["status"] = ["gold", "active"]
    for start in range(0, len(docs), 5_000):
        coll.insert_many([dict(doc) for doc in docs[start : start + 5_000]])
    coll.delete_many({"n": {"$gte": 9_000, "$lt": 21_000}})
    kept = [doc for doc in docs if not 9_000 <= doc["n"] < 21_000]

    def active(doc: dict) -> bool:
        return doc["status"] == "active" or doc["status"] == ["gold", "active"]

    assert coll.count_documents({"age": {"$gte": 30, "$lt": 40}, "status": "active"}) == sum(
        1 for doc in kept if 30 <= doc["age"] < 40 and active(doc)
    )
    assert coll.count_documents({"$or": [{"n": {"$lt": 10}}, {"n": {"$gte": 29_990}}]}) == 20
    assert coll.count_documents({"status": {"$nin": ["active", "banned"]}}) == sum(
        1 for doc in kept if doc["status"] == "inactive"
    )
    assert coll.count_documents({"n": {"$exists": True}}, skip=100, limit=5) == 5
    assert coll.count_documents({}) == len(kept)


NUMBERS_KEPT_AS_OBJECTS = [
    1,
    1.0,
    "1",
    None,
    [1, "a"],
    {"a": 1},
    Decimal128("1"),
    math.nan,
    -0.0,
    math.inf,
    -math.inf,
    Decimal128("NaN"),
    Decimal128("-0"),
    Decimal128("1E+400"),
    Decimal128("0.1"),
    [Decimal128("2"), "b"],
]


def test_decimals_and_infinities_count_as_the_numbers_they_are_and_nan_matches_only_nan(coll):
    coll.insert_many([{"n": number, "x": value} for number, value in enumerate(NUMBERS_KEPT_AS_OBJECTS)])
    expected = {
        "x": [0, 1, 4, 6],
        "x $gt 0": [0, 1, 4, 6, 9, 13, 14, 15],
        "x $lt 2": [0, 1, 4, 6, 8, 10, 12, 14],
        "x $lte 0": [8, 10, 12],
        "x $gt 1e308": [9, 13],
        "x $lt -1e308": [10],
        "x $ne 1": [2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        "x $in 0 2": [8, 12, 15],
        "x NaN": [7, 11],
        "x $gte NaN": [7, 11],
        "x $lt NaN": [],
        "x decimal 1": [0, 1, 4, 6],
        "x $gt decimal 0": [0, 1, 4, 6, 9, 13, 14, 15],
        "x $lte decimal 0.1": [8, 10, 12, 14],
        "x $in decimal 0 '1'": [2, 8, 12],
    }
    queries = {
        "x": {"x": 1},
        "x $gt 0": {"x": {"$gt": 0}},
        "x $lt 2": {"x": {"$lt": 2}},
        "x $lte 0": {"x": {"$lte": 0}},
        "x $gt 1e308": {"x": {"$gt": 1e308}},
        "x $lt -1e308": {"x": {"$lt": -1e308}},
        "x $ne 1": {"x": {"$ne": 1}},
        "x $in 0 2": {"x": {"$in": [0, 2]}},
        "x NaN": {"x": math.nan},
        "x $gte NaN": {"x": {"$gte": math.nan}},
        "x $lt NaN": {"x": {"$lt": math.nan}},
        "x decimal 1": {"x": Decimal128("1")},
        "x $gt decimal 0": {"x": {"$gt": Decimal128("0")}},
        "x $lte decimal 0.1": {"x": {"$lte": Decimal128("0.1")}},
        "x $in decimal 0 '1'": {"x": {"$in": [Decimal128("0"), "1"]}},
    }
    for name, query in queries.items():
        numbers = range(len(NUMBERS_KEPT_AS_OBJECTS))
        found = [number for number in numbers if coll.count_documents({"n": number, **query})]
        assert (name, found) == (name, expected[name])
        if "decimal" in name or "NaN" in name:  # a find compares these operands as a count does
            assert (name, sorted(doc["n"] for doc in coll.find(query))) == (name, expected[name])
        assert coll.count_documents(query) == len(expected[name])
        assert coll.count_documents({"$nor": [query]}) == len(NUMBERS_KEPT_AS_OBJECTS) - len(expected[name])
