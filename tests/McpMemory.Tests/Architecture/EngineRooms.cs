using System.Reflection;
using System.Reflection.Emit;

namespace McpMemory.Tests.Architecture;

/// <summary>
/// The engine's rooms (top-level folders of McpMemory.Core, read from namespaces: <c>McpMemory.Core.Search.Time</c> is
/// the room Search, <c>McpMemory.Core</c> itself the room "(root)") and which rooms each one uses, read from the
/// compiled assembly: base types, interfaces, fields, signatures, locals, and every type, method and field the IL
/// names (lambdas and async methods are nested types of their declaring type, so they count for its room).
/// Constants are inlined by the compiler and leave no trace in IL; a room that builds SQL from another's constants is
/// not seen here (Storage holds every SQL statement, so none does).
/// </summary>
internal static class EngineRooms
{
    public const string Root = "(root)";
    private const string Prefix = "McpMemory.Core";

    /// <summary>Room → the rooms it uses, each with one example "Type → Type" that shows the edge.</summary>
    public static Dictionary<string, Dictionary<string, string>> Dependencies(Assembly engine)
    {
        var graph = new Dictionary<string, Dictionary<string, string>>();
        foreach (var type in engine.GetTypes())
        {
            if (RoomOf(type) is not { } from) continue;
            var uses = graph.TryGetValue(from, out var u) ? u : graph[from] = [];
            foreach (var used in Referenced(type))
                if (RoomOf(used) is { } to && to != from && !uses.ContainsKey(to))
                    uses[to] = $"{Name(type)} → {Name(used)}";
        }
        return graph;
    }

    /// <summary>Every cycle between rooms, each as "A → B → … → A" with the edges that make it.</summary>
    public static List<string> Cycles(Dictionary<string, Dictionary<string, string>> graph)
    {
        // A strongly connected component of more than one room is a cycle; name one path around it.
        var components = StronglyConnected(graph);
        var cycles = new List<string>();
        foreach (var component in components.Where(c => c.Count > 1))
        {
            var set = component.ToHashSet();
            var start = component.Min(StringComparer.Ordinal)!;
            var path = PathBack(graph, set, start);
            var edges = path.Zip(path.Skip(1)).Select(e => $"{e.First} → {e.Second} ({graph[e.First][e.Second]})");
            cycles.Add($"{{{string.Join(", ", component.Order(StringComparer.Ordinal))}}} use each other, e.g. " + string.Join(" → ", path) + ": " + string.Join("; ", edges));
        }
        return cycles;
    }

    public static string? RoomOf(Type type)
    {
        var ns = type.Namespace;
        if (ns is null || !(ns == Prefix || ns.StartsWith(Prefix + ".", StringComparison.Ordinal))) return null;
        if (ns == Prefix) return Root;
        var rest = ns[(Prefix.Length + 1)..];
        var dot = rest.IndexOf('.');
        return dot < 0 ? rest : rest[..dot];
    }

    private static string Name(Type type) => type.DeclaringType is { } outer && type.Name.StartsWith('<') ? Name(outer) : type.FullName ?? type.Name;

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<Type> Referenced(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || !found.Add(t)) return;
            if (t.HasElementType) Add(t.GetElementType());
            if (t.IsGenericType && !t.IsGenericTypeDefinition) foreach (var a in t.GetGenericArguments()) Add(a);
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(All)) Add(f.FieldType);
        foreach (var p in type.GetProperties(All)) Add(p.PropertyType);
        foreach (var method in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            if (method is MethodInfo m) Add(m.ReturnType);
            foreach (var p in method.GetParameters()) Add(p.ParameterType);
            MethodBody? body;
            try { body = method.GetMethodBody(); } catch (Exception) { continue; }
            if (body is null) continue;
            foreach (var local in body.LocalVariables) Add(local.LocalType);
            foreach (var member in IlMembers(method, body.GetILAsByteArray() ?? []))
                switch (member)
                {
                    case Type t: Add(t); break;
                    case MethodBase callee:
                        Add(callee.DeclaringType);
                        if (callee is MethodInfo ci) Add(ci.ReturnType);
                        foreach (var p in callee.GetParameters()) Add(p.ParameterType);
                        if (callee.IsGenericMethod) foreach (var a in callee.GetGenericArguments()) Add(a);
                        break;
                    case FieldInfo field: Add(field.DeclaringType); Add(field.FieldType); break;
                }
        }
        return found;
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The members named by the tokens of an IL body.</summary>
    private static IEnumerable<MemberInfo> IlMembers(MethodBase method, byte[] il)
    {
        var module = method.Module;
        var typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var members = new List<MemberInfo>();
        var i = 0;
        while (i < il.Length)
        {
            short value = il[i++];
            if (value == 0xFE && i < il.Length) value = unchecked((short)(0xFE00 | il[i++]));
            if (!OpCodesByValue.TryGetValue(value, out var op)) break; // not IL we understand: stop reading this body
            switch (op.OperandType)
            {
                case OperandType.InlineType or OperandType.InlineTok or OperandType.InlineMethod or OperandType.InlineField:
                    var token = BitConverter.ToInt32(il, i);
                    try { members.Add(module.ResolveMember(token, typeArgs, methodArgs)!); }
                    catch (Exception) { /* a token this module cannot resolve names no engine type */ }
                    i += 4;
                    break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                default: i += 4; break; // InlineI, InlineBrTarget, InlineSig, InlineString, ShortInlineR
            }
        }
        return members;
    }

    /// <summary>Tarjan's algorithm over the room graph.</summary>
    private static List<List<string>> StronglyConnected(Dictionary<string, Dictionary<string, string>> graph)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var components = new List<List<string>>();
        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph.GetValueOrDefault(v)?.Keys ?? Enumerable.Empty<string>())
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string x;
            do { x = stack.Pop(); onStack.Remove(x); component.Add(x); } while (x != v);
            components.Add(component);
        }
        foreach (var v in graph.Keys.Order(StringComparer.Ordinal)) if (!index.ContainsKey(v)) Visit(v);
        return components;
    }

    /// <summary>A shortest path from <paramref name="start"/> back to itself inside one component.</summary>
    private static List<string> PathBack(Dictionary<string, Dictionary<string, string>> graph, HashSet<string> component, string start)
    {
        var previous = new Dictionary<string, string>();
        var queue = new Queue<string>([start]);
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            foreach (var w in graph.GetValueOrDefault(v)?.Keys.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>())
            {
                if (!component.Contains(w)) continue;
                if (w == start)
                {
                    var path = new List<string> { start };
                    for (var at = v; at != start; at = previous[at]) path.Insert(1, at);
                    path.Add(start);
                    return path;
                }
                if (previous.TryAdd(w, v)) queue.Enqueue(w);
            }
        }
        return [start, start];
    }
}
