"""The embedded development MongoDB server: nx-27017's wire protocol on neosqlite's SQLite
storage, made to behave as MongoDB does where bulkadmin relies on it.

`process` starts, finds and stops the server shared by the project's processes; `python -m
bulkadmin.devserver` runs it with these modules installed:

- `values`: every BSON value stored and read back exactly;
- `updates`, `writes`: exact update operators, one SQLite transaction per write command;
- `reads`: reads beside writes and one another, `maxTimeMS` kept;
- `counts`: `count_documents` in SQL;
- `distinct`: `distinct` as MongoDB answers it (stored values, every filter, paths through arrays);
- `skip_limit`: skips and limits checked as MongoDB checks them;
- `indexes`, `index_keys`: unique indexes hold keys equal as MongoDB does (BSON type and value;
  null and missing alike);
- `index_names`: indexes listed and dropped under the names MongoDB gives them;
- `date_filters`, `null_filters`, `object_ids`: MongoDB's filter semantics (dates to the
  millisecond, null apart from missing), `_id` conditions from the index;
- `object_id_fields`: ObjectIds in other fields (sub-documents, arrays) found as stored;
- `document_ids`: embedded-document `_id`s stored and found (`split_filters` joins such SQL
  with neosqlite's);
- `dotted_paths`: conditions on dotted paths matched through sub-documents and arrays;
- `number_filters`: conditions comparing a field with a number or a boolean matched as counts match them;
- `replies`: replies encoded once.

Nothing here runs with a real MongoDB.
"""

from bulkadmin.devserver.process import ServerState, ensure_running, is_alive, status, stop

__all__ = ["ServerState", "ensure_running", "is_alive", "status", "stop"]
