namespace McpMemory.Core.Storage;

/// <summary>
/// The database schema as an ordered list of forward migrations. The version lives in PRAGMA user_version.
/// Never edit a released migration: add the next one.
/// </summary>
internal static class Schema
{
    /// <summary>FTS5 tokenizer: porter stemming over unicode61 (+4.5 points of recall@10 on LoCoMo dev).</summary>
    public const string FtsTokenizer = "porter unicode61 remove_diacritics 2";

    public static readonly IReadOnlyList<string> Migrations =
    [
        // Version 1: memories + FTS5 (external content, kept in step by triggers in the same transaction),
        // vectors, agent state, feedback, and the append-only event log.
        $"""
        CREATE TABLE memories (
            seq            INTEGER PRIMARY KEY,   -- stable rowid shared with the FTS index and the vectors
            id             TEXT    NOT NULL UNIQUE,
            namespace      TEXT    NOT NULL,
            agent_id       TEXT,
            session_id     TEXT,
            memory_type    TEXT    NOT NULL,
            content        TEXT    NOT NULL,
            metadata       TEXT,                  -- JSON object
            tags           TEXT    NOT NULL DEFAULT '',  -- space-separated, lower-case
            importance     REAL    NOT NULL,
            has_embedding  INTEGER NOT NULL DEFAULT 0,
            access_count   INTEGER NOT NULL DEFAULT 0,
            last_accessed  INTEGER,               -- unix milliseconds, UTC
            created_at     INTEGER NOT NULL,
            updated_at     INTEGER NOT NULL,
            expires_at     INTEGER,
            source         TEXT
        );
        CREATE INDEX ix_memories_namespace_created ON memories(namespace, created_at);
        CREATE INDEX ix_memories_expires ON memories(expires_at) WHERE expires_at IS NOT NULL;

        CREATE VIRTUAL TABLE memories_fts USING fts5(
            content, tags, content='memories', content_rowid='seq', tokenize='{FtsTokenizer}');
        CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
            INSERT INTO memories_fts(rowid, content, tags) VALUES (new.seq, new.content, new.tags);
        END;
        CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
            INSERT INTO memories_fts(memories_fts, rowid, content, tags) VALUES ('delete', old.seq, old.content, old.tags);
            DELETE FROM memory_vectors WHERE seq = old.seq;
        END;
        CREATE TRIGGER memories_fts_update AFTER UPDATE OF content, tags ON memories BEGIN
            INSERT INTO memories_fts(memories_fts, rowid, content, tags) VALUES ('delete', old.seq, old.content, old.tags);
            INSERT INTO memories_fts(rowid, content, tags) VALUES (new.seq, new.content, new.tags);
        END;

        CREATE TABLE memory_vectors (
            seq       INTEGER PRIMARY KEY,        -- memories.seq
            model     TEXT    NOT NULL,           -- encoder id: a change of model is detected, never mixed
            dimension INTEGER NOT NULL,
            vector    BLOB    NOT NULL            -- little-endian float16[dimension], L2-normalised
        );

        CREATE TABLE agent_state (
            namespace  TEXT    NOT NULL,
            agent_id   TEXT    NOT NULL,
            key        TEXT    NOT NULL,
            value      TEXT    NOT NULL,          -- any JSON value
            version    INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (namespace, agent_id, key)
        ) WITHOUT ROWID;

        CREATE TABLE feedback (
            seq        INTEGER PRIMARY KEY,
            memory_id  TEXT    NOT NULL,
            namespace  TEXT    NOT NULL,
            signal     TEXT    NOT NULL,
            note       TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX ix_feedback_memory ON feedback(memory_id);

        CREATE TABLE events (
            seq       INTEGER PRIMARY KEY,
            at        INTEGER NOT NULL,
            kind      TEXT    NOT NULL,           -- store | update | delete | state_set | feedback | ...
            namespace TEXT,
            memory_id TEXT,
            detail    TEXT                        -- JSON: what changed and why
        );
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        """,

        // Version 2: a memory can be superseded by a newer one (store_memory's supersedes): it is kept, hidden from
        // default search, and linked to its successor. memory_history reads a memory's events by id.
        // (The FTS triggers fire on content and tags only, so marking a row superseded leaves the index untouched.)
        """
        ALTER TABLE memories ADD COLUMN superseded_by TEXT;   -- id of the memory that replaced this one
        CREATE INDEX ix_memories_superseded_by ON memories(superseded_by) WHERE superseded_by IS NOT NULL;
        CREATE INDEX ix_events_memory ON events(memory_id, seq) WHERE memory_id IS NOT NULL;
        """,

        // Version 3: search_memory puts matching skills first, so it reads the live skills on every search: a partial
        // index keeps that from scanning every memory.
        """
        CREATE INDEX ix_memories_skills ON memories(seq) WHERE memory_type = 'skill';
        """,

        // Version 4: consolidation archives stale memories (low importance, never accessed, old): kept whole, hidden from
        // default search, restorable (unarchive). "archive" / "unarchive" events carry the change to other processes.
        // (The FTS triggers fire on content and tags only, so archiving leaves the index untouched.)
        """
        ALTER TABLE memories ADD COLUMN archived_at INTEGER;  -- unix ms when consolidation archived it; NULL: live
        CREATE INDEX ix_memories_archived ON memories(archived_at) WHERE archived_at IS NOT NULL;
        """,
    ];

    public static int CurrentVersion => Migrations.Count;
}
