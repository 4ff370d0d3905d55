namespace McpMemory.Core; public static class Placeholder {}
