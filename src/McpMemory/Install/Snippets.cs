using System.Reflection;

namespace McpMemory.Install;

/// <summary>The instruction snippets from snippets/, compiled into the tool as resources.</summary>
public static class Snippets
{
    public const string Body = "memory.md";
    public const string CursorRule = "cursor-rule.mdc";
    public const string CopilotInstructions = "copilot.instructions.md";
    private const string Placeholder = "{{snippet}}";

    public static string Read(string name)
    {
        using var stream = typeof(Snippets).Assembly.GetManifestResourceStream("snippets/" + name)
            ?? throw new InvalidOperationException($"snippet {name} is not embedded in {typeof(Snippets).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Replace("\r\n", "\n");
    }

    /// <summary>
    /// The content of a file the installer owns (a Cursor rule, a Copilot instructions file):
    /// the template's front matter with the marked snippet block in place of {{snippet}}.
    /// </summary>
    public static string OwnFile(string template) =>
        Read(template).Replace(Placeholder, InstructionBlock.Insert(template, null, Read(Body)).TrimEnd('\n'));

    /// <summary>The template with the snippet taken out: what is left of an own file after uninstall.</summary>
    public static string OwnFileSkeleton(string template) => Read(template).Replace(Placeholder + "\n", "").Replace(Placeholder, "");
}
