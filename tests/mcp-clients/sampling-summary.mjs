// A client that supports MCP sampling, as an agent host does: it declares the sampling capability and answers
// sampling/createMessage with a fixed text (a stand-in model: deterministic, so the test can check what was stored).
//   node sampling-summary.mjs <command> [args...]      (the server over stdio)
// Stores 6 memories tagged "deploy" (a cluster) and 2 tagged "misc", runs consolidate_memories with summarize (a dry
// run first, then for real, then again), reads the summary and an original's history, and prints one JSON report.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const [command, ...args] = process.argv.slice(2);
const SUMMARY = "Deploys: staging and production ship through the release pipeline (summary written by the test model).";

async function call(client, name, params) {
  const result = await client.callTool({ name, arguments: params });
  if (result.isError) throw new Error(`${name} failed: ${result.content?.map(c => c.text).join(" ")}`);
  return result.structuredContent;
}

const timeout = setTimeout(() => { console.error("sampling-summary: no finish within 50 s"); process.exit(1); }, 50_000);
const client = new Client({ name: "mcp-memory-sampling-test", version: "1.0.0" }, { capabilities: { sampling: {} } });
const requests = [];
client.setRequestHandler(CreateMessageRequestSchema, async request => {
  requests.push(request.params);
  return { role: "assistant", model: "test-model-1", stopReason: "endTurn", content: { type: "text", text: SUMMARY } };
});
try {
  await client.connect(new StdioClientTransport({ command, args, stderr: "ignore" }));
  const members = [];
  const facts = [
    "staging deploys from the release branch every weekday at noon",
    "production deploys need two approvals in the release pipeline",
    "the deploy pipeline runs database migrations before switching traffic",
    "rollbacks redeploy the previous container image tag",
    "deploy notifications go to the ops channel",
    "the canary stage holds 5 percent of traffic for ten minutes",
  ];
  for (const content of facts) members.push((await call(client, "store_memory", { content, tags: ["deploy"] })).memory_id);
  await call(client, "store_memory", { content: "the office plant needs water on fridays", tags: ["misc"] });
  await call(client, "store_memory", { content: "lunch orders close at eleven", tags: ["misc"] });

  const dry = await call(client, "consolidate_memories", { summarize: true, dry_run: true });
  const requestsAfterDry = requests.length;
  const run = await call(client, "consolidate_memories", { summarize: true });
  const summaryId = run.sampling.summaries[0]?.summary_id;
  const summary = JSON.parse((await client.readResource({ uri: `memory://memories/${summaryId}` })).contents[0].text);
  const history = await call(client, "memory_history", { memory_id: members[0] });
  const original = JSON.parse((await client.readResource({ uri: `memory://memories/${members[0]}` })).contents[0].text);
  const again = await call(client, "consolidate_memories", { summarize: true });
  const notAsked = await call(client, "consolidate_memories", {});
  console.log(JSON.stringify({
    members, dry: dry.sampling, requests_after_dry: requestsAfterDry, run: run.sampling, summary, history, original, again: again.sampling,
    not_asked: notAsked.sampling, requests: requests.length,
    prompt: requests[0]?.messages?.[0]?.content?.text ?? null, max_tokens: requests[0]?.maxTokens ?? null,
  }));
  await client.close();
  clearTimeout(timeout);
} catch (error) {
  console.error(`sampling-summary: ${error?.stack ?? error}`);
  process.exit(1);
}
