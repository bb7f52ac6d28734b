"""Counts of dotted paths into sub-documents and arrays, as MongoDB counts them (the embedded
server left these to nx-27017's count, which matched `x.a` on a scalar `x`).

An array holding no sub-document reaches no `x.a`: `{"x.a": null}` does not match `x: [1, 2]` or
`x: [[1]]` in MongoDB 2.6 to 8.x (jstests null_query_semantics, null2). An index reached last is
not expanded: `x.0` of `[[1]]` is `[1]`, which `1` does not equal (jstests
match_numeric_components)."""

from __future__ import annotations

DOCS = [
    {"n": 0, "x": 1},
    {"n": 1, "x": {"a": 1}},
    {"n": 2, "x": [{"a": 1}]},
    {"n": 3, "x": [1, 2]},
    {"n": 4, "x": [[1]]},
    {"n": 5, "x": True},
    {"n": 6, "x": "1"},
    {"n": 7, "x": [{"a": [1]}]},
    {"n": 8, "x": {"a": "1"}},
]


def _counted(coll, query: dict) -> list[int]:
    return [doc["n"] for doc in DOCS if coll.count_documents({"$and": [{"n": doc["n"]}, query]})]


def test_dotted_paths_count_sub_documents_and_array_elements_only(db):
    coll = db["dotted"]
    coll.insert_many([dict(doc) for doc in DOCS])
    assert _counted(coll, {"x.a": 1}) == [1, 2, 7]
    assert _counted(coll, {"x.a": {"$gt": 0}}) == [1, 2, 7]
    assert _counted(coll, {"x.a": {"$ne": 1}}) == [0, 3, 4, 5, 6, 8]
    assert _counted(coll, {"x.a": None}) == [0, 5, 6]
    assert _counted(coll, {"x.0": 1}) == [3]
    assert coll.count_documents({"x.a": 1}) == 3
