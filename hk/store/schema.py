"""The index's tables (see :mod:`hk.store.index`): one row per record, its search terms kept
in step by triggers, and the pinyin readings seen so far.

Another ``SCHEMA_VERSION`` in an index file makes :class:`~hk.store.index.Index` drop its
tables and build them again from the files.
"""

from __future__ import annotations

SCHEMA_VERSION = 14
FOUND_COLUMNS = ", ".join(
    f"records.{c}"
    for c in ("id", "kind", "code", "name", "sort_key", "category", "tags", "summary", "data")
)
"""What a search returns of each record: what listings show and filter on, not the search
terms or the paths (a one-letter search matches thousands, and each column costs)."""

REFS = """('["' || replace(trim({side}.refs, char(31)), char(31), '","') || '"]')"""
"""A row's ``refs`` (IDs between unit separators) as a JSON list, for ``json_each``: IDs are
letters and digits, nothing to escape. The ``refs`` table, kept by triggers from it, finds a
customer's orders by an index instead of a scan of every order."""

SEARCHED = ("customer", "worker")
"""The kinds whose search terms are also in ``grams``, a trigram index (SQLite's FTS5) that
finds a name, pinyin or phone fragment of three characters or more without reading every
record's terms: the people an office looks up all day. Other kinds, and shorter queries, are
searched by scanning their terms, which is quick for them."""
_IS_SEARCHED = f"{{side}}.kind IN ({', '.join(repr(k) for k in SEARCHED)})"
_GRAM_TEXT = "new.prefix_terms || coalesce(lower(new.code) || char(31), '') || new.substring_terms"
"""What ``grams`` holds of a record: its ``terms``, both kinds in one text (a query is then
checked against ``terms`` to tell a prefix match from a substring one)."""

_DROP_REFS = f"""    DELETE FROM refs WHERE kind = {{side}}.kind AND id = {{side}}.id
        AND ref IN (SELECT value FROM json_each({REFS}));
"""
_ADD_REFS = f"""    INSERT INTO refs SELECT DISTINCT value, new.kind, new.id
        FROM json_each({REFS.format(side="new")}) WHERE value != '';
"""

# The triggers delete before inserting: an INSERT OR REPLACE inside a trigger would take the
# conflict rule of the outer statement (an upsert), and fail.
DDL = f"""
PRAGMA user_version = {SCHEMA_VERSION};
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    code TEXT,
    name TEXT NOT NULL,
    sort_key TEXT NOT NULL,
    prefix_terms TEXT NOT NULL,
    substring_terms TEXT NOT NULL,
    tags TEXT NOT NULL,
    communities TEXT NOT NULL,
    category TEXT NOT NULL,
    data BLOB NOT NULL,
    summary BLOB NOT NULL,
    day TEXT NOT NULL DEFAULT '',
    refs TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS records_kind_day ON records(kind, day);
CREATE INDEX IF NOT EXISTS records_kind_code ON records(kind, code);
CREATE TABLE IF NOT EXISTS terms (
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    prefix_terms TEXT NOT NULL,
    substring_terms TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pinyin_chars (
    char TEXT PRIMARY KEY,
    readings TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS terms_insert AFTER INSERT ON records BEGIN
    DELETE FROM terms WHERE kind = new.kind AND id = new.id;
    INSERT INTO terms VALUES (new.id, new.kind,
        new.prefix_terms || coalesce(lower(new.code) || char(31), ''), new.substring_terms);
END;
CREATE TRIGGER IF NOT EXISTS terms_update AFTER UPDATE ON records BEGIN
    DELETE FROM terms WHERE (kind = old.kind AND id = old.id) OR (kind = new.kind AND id = new.id);
    INSERT INTO terms VALUES (new.id, new.kind,
        new.prefix_terms || coalesce(lower(new.code) || char(31), ''), new.substring_terms);
END;
CREATE TRIGGER IF NOT EXISTS terms_delete AFTER DELETE ON records BEGIN
    DELETE FROM terms WHERE kind = old.kind AND id = old.id;
END;
CREATE TABLE IF NOT EXISTS refs (
    ref TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (ref, kind, id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS refs_insert AFTER INSERT ON records BEGIN
{_DROP_REFS.format(side="new")}{_ADD_REFS}END;
CREATE TRIGGER IF NOT EXISTS refs_update AFTER UPDATE ON records BEGIN
{_DROP_REFS.format(side="old")}{_DROP_REFS.format(side="new")}{_ADD_REFS}END;
CREATE TRIGGER IF NOT EXISTS refs_delete AFTER DELETE ON records BEGIN
{_DROP_REFS.format(side="old")}END;
CREATE INDEX IF NOT EXISTS records_kind_sort ON records(kind, sort_key);
CREATE VIRTUAL TABLE IF NOT EXISTS grams USING fts5(text, tokenize = 'trigram', detail = 'none');
CREATE TRIGGER IF NOT EXISTS grams_insert AFTER INSERT ON records
WHEN {_IS_SEARCHED.format(side="new")} BEGIN
    INSERT INTO grams (rowid, text) VALUES (new.rowid, {_GRAM_TEXT});
END;
CREATE TRIGGER IF NOT EXISTS grams_update AFTER UPDATE ON records BEGIN
    DELETE FROM grams WHERE rowid = old.rowid;
    INSERT INTO grams (rowid, text) SELECT new.rowid, {_GRAM_TEXT}
        WHERE {_IS_SEARCHED.format(side="new")};
END;
CREATE TRIGGER IF NOT EXISTS grams_delete AFTER DELETE ON records BEGIN
    DELETE FROM grams WHERE rowid = old.rowid;
END;
"""
"""``grams`` rows carry their record's ``rowid``, which only a VACUUM would renumber (the index
is never vacuumed: a rebuild makes a new file)."""

WITHOUT_BULK_TRIGGERS = """
DROP TRIGGER refs_insert; DROP TRIGGER refs_update; DROP TRIGGER refs_delete;
DROP TRIGGER grams_insert; DROP TRIGGER grams_update; DROP TRIGGER grams_delete;
"""
"""A full build fills ``refs`` and ``grams`` in one pass each at the end (:data:`FILL_BULK`),
faster than the triggers row by row; running :data:`DDL` again then puts the triggers back."""
FILL_BULK = f"""
INSERT INTO refs SELECT DISTINCT j.value, r.kind, r.id
    FROM records AS r, json_each({REFS.format(side="r")}) AS j WHERE j.value != '';
INSERT INTO grams (rowid, text) SELECT new.rowid, {_GRAM_TEXT}
    FROM records AS new WHERE {_IS_SEARCHED.format(side="new")};
"""
