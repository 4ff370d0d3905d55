using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;

namespace McpMemory.Core.Portability;

/// <summary>How far an import is: records written so far, of the records in the file.</summary>
public readonly record struct ImportProgress(long Written, long Total);

/// <summary>What an import did: records added and records skipped because they were already there, per kind.</summary>
public sealed record ImportResult(
    long MemoriesAdded, long MemoriesSkipped, long StatesAdded, long StatesSkipped,
    long FeedbackAdded, long FeedbackSkipped, long EventsAdded, long EventsSkipped, long VectorsAdded, long VectorsSkipped)
{
    public long Added => MemoriesAdded + StatesAdded + FeedbackAdded + EventsAdded + VectorsAdded;
    public long Skipped => MemoriesSkipped + StatesSkipped + FeedbackSkipped + EventsSkipped + VectorsSkipped;
}

/// <summary>
/// Reads a JSONL export (see <see cref="JsonlFormat"/>) back, exactly: ids, times, counters and versions are kept as
/// written. The whole file is validated first with the same rules as a store (an error names the line and the field:
/// "line 17: importance: must be between 0 and 1"), so a bad file writes nothing; then it is written in batches, one
/// transaction each. Idempotent: a memory whose id exists, a state key that exists, a feedback row or an event that is
/// already there are skipped and counted. The event log comes whole (the events of deleted and merged memories too),
/// in its order; "already there" counts copies, so two identical events in the file are two events in the database.
/// A vector is stored with the memory this import added, under its model id (a vector of another encoder is replaced
/// when a server with this one starts, as after any change of encoder).
/// </summary>
internal sealed class JsonlImporter(MemoryDatabase database, MemoryValidator validate)
{
    public const int BatchSize = 500;

    public ImportResult Import(string path, long now, IProgress<ImportProgress>? progress)
    {
        var full = UserPath.FullPath(path, "import");
        if (Directory.Exists(full)) throw new MemoryFileException($"{full} is a folder; import reads a .jsonl file written by export");
        if (!File.Exists(full)) throw new MemoryFileException($"{full} does not exist");

        var total = 0L;
        foreach (var _ in Records(full)) total++; // pass 1: every line valid, or nothing is written

        var counts = new long[10];
        var state = new ImportState(PortableStore.ReadSnapshot(database, PresentRecords.Load));
        var batch = new List<object>(BatchSize);
        var done = 0L;
        foreach (var record in Records(full))
        {
            // A memory and the vector record after it go in one transaction, so no background embedder sees the row without it.
            if (batch.Count >= BatchSize && record is not StoredVector) Flush();
            batch.Add(record);
        }
        Flush();
        var result = new ImportResult(counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], counts[7], counts[8], counts[9]);
        if (result.Added > 0)
        {
            var detail = new JsonObject
            {
                ["file"] = Path.GetFileName(full), ["memories"] = result.MemoriesAdded, ["states"] = result.StatesAdded,
                ["feedback"] = result.FeedbackAdded, ["events"] = result.EventsAdded, ["skipped"] = result.Skipped,
            };
            PortableStore.Write(database, writer => { writer.Add(new StoredEvent("import", now, null, null, detail.ToJsonString())); return 0; });
        }
        return result;

        void Flush()
        {
            if (batch.Count == 0) return;
            // Counted per attempt: a batch retried after a busy error must not be counted twice.
            var batchCounts = PortableStore.Write(database, writer =>
            {
                var attempt = new long[counts.Length];
                state.BeginAttempt();
                foreach (var record in batch)
                {
                    var (kind, wasAdded) = Write(writer, record, state);
                    attempt[kind * 2 + (wasAdded ? 0 : 1)]++;
                }
                return attempt;
            });
            state.Committed();
            for (var i = 0; i < counts.Length; i++) counts[i] += batchCounts[i];
            done += batch.Count;
            batch.Clear();
            progress?.Report(new ImportProgress(done, total));
        }
    }

    /// <summary>
    /// What the import has done so far: the memory ids it added, and the records that were present before it and have
    /// been matched. A batch retried after a busy error (rolled back whole) starts again from the state before it.
    /// </summary>
    private sealed class ImportState(PresentRecords present)
    {
        private readonly HashSet<string> _added = new(StringComparer.Ordinal);
        private readonly List<string> _addedInAttempt = [];
        private readonly List<UInt128> _takenInAttempt = [];

        public void BeginAttempt()
        {
            foreach (var id in _addedInAttempt) _added.Remove(id);
            foreach (var key in _takenInAttempt) present.Return(key);
            Committed();
        }

        public void Committed()
        {
            _addedInAttempt.Clear();
            _takenInAttempt.Clear();
        }

        public void Added(string memoryId) { _added.Add(memoryId); _addedInAttempt.Add(memoryId); }

        public bool WasAdded(string memoryId) => _added.Contains(memoryId);

        public bool TakePresent(UInt128 key)
        {
            if (!present.TryTake(key)) return false;
            _takenInAttempt.Add(key);
            return true;
        }
    }

    // A record of the file is the row it writes: StoredMemory, StoredState, StoredFeedback, StoredEvent or StoredVector.

    /// <summary>Returns (kind index, added?) — kind index 0 memory, 1 state, 2 feedback, 3 event, 4 vector.</summary>
    private static (int Kind, bool Added) Write(PortableStore.Writer writer, object record, ImportState state)
    {
        switch (record)
        {
            case StoredMemory m:
                var isNew = writer.Add(m);
                if (isNew) state.Added(m.Id);
                return (0, isNew);
            case StoredState s:
                return (1, writer.Add(s));
            case StoredFeedback f:
                if (state.TakePresent(PresentRecords.FeedbackKey(f.MemoryId, f.Namespace, f.Signal, f.Note, f.CreatedAt))) return (2, false);
                writer.Add(f);
                return (2, true);
            case StoredEvent e:
                if (e.Event == "import" && e.MemoryId is null) return (3, false); // another database's import marker
                if (state.TakePresent(PresentRecords.EventKey(e.At, e.Event, e.Namespace, e.MemoryId, e.Detail))) return (3, false);
                writer.Add(e);
                return (3, true);
            case StoredVector v:
                if (!state.WasAdded(v.MemoryId)) return (4, false); // the memory was already here: its own vector (or none) stays
                writer.Add(v);
                return (4, true);
            default: throw new InvalidOperationException(record.GetType().Name);
        }
    }

    /// <summary>Parses and validates every line; the first bad one stops the import with its line number.</summary>
    private IEnumerable<object> Records(string path)
    {
        using var reader = new StreamReader(path, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true));
        var number = 0;
        while (true)
        {
            string? line;
            try { line = reader.ReadLine(); }
            catch (System.Text.DecoderFallbackException) { throw Bad(number + 1, "is not valid UTF-8"); }
            if (line is null) yield break;
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            object? record;
            try { record = Parse(line); }
            catch (MemoryValidationException e) { throw Bad(number, e.Message); }
            if (record is not null) yield return record;
        }
    }

    private static MemoryFileException Bad(int line, string message) => new($"line {line}: {message}");

    private object? Parse(string line)
    {
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(line, documentOptions: new JsonDocumentOptions { MaxDepth = JsonlFormat.MaxDepth, AllowDuplicateProperties = false }) as JsonObject
                  ?? throw new MemoryValidationException("record", "must be a JSON object with a \"kind\"");
        }
        catch (JsonException e) { throw new MemoryValidationException("record", $"is not valid JSON: {e.Message}"); }
        var fields = new Fields(obj);
        var kind = fields.Text("kind");
        object? record = kind switch
        {
            JsonlFormat.Header => Header(fields),
            JsonlFormat.Memory => Memory(fields),
            JsonlFormat.State => State(fields),
            JsonlFormat.Feedback => Feedback(fields),
            JsonlFormat.Event => Event(fields),
            JsonlFormat.Vector => Vector(fields),
            _ => throw new MemoryValidationException("kind", $"\"{Namespaces.Truncate(kind, 40)}\" is not one of header, memory, vector, state, feedback, event"),
        };
        fields.RefuseUnknown();
        return record;
    }

    private static object? Header(Fields f)
    {
        var format = f.Text("format");
        if (format != JsonlFormat.FormatName) throw new MemoryValidationException("format", $"is \"{Namespaces.Truncate(format, 40)}\", not \"{JsonlFormat.FormatName}\"");
        var version = f.Integer("version");
        if (version != JsonlFormat.Version)
            throw new MemoryValidationException("version", $"this mcp-memory reads export format version {JsonlFormat.Version}, not {version}; upgrade mcp-memory");
        return null;
    }

    private StoredMemory Memory(Fields f)
    {
        var id = MemoryValidator.MemoryId(f.Text("id"), "id").ToString("D");
        var ns = Namespaces.Validate(f.Text("namespace"));
        var type = validate.MemoryType(f.Text("memory_type"));
        var content = validate.Content(f.Text("content"));
        var metadata = f.Node("metadata") switch
        {
            null => null,
            JsonObject o => validate.Metadata(o.ToJsonString())!.ToJsonString(),
            _ => throw new MemoryValidationException("metadata", "must be a JSON object or null"),
        };
        var tags = validate.Tags(f.TextArray("tags"));
        var importance = validate.Importance(f.Number("importance"));
        var accessCount = f.OptionalInteger("access_count") ?? 0;
        if (accessCount < 0) throw new MemoryValidationException("access_count", $"must be 0 or more (got {accessCount})");
        var created = f.Time("created_at");
        var updated = f.Time("updated_at");
        if (updated < created) throw new MemoryValidationException("updated_at", "is before created_at");
        return new StoredMemory(id, ns, type, content, metadata, MemoryRows.JoinTags(tags), importance,
            validate.AgentId(f.OptionalText("agent_id")), validate.SessionId(f.OptionalText("session_id")), validate.Source(f.OptionalText("source")),
            accessCount, f.OptionalTime("last_accessed"), created, updated, f.OptionalTime("expires_at"),
            f.OptionalText("superseded_by") is { } successor ? MemoryValidator.MemoryId(successor, "superseded_by").ToString("D") : null,
            f.OptionalTime("archived_at"));
    }

    private StoredState State(Fields f)
    {
        var ns = Namespaces.Validate(f.Text("namespace"));
        var agent = validate.AgentId(f.Text("agent_id")) ?? throw new MemoryValidationException("agent_id", "must not be empty");
        var key = validate.StateKey(f.Text("key"));
        if (!f.Has("value")) throw new MemoryValidationException("value", "is required (any JSON value)");
        var value = validate.StateValue(JsonSerializer.SerializeToElement(f.Node("value"), CoreJsonContext.Default.JsonNode));
        var version = f.Integer("version");
        if (version < 1) throw new MemoryValidationException("version", $"must be 1 or more (got {version})");
        return new StoredState(ns, agent, key, value, version, f.Time("updated_at"));
    }

    private StoredFeedback Feedback(Fields f)
    {
        var memoryId = MemoryValidator.MemoryId(f.Text("memory_id")).ToString("D");
        var ns = Namespaces.Validate(f.Text("namespace"));
        var signal = validate.Source(f.Text("signal")) ?? throw new MemoryValidationException("signal", "must not be empty");
        var note = f.OptionalText("note");
        if (note is not null) validate.Content(note, "note");
        return new StoredFeedback(memoryId, ns, signal, note, f.Time("created_at"));
    }

    private StoredEvent Event(Fields f)
    {
        var kind = validate.Source(f.Text("event")) ?? throw new MemoryValidationException("event", "must not be empty");
        var ns = f.OptionalText("namespace") is { } n ? Namespaces.Validate(n) : null;
        var memoryId = f.OptionalText("memory_id") is { } m ? MemoryValidator.MemoryId(m).ToString("D") : null;
        var detail = f.Node("detail")?.ToJsonString(JsonlFormat.Options);
        return new StoredEvent(kind, f.Time("at"), ns, memoryId, detail);
    }

    private StoredVector Vector(Fields f)
    {
        var memoryId = MemoryValidator.MemoryId(f.Text("memory_id")).ToString("D");
        var model = validate.Source(f.Text("model")) ?? throw new MemoryValidationException("model", "must not be empty");
        var dimension = f.Integer("dimension");
        if (dimension is < 1 or > JsonlFormat.MaxVectorDimension)
            throw new MemoryValidationException("dimension", $"must be between 1 and {JsonlFormat.MaxVectorDimension} (got {dimension})");
        byte[] blob;
        try { blob = Convert.FromBase64String(f.Text("vector")); }
        catch (FormatException) { throw new MemoryValidationException("vector", "is not base64"); }
        if (blob.Length != dimension * Indexes.Vectors.VectorCodec.BytesPerDimension)
            throw new MemoryValidationException("vector", $"holds {blob.Length} bytes; dimension {dimension} needs {dimension * Indexes.Vectors.VectorCodec.BytesPerDimension} (little-endian float16)");
        var values = Indexes.Vectors.VectorCodec.FromBlob(blob);
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(values))
            throw new MemoryValidationException("vector", "holds a value that is not a finite number");
        var norm = System.Numerics.Tensors.TensorPrimitives.Norm(values);
        if (Math.Abs(norm - 1) > 0.01)
            throw new MemoryValidationException("vector", $"must have length 1 (L2-normalised; got {norm:0.###})");
        return new StoredVector(memoryId, model, (int)dimension, blob);
    }

    /// <summary>Typed access to a record's fields; each error names the field. Remembers which fields were read.</summary>
    private sealed class Fields(JsonObject obj)
    {
        private readonly HashSet<string> _read = new(StringComparer.Ordinal);

        public bool Has(string name) { _read.Add(name); return obj.ContainsKey(name); }

        public JsonNode? Node(string name) { _read.Add(name); return obj.TryGetPropertyValue(name, out var node) ? node : null; }

        public string Text(string name) => OptionalText(name) ?? throw new MemoryValidationException(name, "is required");

        public string? OptionalText(string name) => Node(name) switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            var other => throw new MemoryValidationException(name, $"must be a string (got {other.GetValueKind().ToString().ToLowerInvariant()})"),
        };

        public IReadOnlyList<string>? TextArray(string name) => Node(name) switch
        {
            null => null,
            JsonArray a => a.Select(item => item is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>()
                : throw new MemoryValidationException(name, "must be an array of strings")).ToList(),
            _ => throw new MemoryValidationException(name, "must be an array of strings"),
        };

        public double? Number(string name) => Node(name) switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<double>(),
            _ => throw new MemoryValidationException(name, "must be a number"),
        };

        public long Integer(string name) => OptionalInteger(name) ?? throw new MemoryValidationException(name, "is required");

        public long? OptionalInteger(string name) => Node(name) switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) => n,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && decimal.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                             && d == decimal.Truncate(d) && d is >= long.MinValue and <= long.MaxValue => (long)d,
            _ => throw new MemoryValidationException(name, "must be a whole number"),
        };

        public long Time(string name) => OptionalTime(name) ?? throw new MemoryValidationException(name, "is required (UTC ISO-8601)");

        public long? OptionalTime(string name)
        {
            var text = OptionalText(name);
            if (text is null) return null;
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
                throw new MemoryValidationException(name, $"\"{Namespaces.Truncate(text, 60)}\" is not an ISO-8601 time");
            return time.ToUnixTimeMilliseconds();
        }

        public void RefuseUnknown()
        {
            foreach (var (name, _) in obj)
                if (!_read.Contains(name))
                    throw new MemoryValidationException(name, "is not a field of this record kind");
        }
    }
}

/// <summary>
/// The feedback rows and events a database held before an import, as a multiset of content hashes: an incoming record
/// equal to one of them is already present and takes it, so a second import of a file adds nothing while two equal
/// records within one file (two events in the same millisecond) stay two.
/// </summary>
internal sealed class PresentRecords
{
    private readonly Dictionary<UInt128, int> _counts = [];

    public static PresentRecords Load(PortableStore.Snapshot snapshot)
    {
        var present = new PresentRecords();
        foreach (var f in snapshot.Feedback()) present.Return(FeedbackKey(f.MemoryId, f.Namespace, f.Signal, f.Note, f.CreatedAt));
        foreach (var e in snapshot.Events())
        {
            // As the file has it: the detail in the export's JSON form.
            var detail = e.Detail is null ? null : JsonNode.Parse(e.Detail)?.ToJsonString(JsonlFormat.Options);
            present.Return(EventKey(e.At, e.Event, e.Namespace, e.MemoryId, detail));
        }
        return present;
    }

    public static UInt128 FeedbackKey(string memoryId, string ns, string signal, string? note, long createdAt) =>
        Hash($"f\u001f{memoryId}\u001f{ns}\u001f{signal}\u001f{Nullable(note)}\u001f{createdAt}");

    public static UInt128 EventKey(long at, string kind, string? ns, string? memoryId, string? detail) =>
        Hash($"e\u001f{at}\u001f{kind}\u001f{Nullable(ns)}\u001f{Nullable(memoryId)}\u001f{Nullable(detail)}");

    public bool TryTake(UInt128 key)
    {
        if (!_counts.TryGetValue(key, out var count)) return false;
        if (count == 1) _counts.Remove(key);
        else _counts[key] = count - 1;
        return true;
    }

    public void Return(UInt128 key) => _counts[key] = _counts.GetValueOrDefault(key) + 1;

    private static string Nullable(string? value) => value is null ? "\0" : "=" + value;

    private static UInt128 Hash(string text) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}
