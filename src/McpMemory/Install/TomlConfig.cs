using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace McpMemory.Install;

/// <summary>
/// Just enough TOML for Codex's config.toml: a validating scanner that records every table
/// header and key/value with its line span, and line-level edits of one
/// [mcp_servers.NAME] table. Lines we do not own are never re-rendered, so comments and
/// formatting elsewhere survive byte for byte.
/// </summary>
public sealed partial class TomlConfig
{
    public sealed record Header(IReadOnlyList<string> Key, bool IsArrayTable, int Line);

    /// <summary>A key/value; Table is the header it sits under (empty at the root); lines are zero-based.</summary>
    public sealed record Entry(int HeaderIndex, IReadOnlyList<string> Table, IReadOnlyList<string> Key, int FirstLine, int LastLine, string ValueText)
    {
        public IReadOnlyList<string> FullKey => [.. Table, .. Key];
    }

    private const string ServersTable = "mcp_servers";

    private readonly string _path;
    private readonly List<string> _lines;
    private readonly string _newLine;
    private readonly bool _endsWithNewLine;
    private readonly List<Header> _headers;
    private readonly List<Entry> _entries;

    private TomlConfig(string path, string text, List<Header> headers, List<Entry> entries)
    {
        _path = path;
        _newLine = TextFile.NewLineOf(text);
        _endsWithNewLine = text.Length == 0 || text.EndsWith('\n');
        _lines = text.Length == 0 ? [] : text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (_lines.Count > 0 && _lines[^1].Length == 0) _lines.RemoveAt(_lines.Count - 1); // the final newline
        _headers = headers;
        _entries = entries;
    }

    public IReadOnlyList<Header> Headers => _headers;
    public IReadOnlyList<Entry> Entries => _entries;

    public static TomlConfig Parse(string path, string? text)
    {
        text ??= "";
        var scanner = new Scanner(path, text);
        scanner.Run();
        return new TomlConfig(path, text, scanner.Headers, scanner.Entries);
    }

    /// <summary>The file in its own line endings, with a final newline only if it had one (a new file gets one).</summary>
    public string Render() => _lines.Count == 0 ? "" : string.Join(_newLine, _lines) + (_endsWithNewLine ? _newLine : "");

    public bool IsBlank => _lines.All(string.IsNullOrWhiteSpace);

    /// <summary>True when [projects."dir"] trust_level = "trusted" (Codex loads project config only then).</summary>
    public bool IsProjectTrusted(string projectDir) => _entries.Any(e =>
        e.FullKey.SequenceEqual(["projects", projectDir, "trust_level"]) && e.ValueText is "\"trusted\"" or "'trusted'");

    /// <summary>Makes [mcp_servers.NAME] start the given command; other keys in that table stay.</summary>
    public bool SetServer(string name, ServerLaunch launch)
    {
        RefuseForeignForms(name);
        var wanted = new (string Key, string Line)[]
        {
            ("command", $"command = {RenderString(launch.Command)}"),
            ("args", $"args = [{string.Join(", ", launch.Args.Select(RenderString))}]"),
        };

        var headerIndex = _headers.FindIndex(h => !h.IsArrayTable && h.Key.SequenceEqual([ServersTable, name]));
        if (headerIndex < 0)
        {
            // Always one blank line, even after a blank one: uninstall takes exactly one away again.
            if (_lines.Count > 0) _lines.Add("");
            _lines.Add($"[{ServersTable}.{RenderKey(name)}]");
            _lines.AddRange(wanted.Select(w => w.Line));
            return true;
        }

        // Edit bottom-up so earlier line numbers stay valid.
        var edits = new List<(int First, int Last, string? Replacement, int InsertAt)>();
        var missing = new List<string>();
        foreach (var (key, line) in wanted)
        {
            var existing = _entries.FirstOrDefault(e => e.HeaderIndex == headerIndex && e.Key.SequenceEqual([key]));
            if (existing is null) missing.Add(line);
            else if (existing.FirstLine != existing.LastLine || _lines[existing.FirstLine].Trim() != line)
                edits.Add((existing.FirstLine, existing.LastLine, line, -1));
        }
        foreach (var (first, last, replacement, _) in edits.OrderByDescending(e => e.First))
        {
            _lines.RemoveRange(first, last - first + 1);
            _lines.Insert(first, replacement!);
        }
        _lines.InsertRange(_headers[headerIndex].Line + 1, missing);
        return edits.Count > 0 || missing.Count > 0;
    }

    /// <summary>Removes [mcp_servers.NAME] and its sub-tables; returns false when absent.</summary>
    public bool RemoveServer(string name)
    {
        RefuseForeignForms(name);
        var sections = _headers
            .Select((h, i) => (Header: h, Index: i))
            .Where(x => x.Header.Key.Count >= 2 && x.Header.Key[0] == ServersTable && x.Header.Key[1] == name)
            .Select(x => (First: x.Header.Line, Last: SectionEnd(x.Index)))
            .OrderByDescending(s => s.First)
            .ToList();
        foreach (var (first, last) in sections)
        {
            _lines.RemoveRange(first, last - first + 1);
            // Drop the blank line that separated the table, unless it still separates two others.
            TextLines.DropSeparatorAt(_lines, first);
        }
        return sections.Count > 0;
    }

    /// <summary>The last line that belongs to a header's table: trailing comments and blanks belong to what follows.</summary>
    private int SectionEnd(int headerIndex) =>
        _entries.Where(e => e.HeaderIndex == headerIndex).Select(e => e.LastLine).DefaultIfEmpty(_headers[headerIndex].Line).Max();

    /// <summary>
    /// Our server written as dotted keys or an inline table cannot be edited line by line
    /// without guessing; say where it is instead.
    /// </summary>
    private void RefuseForeignForms(string name)
    {
        foreach (var h in _headers.Where(h => h.IsArrayTable && h.Key.Count > 0 && h.Key[0] == ServersTable))
            throw NotEditable(h.Line, $"[[{ServersTable}]] is an array of tables, which Codex does not read");
        foreach (var e in _entries)
        {
            var full = e.FullKey;
            if (full.Count == 1 && full[0] == ServersTable)
                throw NotEditable(e.FirstLine, $"{ServersTable} is written as an inline table; write each server as a [{ServersTable}.NAME] table");
            var ownTable = e.Table.Count >= 2 && e.Table[0] == ServersTable && e.Table[1] == name;
            if (!ownTable && full.Count >= 2 && full[0] == ServersTable && full[1] == name)
                throw NotEditable(e.FirstLine, $"{ServersTable}.{name} is written as dotted keys or an inline table; write it as a [{ServersTable}.{name}] table");
        }
    }

    private InstallException NotEditable(int line, string why) =>
        new($"{_path}:{line + 1}: {why}. Change it by hand; nothing was changed.");

    private static string RenderKey(string key) => BareKey().IsMatch(key) ? key : RenderString(key);

    /// <summary>Literal 'strings' for Windows paths (no backslash escapes to get wrong), basic "strings" otherwise.</summary>
    public static string RenderString(string value)
    {
        var hasControl = value.Any(char.IsControl);
        if (value.Contains('\\') && !value.Contains('\'') && !hasControl) return $"'{value}'";
        var sb = new StringBuilder("\"");
        foreach (var c in value)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }
        return sb.Append('"').ToString();
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex BareKey();

    [GeneratedRegex(@"^(true|false|[+-]?(inf|nan)|[+-]?[0-9][0-9_]*(\.[0-9_]+)?([eE][+-]?[0-9_]+)?|0x[0-9A-Fa-f_]+|0o[0-7_]+|0b[01_]+|\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?([Zz]|[+-]\d{2}:\d{2})?|\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$")]
    private static partial Regex Scalar();

    /// <summary>Validates the whole document (strings, arrays, inline tables, scalars, duplicates) and records its structure.</summary>
    private sealed class Scanner(string path, string text)
    {
        private int _pos;
        private IReadOnlyList<string> _table = [];
        private int _headerIndex = -1;
        private readonly HashSet<string> _definedTables = [];
        private readonly HashSet<string> _definedKeys = [];
        private readonly int[] _lineStarts = [0, .. text.Select((c, i) => (c, i)).Where(x => x.c == '\n').Select(x => x.i + 1)];

        public List<Header> Headers { get; } = [];
        public List<Entry> Entries { get; } = [];

        public void Run()
        {
            while (_pos < text.Length)
            {
                SkipSpaces();
                if (AtLineEnd()) { ConsumeLineEnd(); continue; }
                if (Peek() == '#') { SkipComment(); continue; }
                if (Peek() == '[') ParseHeader();
                else ParseKeyValue();
                ExpectLineEnd();
            }
        }

        private void ParseHeader()
        {
            var line = LineOf(_pos);
            var isArray = text.AsSpan(_pos).StartsWith("[[");
            _pos += isArray ? 2 : 1;
            var key = ParseKey();
            if (!text.AsSpan(_pos).StartsWith(isArray ? "]]" : "]")) throw Error(isArray ? "expected ]] to close the table header" : "expected ] to close the table header");
            _pos += isArray ? 2 : 1;
            var id = string.Join('\u0000', key);
            if (!isArray && !_definedTables.Add(id)) throw Error($"table [{string.Join('.', key)}] is defined twice", line);
            Headers.Add(new Header(key, isArray, line));
            _headerIndex = Headers.Count - 1;
            _table = key;
        }

        private void ParseKeyValue()
        {
            var first = LineOf(_pos);
            var key = ParseKey();
            if (Peek() != '=') throw Error("expected = after the key");
            _pos++;
            SkipSpaces();
            var start = _pos;
            ParseValue();
            var id = string.Join('\u0000', _headerIndex.ToString(CultureInfo.InvariantCulture), string.Join('\u0000', _table), string.Join('\u0000', key));
            if (!_definedKeys.Add(id)) throw Error($"key {string.Join('.', key)} is defined twice", first);
            Entries.Add(new Entry(_headerIndex, _table, key, first, LineOf(_pos - 1), text[start.._pos]));
        }

        private List<string> ParseKey()
        {
            var parts = new List<string>();
            while (true)
            {
                SkipSpaces();
                var c = Peek();
                if (c == '"') parts.Add(ParseBasicString());
                else if (c == '\'') parts.Add(ParseLiteralString());
                else
                {
                    var start = _pos;
                    while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] is '_' or '-')) _pos++;
                    if (_pos == start) throw Error("expected a key");
                    parts.Add(text[start.._pos]);
                }
                SkipSpaces();
                if (Peek() != '.') return parts;
                _pos++;
            }
        }

        private void ParseValue()
        {
            var c = Peek();
            if (text.AsSpan(_pos).StartsWith("\"\"\"")) ParseMultiline("\"\"\"", escapes: true);
            else if (text.AsSpan(_pos).StartsWith("'''")) ParseMultiline("'''", escapes: false);
            else if (c == '"') ParseBasicString();
            else if (c == '\'') ParseLiteralString();
            else if (c == '[') ParseArray();
            else if (c == '{') ParseInlineTable();
            else ParseScalar();
        }

        private void ParseArray()
        {
            _pos++;
            while (true)
            {
                SkipSpacesNewLinesComments();
                if (Peek() == ']') { _pos++; return; }
                ParseValue();
                SkipSpacesNewLinesComments();
                if (Peek() == ',') { _pos++; continue; }
                if (Peek() == ']') { _pos++; return; }
                throw Error(_pos >= text.Length ? "unterminated array" : "expected , or ] in the array");
            }
        }

        private void ParseInlineTable()
        {
            _pos++;
            SkipSpacesNewLinesComments();
            if (Peek() == '}') { _pos++; return; }
            while (true)
            {
                ParseKey();
                if (Peek() != '=') throw Error("expected = in the inline table");
                _pos++;
                SkipSpaces();
                ParseValue();
                SkipSpacesNewLinesComments();
                if (Peek() == ',') { _pos++; SkipSpacesNewLinesComments(); continue; }
                if (Peek() == '}') { _pos++; return; }
                throw Error(_pos >= text.Length ? "unterminated inline table" : "expected , or } in the inline table");
            }
        }

        private const string WindowsPathHint = " (write Windows paths in 'single quotes' or double the backslashes)";

        private void ParseScalar()
        {
            var start = _pos;
            SkipScalarToken();
            // A local date-time may use a space instead of T: 1979-05-27 07:32:00.
            if (_pos - start == 10 && text[start + 4] == '-' && _pos + 3 < text.Length && text[_pos] == ' '
                && char.IsAsciiDigit(text[_pos + 1]) && char.IsAsciiDigit(text[_pos + 2]) && text[_pos + 3] == ':')
            {
                _pos++;
                SkipScalarToken();
            }
            var raw = text[start.._pos];
            if (raw.Length == 0) throw Error("expected a value", LineOf(start));
            if (!Scalar().IsMatch(raw)) throw Error($"'{raw}' is not a TOML value (strings need quotes)", LineOf(start));
        }

        private void SkipScalarToken()
        {
            while (_pos < text.Length && text[_pos] is not (',' or ']' or '}' or '#' or ' ' or '\t' or '\n' or '\r')) _pos++;
        }

        private string ParseBasicString()
        {
            var sb = new StringBuilder();
            _pos++;
            while (true)
            {
                if (_pos >= text.Length || text[_pos] is '\n' or '\r') throw Error("unterminated string");
                var c = text[_pos++];
                if (c == '"') return sb.ToString();
                if (c != '\\') { sb.Append(c); continue; }
                if (_pos >= text.Length) throw Error("unterminated string");
                var e = text[_pos++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case 'b': sb.Append('\b'); break;
                    case 't': sb.Append('\t'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'e': sb.Append('\u001b'); break;
                    case 'u' or 'U':
                        var digits = e == 'u' ? 4 : 8;
                        if (_pos + digits > text.Length || !int.TryParse(text.AsSpan(_pos, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code)
                            || code > 0x10FFFF || code is >= 0xD800 and <= 0xDFFF)
                            throw Error($"invalid escape \\{e}{WindowsPathHint}");
                        sb.Append(char.ConvertFromUtf32(code));
                        _pos += digits;
                        break;
                    default:
                        throw Error($"invalid escape \\{e}{WindowsPathHint}");
                }
            }
        }

        private string ParseLiteralString()
        {
            var start = ++_pos;
            while (_pos < text.Length && text[_pos] != '\'')
            {
                if (text[_pos] is '\n' or '\r') throw Error("unterminated string");
                _pos++;
            }
            if (_pos >= text.Length) throw Error("unterminated string");
            return text[start.._pos++];
        }

        private void ParseMultiline(string delimiter, bool escapes)
        {
            var start = _pos;
            _pos += 3;
            while (_pos < text.Length)
            {
                if (escapes && text[_pos] == '\\') { _pos += 2; continue; }
                if (text.AsSpan(_pos).StartsWith(delimiter))
                {
                    _pos += 3;
                    // Up to two quotes may sit right before the closing delimiter.
                    for (var extra = 0; extra < 2 && _pos < text.Length && text[_pos] == delimiter[0]; extra++) _pos++;
                    return;
                }
                _pos++;
            }
            throw Error("unterminated multi-line string", LineOf(start));
        }

        private void ExpectLineEnd()
        {
            SkipSpaces();
            if (Peek() == '#') SkipComment();
            if (_pos >= text.Length) return;
            if (!AtLineEnd()) throw Error("unexpected text after the value (one key = value per line)");
            ConsumeLineEnd();
        }

        private void SkipSpaces()
        {
            while (_pos < text.Length && text[_pos] is ' ' or '\t') _pos++;
        }

        private void SkipSpacesNewLinesComments()
        {
            while (_pos < text.Length)
            {
                if (text[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
                else if (text[_pos] == '#') SkipComment();
                else return;
            }
        }

        private void SkipComment()
        {
            while (_pos < text.Length && text[_pos] != '\n') _pos++;
            if (_pos > 0 && text[_pos - 1] == '\r') _pos--;
        }

        private bool AtLineEnd() => _pos < text.Length && (text[_pos] == '\n' || text.AsSpan(_pos).StartsWith("\r\n"));

        private void ConsumeLineEnd() => _pos += text[_pos] == '\r' ? 2 : 1;

        private char Peek() => _pos < text.Length ? text[_pos] : '\0';

        private int LineOf(int position)
        {
            var index = Array.BinarySearch(_lineStarts, Math.Max(0, position));
            return index >= 0 ? index : ~index - 1;
        }

        private InstallException Error(string reason, int? line = null)
        {
            var at = line ?? LineOf(_pos);
            var column = line is null ? _pos - _lineStarts[at] + 1 : 1;
            return new InstallException($"{path}:{at + 1}:{column}: not valid TOML ({reason}). Fix the file or move it away; nothing was changed.");
        }
    }
}
