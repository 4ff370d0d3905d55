// Drives mcp-memory with the official TypeScript MCP SDK client, as an agent would: lists the tools and calls every one, gets the briefing prompt and reads the resources.
//   node all-tools.mjs stdio <command> [args...]
//   node all-tools.mjs http  <url of /mcp>      (Streamable HTTP)
//   node all-tools.mjs sse   <url of /sse>      (legacy HTTP+SSE)
// MCP_KEY, when set, is sent as "Authorization: Bearer <key>". Prints one JSON report on stdout; exits 1 on any failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";

const [kind, target, ...rest] = process.argv.slice(2);
const headers = process.env.MCP_KEY ? { Authorization: `Bearer ${process.env.MCP_KEY}` } : {};

function transportFor() {
  switch (kind) {
    case "stdio": return new StdioClientTransport({ command: target, args: rest, stderr: "ignore" });
    case "http": return new StreamableHTTPClientTransport(new URL(target), { requestInit: { headers } });
    case "sse": return new SSEClientTransport(new URL(target), {
      requestInit: { headers },
      // The SSE GET goes through EventSource, which needs the header passed through its own fetch.
      eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...headers } }) },
    });
    default: throw new Error(`unknown transport "${kind}": use stdio, http or sse`);
  }
}

async function call(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name} failed: ${result.content?.map(c => c.text).join(" ")}`);
  if (!result.structuredContent) throw new Error(`${name} returned no structured content`);
  return result.structuredContent;
}

const timeout = setTimeout(() => { console.error("all-tools: no finish within 30 s"); process.exit(1); }, 30_000);
const client = new Client({ name: "mcp-memory-ts-test", version: "1.0.0" });
const transport = transportFor();
try {
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map(t => t.name).sort();
  const marker = `marker-${kind}-${Date.now()}`;
  const stored = await call(client, "store_memory", {
    content: `the ${kind} transport test stored ${marker} about nginx reverse proxy`, memory_type: "decision", tags: ["ts-client"], importance: 0.7,
  });
  const found = await call(client, "search_memory", { query: marker, top_k: 5 });
  const set = await call(client, "set_agent_state", { key: "current_task", value: { transport: kind, step: 1 } });
  const got = await call(client, "get_agent_state", { key: "current_task" });
  // The briefing three ways: the tool (its structured content checked against the output schema by the SDK), the prompt, the resources.
  const briefing = await call(client, "get_briefing", { task: marker, budget_tokens: 800 });
  const prompt = await client.getPrompt({ name: "briefing", arguments: { task: marker } });
  const briefingResource = await client.readResource({ uri: "memory://briefing" });
  const memoryResource = await client.readResource({ uri: `memory://memories/${stored.memory_id}` });
  const stateResource = await client.readResource({ uri: "memory://state/current_task" });
  const rated = await call(client, "feedback", { memory_id: stored.memory_id, signal: "useful", note: `helped over ${kind}` });
  const deleted = await call(client, "delete_memory", { memory_id: stored.memory_id });
  const after = await call(client, "search_memory", { query: marker, top_k: 5 });
  const history = await call(client, "memory_history", { memory_id: stored.memory_id });
  // Knowledge: a skill found by its trigger (a trigger with no marker, so no later search for a marker meets it), consolidation and seeding as dry runs (seeding reads the server's folder).
  const skill = await call(client, "store_memory", {
    content: `restart the ${kind} proxy`, memory_type: "skill", trigger: "the reverse proxy returns 502 bad gateway", steps: ["systemctl restart nginx"], success_hint: "curl gives 200",
  });
  const skills = await call(client, "find_skills", { task: "the reverse proxy returns 502 bad gateway again", top_k: 50 });
  await call(client, "delete_memory", { memory_id: skill.memory_id }); // leave the store as the checks above expect it on a second run
  const consolidated = await call(client, "consolidate_memories", { dry_run: true });
  const seeded = await call(client, "seed_memories", { dry_run: true });
  console.log(JSON.stringify({
    protocol: transport.protocolVersion ?? null,
    session: transport.sessionId ?? null,
    tools,
    stored,
    found_ids: found.results.map(r => r.memory_id),
    state_version: set.version,
    state_value: got.value,
    feedback: rated,
    deleted,
    after_delete: after.results.length,
    history_kinds: history.versions.map(v => v.kind),
    skill_found: skills.skills.some(s => s.memory_id === skill.memory_id),
    consolidate_dry_run: consolidated.dry_run,
    seed_dry_run: seeded.dry_run,
    briefing_ids: briefing.sections.flatMap(s => s.items.map(i => i.memory_id)),
    briefing_tokens: briefing.tokens,
    prompt_has_marker: prompt.messages[0].content.text.includes(marker),
    briefing_resource_has_marker: briefingResource.contents[0].text.includes(marker),
    memory_resource_id: JSON.parse(memoryResource.contents[0].text).memory_id,
    state_resource_transport: JSON.parse(stateResource.contents[0].text).value.transport,
  }));
  if (kind === "http") await transport.terminateSession();
  await client.close();
  clearTimeout(timeout);
} catch (error) {
  console.error(`all-tools (${kind}): ${error?.stack ?? error}`);
  process.exit(1);
}
