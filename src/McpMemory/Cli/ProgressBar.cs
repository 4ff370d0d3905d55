namespace McpMemory.Cli;

/// <summary>A progress bar on stderr for people; silent when stderr is redirected (logs, CI, pipes).</summary>
internal sealed class ProgressBar(string label, long total)
{
    private readonly bool _enabled = !Console.IsErrorRedirected && total > 0;
    private int _lastPercent = -1;
    private string _label = label;
    private long _total = total;

    public void Report(long done, string? stage = null, long? total = null)
    {
        if (stage is not null && stage != _label) { _label = stage; _lastPercent = -1; }
        if (total is not null) _total = total.Value;
        if (!_enabled || _total <= 0) return;
        var percent = (int)(100 * Math.Min(done, _total) / _total);
        if (percent == _lastPercent) return;
        _lastPercent = percent;
        var filled = percent * 30 / 100;
        Console.Error.Write($"\r{_label,-18} [{new string('#', filled)}{new string('.', 30 - filled)}] {done}/{_total} ");
    }

    public void Done()
    {
        if (_enabled && _lastPercent >= 0) Console.Error.WriteLine();
    }
}
