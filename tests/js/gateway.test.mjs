// Functional tests of the Tollgate gateway driven by the official `openai` npm package (and LangChain JS on top of it).
//
// Starts the simulated upstream (`tollgate simulate`) and the gateway (`tollgate serve`) as real processes on
// loopback ports picked by the OS, creates keys with the CLI, and checks every answer against two independent
// truths: the simulator's own bill for the request (GET /_simulator/bills/{id}) and the gateway's audit ledger
// (`tollgate usage --json`). Run with `node --test --test-reporter=spec` from tests/js after building the solution
// in Release (or point TOLLGATE_DLL at tollgate.dll).

import { test, before, after, mock } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import OpenAI from "openai";
import { ChatOpenAI } from "@langchain/openai";
import { HumanMessage, ToolMessage } from "@langchain/core/messages";
import { z } from "zod";
import { generateText, streamText } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import Anthropic from "@anthropic-ai/sdk";

const execFileAsync = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const DLL = process.env.TOLLGATE_DLL
  ?? path.resolve(here, "../../src/Tollgate/bin/Release/net10.0/tollgate.dll");
const ENV = { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1", DOTNET_NOLOGO: "1" };
const START_TIMEOUT_MS = 30_000;
const LEDGER_TIMEOUT_MS = 5_000;
const LISTENING = /Now listening on: (http:\/\/[^\s]+)/;

/** Everything the tests share, filled in by `before`. */
const ctx = {
  dir: null, // temp dir: data, config
  data: null,
  configFile: null,
  simulator: null, // { proc, output }
  gateway: null,
  simUrl: null, // http://127.0.0.1:N
  apiUrl: null,
  metricsUrl: null,
  prices: null, // model -> { input, cached, output } in micro-dollars per million tokens (= pico-dollars per token)
};

// ---------------------------------------------------------------------------------------------------------------
// Processes

const children = new Set();
process.on("exit", () => {
  for (const child of children) {
    try { child.kill("SIGKILL"); } catch { /* already gone */ }
  }
});

/** Starts `dotnet tollgate.dll ...args` and resolves once it has printed `count` "Now listening on" lines. */
function startServer(name, args, count) {
  const proc = spawn("dotnet", [DLL, ...args], { env: ENV, stdio: ["ignore", "pipe", "pipe"] });
  children.add(proc);
  const server = { name, proc, output: "", exited: false };
  proc.on("exit", () => { server.exited = true; children.delete(proc); });
  const urls = [];
  return new Promise((resolve, reject) => {
    let pending = "";
    const fail = (why) => {
      clearTimeout(timer);
      reject(new Error(`${name}: ${why}\n--- output ---\n${server.output}`));
    };
    const timer = setTimeout(() => fail(`no "Now listening on" line after ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    proc.stdout.setEncoding("utf8");
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (chunk) => { server.output += chunk; });
    proc.stdout.on("data", (chunk) => {
      server.output += chunk;
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const m = LISTENING.exec(line);
        if (m && urls.length < count) {
          urls.push(m[1].replace(/\/$/, ""));
          if (urls.length === count) {
            clearTimeout(timer);
            resolve({ server, urls });
          }
        }
      }
    });
    proc.on("error", (e) => fail(`could not start: ${e.message}`));
    proc.on("exit", (code, signal) => {
      if (urls.length < count) fail(`exited (code ${code}, signal ${signal}) before listening`);
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
async function stopServer(server, graceMs = 5_000) {
  if (!server || server.exited) return;
  const exited = new Promise((resolve) => server.proc.once("exit", resolve));
  server.proc.kill("SIGTERM");
  const timer = setTimeout(() => { if (!server.exited) server.proc.kill("SIGKILL"); }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs the CLI to completion; returns stdout. */
async function cli(...args) {
  try {
    const { stdout } = await execFileAsync("dotnet", [DLL, ...args], { env: ENV, timeout: 30_000 });
    return stdout;
  } catch (e) {
    throw new Error(`tollgate ${args.join(" ")} failed (exit ${e.code}):\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

async function createKey(user, plan) {
  const out = await cli("keys", "create", "--data", ctx.data, "--config", ctx.configFile, "--tenant", "acme", "--user", user, "--plan", plan, "--json");
  const key = JSON.parse(out);
  assert.match(key.id, /\S/);
  assert.match(key.key, /\S/);
  return key;
}

// ---------------------------------------------------------------------------------------------------------------
// Truths: the simulator's bill, the gateway's ledger, the price list

async function bill(requestId) {
  const res = await fetch(`${ctx.simUrl}/_simulator/bills/${encodeURIComponent(requestId)}`);
  assert.equal(res.status, 200, `the simulator has no bill for ${requestId}`);
  return res.json();
}

async function assertNoBill(requestId) {
  const res = await fetch(`${ctx.simUrl}/_simulator/bills/${encodeURIComponent(requestId)}`);
  await res.arrayBuffer();
  assert.equal(res.status, 404, `the request ${requestId} reached the upstream`);
}

/** The ledger's totals for one user, once it holds `requests` records (polled: the ledger is written in batches). */
async function ledger(user, requests) {
  const deadline = Date.now() + LEDGER_TIMEOUT_MS;
  let last;
  for (;;) {
    const out = JSON.parse(await cli("usage", "--data", ctx.data, "--json", "--since", "1h", "--user", user));
    const rows = out.rows.filter((r) => r.user === user);
    last = rows.reduce((sum, r) => ({
      requests: sum.requests + r.requests,
      refused: sum.refused + r.refused,
      input_tokens: sum.input_tokens + r.input_tokens,
      cached_input_tokens: sum.cached_input_tokens + r.cached_input_tokens,
      output_tokens: sum.output_tokens + r.output_tokens,
      reasoning_tokens: sum.reasoning_tokens + r.reasoning_tokens,
      cost_nanousd: sum.cost_nanousd + r.cost_nanousd,
      estimated_requests: sum.estimated_requests + r.estimated_requests,
      models: [...sum.models, r.model],
    }), { requests: 0, refused: 0, input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_tokens: 0, cost_nanousd: 0, estimated_requests: 0, models: [] });
    if (last.requests >= requests) break;
    if (Date.now() > deadline) {
      assert.fail(`the ledger shows ${last.requests} request(s) for ${user} after ${LEDGER_TIMEOUT_MS} ms, expected ${requests}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(last.requests, requests, `ledger request count for ${user}`);
  return last;
}

/** The exact cost of a bill in nano-dollars: integer pico-dollars, rounded up once (docs/configuration.md). */
function costNanos(model, b) {
  const p = ctx.prices[model];
  const cached = BigInt(Math.min(b.cachedTokens, b.promptTokens));
  const write5m = BigInt(b.cacheWrite5mTokens ?? 0);
  const write1h = BigInt(b.cacheWrite1hTokens ?? 0);
  const uncached = BigInt(b.promptTokens) - cached - write5m - write1h;
  const picos = uncached * p.input + cached * p.cached + write5m * p.write5m + write1h * p.write1h + BigInt(b.completionTokens) * p.output;
  return Number((picos + 999n) / 1000n);
}

const micros = (dollarsPerMillion) => BigInt(Math.round(dollarsPerMillion * 1e6));

/** Asserts the ledger for `user` equals the sum of the simulator's bills for `model`, cost included. */
async function assertLedgerMatches(user, model, bills, { estimated = 0 } = {}) {
  const row = await ledger(user, bills.length);
  const sum = (f) => bills.reduce((s, b) => s + f(b), 0);
  assert.deepEqual(row.models, [model]);
  assert.equal(row.refused, 0);
  assert.equal(row.input_tokens, sum((b) => b.promptTokens), "input tokens: ledger vs simulator");
  assert.equal(row.cached_input_tokens, sum((b) => b.cachedTokens), "cached tokens: ledger vs simulator");
  assert.equal(row.output_tokens, sum((b) => b.completionTokens), "output tokens: ledger vs simulator");
  assert.equal(row.reasoning_tokens, sum((b) => b.reasoningTokens), "reasoning tokens: ledger vs simulator");
  assert.equal(row.cost_nanousd, sum((b) => costNanos(model, b)), "cost: ledger vs price list x simulator");
  assert.equal(row.estimated_requests, estimated, "estimated requests");
  return row;
}

function client(apiKey) {
  return new OpenAI({ apiKey, baseURL: `${ctx.apiUrl}/v1`, maxRetries: 0, timeout: 15_000 });
}

let nextId = 0;
const requestId = (label) => `js-${label}-${process.pid}-${++nextId}`;

// ---------------------------------------------------------------------------------------------------------------
// Set-up and tear-down

before(async () => {
  assert.ok(existsSync(DLL), `${DLL} not found: build the solution in Release first, or set TOLLGATE_DLL`);
  ctx.dir = await mkdtemp(path.join(tmpdir(), "tollgate-js-"));
  ctx.data = path.join(ctx.dir, "data");

  const [{ server: sim, urls: simUrls }, defaults] = await Promise.all([
    startServer("simulate", ["simulate", "--urls", "http://127.0.0.1:0"], 1),
    cli("config", "default"),
  ]);
  ctx.simulator = sim;
  ctx.simUrl = simUrls[0];

  const config = JSON.parse(defaults);
  config.Tollgate.Upstreams.simulator = { Kind: "openai", BaseUrl: `${ctx.simUrl}/v1` };
  // The Claude-style model goes through an upstream of kind anthropic (x-api-key, anthropic-version) to the same simulator.
  config.Tollgate.Upstreams["sim-anthropic"] = { Kind: "anthropic", BaseUrl: `${ctx.simUrl}/v1` };
  config.Tollgate.Models["sim-claude"].Upstream = "sim-anthropic";
  // A model whose upstream speaks chat completions only (as a vLLM or Ollama server): Responses calls are translated.
  config.Tollgate.Upstreams["sim-chat-only"] = { Kind: "openai", BaseUrl: `${ctx.simUrl}/v1`, Apis: ["chat", "completions", "embeddings"] };
  config.Tollgate.Models["sim-chat"] = { ...config.Tollgate.Models["sim-mini"], Aliases: [], Upstream: "sim-chat-only", UpstreamModel: "sim-mini" };
  // Translation: a Claude-priced model on the OpenAI-compatible upstream (Messages callers are translated to chat),
  // while chat callers of sim-claude, whose upstream speaks only Messages, are translated to Messages.
  config.Tollgate.Models["sim-claude-chat"] = { ...config.Tollgate.Models["sim-claude"], Aliases: [], Upstream: "simulator" };
  config.Tollgate.Plans.basic.Models.push("sim-claude-chat");
  config.Tollgate.Ledger = { FlushInterval: "00:00:00.050" };
  // One plan per kind of refusal, for the retry tests.
  const plan = (limits) => ({ Models: ["*"], ...limits });
  Object.assign(config.Tollgate.Plans, {
    "js-per-minute": plan({ RequestsPerMinute: 1 }),
    "js-per-day": plan({ RequestsPerDay: 1 }),
    "js-daily-budget": plan({ BudgetPerDay: 0.001 }),
    "js-small-tpm": plan({ TokensPerMinute: 50 }),
    "js-single": plan({ MaxConcurrentRequests: 1 }),
    "js-translate": plan({}),
  });
  ctx.prices = Object.fromEntries(Object.entries(config.Tollgate.Models).map(([name, m]) => [name, {
    input: micros(m.Prices.Input ?? 0),
    cached: micros(m.Prices.CachedInput ?? m.Prices.Input ?? 0),
    output: micros(m.Prices.Output ?? 0),
    write5m: micros(m.Prices.CacheWrite5m ?? m.Prices.Input ?? 0),
    write1h: micros(m.Prices.CacheWrite1h ?? m.Prices.Input ?? 0),
  }]));
  const configFile = path.join(ctx.dir, "tollgate.json");
  await writeFile(configFile, JSON.stringify(config, null, 2));
  ctx.configFile = configFile;

  const { server: gw, urls } = await startServer("serve", [
    "serve", "--data", ctx.data, "--config", configFile,
    "--urls", "http://127.0.0.1:0", "--metrics-urls", "http://127.0.0.1:0",
  ], 2);
  ctx.gateway = gw;
  // Both listeners log "Now listening on"; only the API answers /healthz, only the metrics listener /metrics.
  for (const url of urls) {
    const res = await fetch(`${url}/healthz`);
    await res.arrayBuffer();
    if (res.status === 200) ctx.apiUrl = url; else ctx.metricsUrl = url;
  }
  assert.ok(ctx.apiUrl && ctx.metricsUrl, `could not tell the API from the metrics listener among ${urls.join(", ")}`);
  const metrics = await fetch(`${ctx.metricsUrl}/metrics`);
  await metrics.arrayBuffer();
  assert.equal(metrics.status, 200);
  for (const url of [ctx.simUrl, ctx.apiUrl, ctx.metricsUrl]) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

after(async () => {
  await Promise.all([stopServer(ctx.gateway), stopServer(ctx.simulator)]);
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------
// Successful calls: response, simulator bill and ledger agree exactly

test("chat completion: usage and cost match the simulator's bill and the ledger", async () => {
  const { key } = await createKey("u-chat", "basic");
  const { data, response, request_id } = await client(key).chat.completions
    .create({ model: "sim-mini", messages: [{ role: "user", content: "Say hello. [[sim:tokens=7]]" }] })
    .withResponse();

  const id = response.headers.get("x-request-id");
  assert.match(id, /\S/, "the gateway returns an x-request-id");
  assert.equal(request_id, id);
  assert.equal(data.object, "chat.completion");
  assert.equal(data.model, "sim-mini");
  assert.equal(data.choices[0].message.content.trim().split(/\s+/).length, 7);

  const b = await bill(id);
  assert.equal(b.completed, true);
  assert.equal(data.usage.prompt_tokens, b.promptTokens);
  assert.equal(data.usage.completion_tokens, 7);
  assert.equal(data.usage.completion_tokens, b.completionTokens);
  assert.equal(data.usage.total_tokens, b.promptTokens + b.completionTokens);
  assert.equal(data.usage.cost_nanousd, costNanos("sim-mini", b));
  assert.equal(response.headers.get("x-tollgate-cost-usd"), (costNanos("sim-mini", b) / 1e9).toFixed(9).replace(/0+$/, ""));

  await assertLedgerMatches("u-chat", "sim-mini", [b]);
});

test("chat completion with cached and reasoning tokens: priced exactly", async () => {
  const { key } = await createKey("u-cached", "basic");
  const id = requestId("cached");
  const { data, response } = await client(key).chat.completions
    .create(
      { model: "sim-large", messages: [{ role: "user", content: "Think first, then answer in a few words. [[sim:tokens=5]] [[sim:cached=4]] [[sim:reasoning=11]]" }] },
      { headers: { "x-request-id": id } },
    )
    .withResponse();
  assert.equal(response.headers.get("x-request-id"), id, "the caller's x-request-id is echoed");

  const b = await bill(id);
  assert.equal(b.cachedTokens, 4);
  assert.equal(b.reasoningTokens, 11);
  assert.equal(b.completionTokens, 16);
  assert.equal(data.usage.prompt_tokens_details.cached_tokens, 4);
  assert.equal(data.usage.completion_tokens_details.reasoning_tokens, 11);
  assert.equal(data.usage.completion_tokens, 16);
  assert.equal(data.usage.cost_nanousd, costNanos("sim-large", b));

  await assertLedgerMatches("u-cached", "sim-large", [b]);
});

test("legacy completion: usage matches the bill and the ledger", async () => {
  const { key } = await createKey("u-legacy", "basic");
  const { data, response } = await client(key).completions
    .create({ model: "sim-mini", prompt: "Once upon a time [[sim:tokens=9]]" })
    .withResponse();
  const b = await bill(response.headers.get("x-request-id"));
  assert.equal(b.endpoint, "completions");
  assert.equal(data.object, "text_completion");
  assert.equal(data.usage.prompt_tokens, b.promptTokens);
  assert.equal(data.usage.completion_tokens, 9);
  assert.equal(data.usage.cost_nanousd, costNanos("sim-mini", b));
  await assertLedgerMatches("u-legacy", "sim-mini", [b]);
});

test("stream with include_usage: the last chunk carries the usage and its cost", async () => {
  const { key } = await createKey("u-stream", "basic");
  const { data: stream, response } = await client(key).chat.completions
    .create({
      model: "sim-mini",
      messages: [{ role: "user", content: "Tell a short story. [[sim:tokens=12]]" }],
      stream: true,
      stream_options: { include_usage: true },
    })
    .withResponse();
  const id = response.headers.get("x-request-id");
  assert.match(response.headers.get("content-type"), /^text\/event-stream/);

  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
  assert.equal(text.trim().split(/\s+/).length, 12);

  const withUsage = chunks.filter((c) => c.usage);
  assert.equal(withUsage.length, 1, "exactly one chunk carries usage");
  const last = chunks.at(-1);
  assert.equal(withUsage[0], last, "the usage chunk is the last one");
  assert.deepEqual(last.choices, []);

  const b = await bill(id);
  assert.equal(b.stream, true);
  assert.equal(b.completed, true);
  assert.equal(last.usage.prompt_tokens, b.promptTokens);
  assert.equal(last.usage.completion_tokens, b.completionTokens);
  assert.equal(last.usage.completion_tokens, 12);
  assert.equal(last.usage.total_tokens, b.promptTokens + b.completionTokens);
  assert.ok("cost_nanousd" in last.usage, "usage.cost_nanousd is present");
  assert.equal(last.usage.cost_nanousd, costNanos("sim-mini", b));

  await assertLedgerMatches("u-stream", "sim-mini", [b]);
});

test("stream without include_usage: no usage chunk reaches the client, the ledger is still exact", async () => {
  const { key } = await createKey("u-stream-quiet", "basic");
  const id = requestId("quiet");
  const stream = await client(key).chat.completions.create(
    { model: "sim-mini", messages: [{ role: "user", content: "Count. [[sim:tokens=10]]" }], stream: true },
    { headers: { "x-request-id": id } },
  );
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.ok(chunks.length > 0);
  assert.equal(chunks.filter((c) => c.usage != null).length, 0, "no chunk carries usage");
  assert.ok(chunks.every((c) => c.choices.length > 0), "no usage-only chunk (empty choices)");
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
  assert.equal(text.trim().split(/\s+/).length, 10);

  const b = await bill(id);
  assert.equal(b.completionTokens, 10);
  await assertLedgerMatches("u-stream-quiet", "sim-mini", [b]);
});

test("embeddings: usage matches the bill and the ledger", async () => {
  const { key } = await createKey("u-embed", "basic");
  const { data, response } = await client(key).embeddings
    .create({ model: "sim-embed", input: ["the quick brown fox", "jumps over the lazy dog"] })
    .withResponse();
  const b = await bill(response.headers.get("x-request-id"));
  assert.equal(b.endpoint, "embeddings");
  assert.equal(b.completionTokens, 0);
  assert.equal(data.data.length, 2);
  for (const item of data.data) {
    assert.ok(Array.isArray(item.embedding) && item.embedding.length > 0, "the SDK decodes each embedding");
    assert.ok(item.embedding.every(Number.isFinite));
  }
  assert.equal(data.usage.prompt_tokens, b.promptTokens);
  assert.equal(data.usage.total_tokens, b.promptTokens);
  await assertLedgerMatches("u-embed", "sim-embed", [b]);
});

test("several calls by one user: the ledger holds the sum of their bills", async () => {
  const { key } = await createKey("u-many", "basic");
  const c = client(key);
  const bills = [];
  for (const n of [1, 3, 8]) {
    const id = requestId("many");
    await c.chat.completions.create(
      { model: "sim-mini", messages: [{ role: "user", content: `Reply. [[sim:tokens=${n}]]` }] },
      { headers: { "x-request-id": id } },
    );
    bills.push(await bill(id));
  }
  assert.deepEqual(bills.map((b) => b.completionTokens), [1, 3, 8]);
  await assertLedgerMatches("u-many", "sim-mini", bills);
});

// ---------------------------------------------------------------------------------------------------------------
// Upstream faults: the ledger still bills what the provider billed

test("stream without upstream usage: estimated from the text, equal to the bill", async () => {
  const { key } = await createKey("u-no-usage", "basic");
  const id = requestId("nousage");
  const stream = await client(key).chat.completions.create(
    {
      model: "sim-mini",
      messages: [{ role: "user", content: "Answer. [[sim:tokens=6]] [[sim:no_usage]]" }],
      stream: true,
    },
    { headers: { "x-request-id": id } },
  );
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  assert.equal(text.trim().split(/\s+/).length, 6);
  const b = await bill(id);
  assert.equal(b.fault, "no_usage");
  await assertLedgerMatches("u-no-usage", "sim-mini", [b], { estimated: 1 });
});

test("stream cut by the upstream: the client sees an error, the ledger bills what was generated", async () => {
  const { key } = await createKey("u-cut", "basic");
  const id = requestId("cut");
  const stream = await client(key).chat.completions.create(
    {
      model: "sim-mini",
      messages: [{ role: "user", content: "Go on. [[sim:tokens=20]] [[sim:cut=4]]" }],
      stream: true,
      stream_options: { include_usage: true },
    },
    { headers: { "x-request-id": id } },
  );
  let text = "";
  await assert.rejects(async () => {
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  }, (e) => {
    // The gateway ends a cut stream with an SSE error event, which the SDK raises as an APIError.
    assert.ok(e instanceof OpenAI.APIError, `got ${e}`);
    assert.match(e.message, /was cut/);
    assert.equal(e.error?.code ?? e.code, "upstream_error");
    return true;
  });
  const b = await bill(id);
  assert.equal(b.completed, false);
  assert.equal(b.completionTokens, 4);
  assert.equal(text.trim().split(/\s+/).length, 4);
  await assertLedgerMatches("u-cut", "sim-mini", [b], { estimated: 1 });
});

test("plain response cut by the upstream: 502 upstream_error, the attempt is still billed", async () => {
  const { key } = await createKey("u-cut-plain", "basic");
  const id = requestId("cutplain");
  const err = await client(key).chat.completions
    .create(
      { model: "sim-mini", messages: [{ role: "user", content: "Go on. [[sim:tokens=10]] [[sim:cut=1]]" }] },
      { headers: { "x-request-id": id } },
    )
    .then(() => assert.fail("expected a 502"), (e) => e);
  assert.ok(err instanceof OpenAI.InternalServerError, `got ${err}`);
  assert.equal(err.status, 502);
  assert.equal(err.code, "upstream_error");
  const b = await bill(id);
  assert.equal(b.completed, false);
  // The provider billed the whole generation, but the gateway only saw half a JSON body without the text, so it
  // estimates the output from the bytes it got: only the input can be exact here.
  const row = await ledger("u-cut-plain", 1);
  assert.equal(row.estimated_requests, 1);
  assert.equal(row.input_tokens, b.promptTokens);
  assert.ok(row.output_tokens > 0, "something is billed for the output");
  assert.ok(row.cost_nanousd > 0);
});

// ---------------------------------------------------------------------------------------------------------------
// Refusals: the OpenAI error shape, nothing reaches the upstream, one refused ledger record

async function assertRefusedInLedger(user) {
  const row = await ledger(user, 1);
  assert.equal(row.refused, 1);
  assert.equal(row.input_tokens + row.output_tokens, 0);
  assert.equal(row.cost_nanousd, 0);
}

test("403 model_not_allowed: a free key asking for sim-large", async () => {
  const { key } = await createKey("u-free", "free");
  const id = requestId("forbidden");
  const err = await client(key).chat.completions
    .create({ model: "sim-large", messages: [{ role: "user", content: "hi" }] }, { headers: { "x-request-id": id } })
    .then(() => assert.fail("expected a 403"), (e) => e);
  assert.ok(err instanceof OpenAI.PermissionDeniedError, `got ${err}`);
  assert.equal(err.status, 403);
  assert.equal(err.code, "model_not_allowed");
  assert.equal(err.type, "permission_error");
  assert.equal(err.headers.get("x-request-id"), id);
  await assertNoBill(id);
  await assertRefusedInLedger("u-free");
});

test("401 after the key is revoked with the CLI", async () => {
  const { id: keyId, key } = await createKey("u-revoked", "basic");
  const c = client(key);
  await c.chat.completions.create({ model: "sim-mini", messages: [{ role: "user", content: "hi [[sim:tokens=1]]" }] });

  await cli("keys", "revoke", keyId, "--data", ctx.data);
  const id = requestId("revoked");
  const err = await c.chat.completions
    .create({ model: "sim-mini", messages: [{ role: "user", content: "hi" }] }, { headers: { "x-request-id": id } })
    .then(() => assert.fail("expected a 401"), (e) => e);
  assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err}`);
  assert.equal(err.status, 401);
  assert.equal(err.code, "invalid_api_key");
  await assertNoBill(id);
});

test("404 model_not_found: an unknown model", async () => {
  const { key } = await createKey("u-unknown-model", "premium");
  const id = requestId("unknown");
  const err = await client(key).chat.completions
    .create({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }, { headers: { "x-request-id": id } })
    .then(() => assert.fail("expected a 404"), (e) => e);
  assert.ok(err instanceof OpenAI.NotFoundError, `got ${err}`);
  assert.equal(err.status, 404);
  assert.equal(err.code, "model_not_found");
  await assertNoBill(id);
  await assertRefusedInLedger("u-unknown-model");
});

test("400 for a malformed body (raw fetch)", async () => {
  const { key } = await createKey("u-malformed", "basic");
  const cases = [
    '{"model":"sim-mini","messages":[{"role":"user","content":"hi"}]', // truncated JSON
    '{"model":"sim-mini","model":"sim-large","messages":[{"role":"user","content":"hi"}]}', // duplicate key
    '{"model":"sim-mini","messages":"hi"}', // wrong type
  ];
  for (const body of cases) {
    const id = requestId("malformed");
    const res = await fetch(`${ctx.apiUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-request-id": id },
      body,
    });
    assert.equal(res.status, 400, `status for ${body}`);
    assert.match(res.headers.get("content-type"), /^application\/json/);
    assert.equal(res.headers.get("x-request-id"), id);
    const json = await res.json();
    assert.equal(json.error.type, "invalid_request_error", `error for ${body}`);
    assert.equal(typeof json.error.message, "string");
    await assertNoBill(id);
  }
  const row = await ledger("u-malformed", cases.length);
  assert.equal(row.refused, cases.length);
  assert.equal(row.cost_nanousd, 0);
});

// ---------------------------------------------------------------------------------------------------------------
// Refusals with the SDK's own retries on: a refusal whose capacity returns within a minute asks for at most 60 s;
// any other says `x-should-retry: false` and nothing else, and the SDK does not retry at all. No refused attempt
// consumes anything. The SDK's waits are recorded, never slept.

/**
 * A client with the SDK's default retries whose every attempt is recorded (a `fetch` hook): status and headers as
 * the SDK received them.
 */
function retryingClient(apiKey) {
  const attempts = [];
  const recordingFetch = async (url, init) => {
    const response = await fetch(url, init);
    attempts.push({ status: response.status, headers: response.headers });
    return response;
  };
  return { client: new OpenAI({ apiKey, baseURL: `${ctx.apiUrl}/v1`, timeout: 15_000, fetch: recordingFetch }), attempts };
}

/**
 * Runs `fn` with the SDK's retry waits recorded instead of slept: a timer set by openai's own `sleep` fires at once
 * and its delay is recorded; every other timer runs as usual.
 */
async function withRecordedSleeps(fn) {
  const sleeps = [];
  const realSetTimeout = globalThis.setTimeout;
  const hook = mock.method(globalThis, "setTimeout", (callback, ms, ...args) => {
    if (/[\\/]openai[\\/]internal[\\/]utils[\\/]sleep\.m?js/.test(new Error().stack ?? "")) {
      sleeps.push(ms);
      return realSetTimeout(callback, 0, ...args);
    }
    return realSetTimeout(callback, ms, ...args);
  });
  try {
    const outcome = await fn().then((value) => ({ value }), (error) => ({ error }));
    return { ...outcome, sleeps };
  } finally {
    hook.mock.restore();
  }
}

/** The next midnight UTC as RFC 3339, e.g. 2026-11-24T00:00:00Z. */
function nextUtcMidnight() {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString().replace(".000Z", "Z");
}

function assertCallersLimitHeaders(attempt) {
  for (const name of ["limit", "remaining", "reset"]) {
    assert.match(attempt.headers.get(`x-ratelimit-${name}-requests`) ?? "", /\S/, `x-ratelimit-${name}-requests on a ${attempt.status}`);
  }
}

/** One attempt, told not to retry: no wait asked for, the caller's limits in the headers. */
function assertToldNotToRetry(attempts, sleeps) {
  assert.deepEqual(attempts.map((a) => a.status), [429], "the SDK obeys x-should-retry: one attempt");
  assert.deepEqual(sleeps, []);
  const [attempt] = attempts;
  assert.equal(attempt.headers.get("x-should-retry"), "false");
  assert.equal(attempt.headers.get("retry-after"), null);
  assert.equal(attempt.headers.get("retry-after-ms"), null);
  assertCallersLimitHeaders(attempt);
}

async function chatOk(key, content, extra = {}) {
  const res = await fetch(`${ctx.apiUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "sim-mini", messages: [{ role: "user", content }], ...extra }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return { res, body };
}

test("per-minute limit: the SDK is asked to wait at most 60 s, and each refused retry consumes nothing", async () => {
  const { key } = await createKey("u-retry-minute", "js-per-minute");
  await chatOk(key, "first [[sim:tokens=2]]");
  const { client: c, attempts } = retryingClient(key);

  const { error, sleeps } = await withRecordedSleeps(() =>
    c.chat.completions.create({ model: "sim-mini", messages: [{ role: "user", content: "again" }] }));

  assert.ok(error instanceof OpenAI.RateLimitError, `got ${error}`);
  assert.equal(error.code, "rate_limit_exceeded");
  assert.equal(attempts.length, 3, "the first attempt and the SDK's 2 default retries");
  for (const a of attempts) {
    assert.equal(a.status, 429);
    assert.notEqual(a.headers.get("x-should-retry"), "false");
    const seconds = Number(a.headers.get("retry-after"));
    const ms = Number(a.headers.get("retry-after-ms"));
    assert.ok(seconds > 0 && seconds <= 60, `Retry-After ${seconds}`);
    assert.ok(ms > 0 && ms <= 60_000, `retry-after-ms ${ms}`);
    assert.equal(a.headers.get("x-ratelimit-limit-requests"), "1");
    assert.equal(a.headers.get("x-ratelimit-remaining-requests"), "0");
    assertCallersLimitHeaders(a);
  }
  assert.deepEqual(sleeps, attempts.slice(0, 2).map((a) => Number(a.headers.get("retry-after-ms"))), "the SDK waits what it was told");
  const row = await ledger("u-retry-minute", 4);
  assert.equal(row.refused, 3);
});

test("per-day limit: x-should-retry false, no Retry-After, the reset time in the headers and the message", async () => {
  const { key } = await createKey("u-retry-day", "js-per-day");
  await chatOk(key, "first [[sim:tokens=2]]");
  const { client: c, attempts } = retryingClient(key);

  const { error, sleeps } = await withRecordedSleeps(() =>
    c.chat.completions.create({ model: "sim-mini", messages: [{ role: "user", content: "again" }] }));

  assert.ok(error instanceof OpenAI.RateLimitError, `got ${error}`);
  assertToldNotToRetry(attempts, sleeps);
  assert.equal(attempts[0].headers.get("x-ratelimit-remaining-requests"), "0");
  assert.match(attempts[0].headers.get("x-ratelimit-reset-requests"), /^2[34]h\d+m\d+s$/);
  assert.match(error.message, /requests per day limit 1.*capacity returns at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  const row = await ledger("u-retry-day", 2);
  assert.equal(row.refused, 1);
});

test("exhausted daily budget: x-should-retry false, no Retry-After, x-tollgate-budget-reset at midnight UTC", async () => {
  const { key } = await createKey("u-retry-budget", "js-daily-budget");
  // $0.001 a day on sim-large ($15 / $60 per million): the first call costs more than half of it.
  const { res } = await chatOk(key, "first [[sim:tokens=8]]", { model: "sim-large", max_tokens: 8 });
  const spent = costNanos("sim-large", await bill(res.headers.get("x-request-id")));
  assert.ok(spent > 500_000 && spent <= 1_000_000, `the first call cost ${spent} nanos`);
  const { client: c, attempts } = retryingClient(key);

  const { error, sleeps } = await withRecordedSleeps(() =>
    c.chat.completions.create({ model: "sim-large", max_tokens: 8, messages: [{ role: "user", content: "again [[sim:tokens=8]]" }] }));

  assert.ok(error instanceof OpenAI.RateLimitError, `got ${error}`);
  assert.equal(error.code, "insufficient_quota");
  assertToldNotToRetry(attempts, sleeps);
  const reset = nextUtcMidnight();
  assert.equal(attempts[0].headers.get("x-tollgate-budget-reset"), reset);
  assert.ok(error.message.includes(`capacity returns at ${reset}`), error.message);
  const row = await ledger("u-retry-budget", 2);
  assert.equal(row.refused, 1);
  assert.equal(row.cost_nanousd, spent, "the refusal cost nothing");
});

test("a request larger than the limit itself: x-should-retry false, no Retry-After", async () => {
  const { key } = await createKey("u-retry-never", "js-small-tpm");
  const { client: c, attempts } = retryingClient(key);

  const { error, sleeps } = await withRecordedSleeps(() =>
    c.chat.completions.create({ model: "sim-mini", max_tokens: 100, messages: [{ role: "user", content: "too big" }] }));

  assert.ok(error instanceof OpenAI.RateLimitError, `got ${error}`);
  assertToldNotToRetry(attempts, sleeps);
  assert.equal(attempts[0].headers.get("x-ratelimit-limit-tokens"), "50");
  assert.match(error.message, /this request alone is larger than the limit/);
  const row = await ledger("u-retry-never", 1);
  assert.equal(row.refused, 1);
  assert.equal(row.input_tokens + row.output_tokens + row.cost_nanousd, 0);
});

test("concurrency limit: retried after 1 s each time while the slot is held, nothing consumed", async () => {
  const { key } = await createKey("u-retry-concurrent", "js-single");
  const gate = `js-conc-${process.pid}`;
  const held = fetch(`${ctx.apiUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "sim-mini", stream: true, messages: [{ role: "user", content: `[[sim:hold=${gate}]] [[sim:tokens=3]]` }] }),
  });
  for (let waiting = 0; waiting < 1;) {
    const res = await fetch(`${ctx.simUrl}/_simulator/held/${gate}`);
    waiting = (await res.json()).waiting;
    if (waiting < 1) await new Promise((r) => setTimeout(r, 20));
  }
  const { client: c, attempts } = retryingClient(key);

  const { error, sleeps } = await withRecordedSleeps(() =>
    c.chat.completions.create({ model: "sim-mini", messages: [{ role: "user", content: "meanwhile" }] }));

  const release = await fetch(`${ctx.simUrl}/_simulator/release/${gate}`, { method: "POST" });
  await release.arrayBuffer();
  await (await held).text();
  assert.ok(error instanceof OpenAI.RateLimitError, `got ${error}`);
  assert.equal(error.code, "concurrency_limit_exceeded");
  assert.equal(attempts.length, 3);
  for (const a of attempts) {
    assert.equal(a.status, 429);
    assert.equal(a.headers.get("retry-after"), "1");
    assert.equal(a.headers.get("retry-after-ms"), "1000");
    assertCallersLimitHeaders(a);
  }
  assert.deepEqual(sleeps, [1000, 1000]);
  const row = await ledger("u-retry-concurrent", 4);
  assert.equal(row.refused, 3);
});

// ---------------------------------------------------------------------------------------------------------------
// Routes: authentication comes first; models.retrieve answers for the caller's plan only

test("models.retrieve: a model in the plan", async () => {
  const { key } = await createKey("u-retrieve", "basic");
  const model = await client(key).models.retrieve("sim-large");
  assert.equal(model.id, "sim-large");
  assert.equal(model.object, "model");
  assert.equal(model.owned_by, "tollgate");
  assert.equal(typeof model.created, "number");
});

test("models.retrieve: a model outside the plan looks exactly like one that does not exist", async () => {
  const { key } = await createKey("u-retrieve-free", "free");
  const c = client(key);
  const errors = [];
  for (const name of ["sim-large", "sim-larger"]) {
    errors.push(await c.models.retrieve(name).then(() => assert.fail(`expected a 404 for ${name}`), (e) => e));
  }
  for (const err of errors) {
    assert.ok(err instanceof OpenAI.NotFoundError, `got ${err}`);
    assert.equal(err.status, 404);
    assert.equal(err.code, "model_not_found");
    assert.equal(err.param, "model");
    assert.equal(err.type, "invalid_request_error");
  }
  const [outside, unknown] = errors;
  assert.deepEqual({ ...outside.error, message: outside.error.message.replace("sim-large", "sim-larger") }, unknown.error);
  const row = await ledger("u-retrieve-free", 2);
  assert.equal(row.refused, 2);
});

test("an unknown route: 401 for a bad key before 404, the 404 audited under the caller (raw fetch)", async () => {
  const post = (authorization) => fetch(`${ctx.apiUrl}/v1/assistants`, {
    method: "POST",
    headers: { ...(authorization ? { authorization } : {}), "content-type": "application/json" },
    body: JSON.stringify({ model: "sim-mini", input: "hi" }),
  });
  for (const authorization of [null, "Bearer tgk_not-a-real-key"]) {
    const res = await post(authorization);
    const json = await res.json();
    assert.equal(res.status, 401, `status with ${authorization}`);
    assert.equal(json.error.code, "invalid_api_key");
  }

  const { key } = await createKey("u-unrouted", "basic");
  const res = await post(`Bearer ${key}`);
  const json = await res.json();
  assert.equal(res.status, 404);
  assert.equal(json.error.code, "not_found");
  const row = await ledger("u-unrouted", 1);
  assert.equal(row.refused, 1);
});

// ---------------------------------------------------------------------------------------------------------------
// LangChain JS: tools and structured output against the simulated model

const WEATHER_PARAMETERS = {
  type: "object",
  properties: {
    city: { type: "string", description: "The city" },
    unit: { type: "string", enum: ["celsius", "fahrenheit"] },
  },
  required: ["city", "unit"],
  additionalProperties: false,
};

function langchain(apiKey, fields = {}) {
  return new ChatOpenAI({
    model: "sim-mini",
    apiKey,
    configuration: { baseURL: `${ctx.apiUrl}/v1` },
    maxRetries: 0,
    streamUsage: true,
    ...fields,
  });
}

test("LangChain bindTools: a required tool gets a call whose arguments fit its schema, billed exactly", async () => {
  const { key } = await createKey("u-lc-tools", "basic");
  const model = langchain(key).bindTools(
    [{ type: "function", function: { name: "get_weather", description: "The forecast", parameters: WEATHER_PARAMETERS } }],
    { tool_choice: "required" },
  );

  const message = await model.invoke("What should I wear in Paris?");

  assert.equal(message.tool_calls.length, 1);
  const [call] = message.tool_calls;
  assert.equal(call.name, "get_weather");
  assert.equal(typeof call.args.city, "string");
  assert.ok(["celsius", "fahrenheit"].includes(call.args.unit), `unit ${call.args.unit}`);
  assert.deepEqual(Object.keys(call.args).sort(), ["city", "unit"]);
  const row = await ledger("u-lc-tools", 1);
  assert.equal(row.output_tokens, message.usage_metadata.output_tokens);
  assert.equal(row.input_tokens, message.usage_metadata.input_tokens);
});

test("LangChain bindTools with a script: the agent loop calls the tool, then answers", async () => {
  const { key } = await createKey("u-lc-loop", "basic");
  const model = langchain(key).bindTools([{ type: "function", function: { name: "get_weather", parameters: WEATHER_PARAMETERS } }]);
  const prompt = 'Weather in Oslo? [[sim:call=get_weather {"city":"Oslo","unit":"celsius"}]] [[sim:say=Cold in Oslo.]]';
  const messages = [new HumanMessage(prompt)];

  const first = await model.invoke(messages);
  assert.deepEqual(first.tool_calls.map((c) => [c.name, c.args]), [["get_weather", { city: "Oslo", unit: "celsius" }]]);
  messages.push(first, new ToolMessage({ content: "-3 degrees", tool_call_id: first.tool_calls[0].id }));
  const second = await model.invoke(messages);

  assert.equal(second.content, "Cold in Oslo.");
  assert.equal(second.tool_calls.length, 0);
  const row = await ledger("u-lc-loop", 2);
  assert.equal(row.output_tokens, first.usage_metadata.output_tokens + second.usage_metadata.output_tokens);
});

for (const method of ["jsonSchema", "functionCalling"]) {
  test(`LangChain withStructuredOutput (${method}): a schema-fitting object on the first try`, async () => {
    const { key } = await createKey(`u-lc-structured-${method}`, "basic");
    const schema = z.object({
      city: z.string(),
      temperature: z.number().int().min(-50).max(50),
      sunny: z.boolean(),
      tags: z.array(z.string()),
    });
    const model = langchain(key).withStructuredOutput(schema, { method, name: "forecast" });

    const forecast = await model.invoke("Give me the forecast for Rome.");

    assert.deepEqual(schema.parse(forecast), forecast);
    const row = await ledger(`u-lc-structured-${method}`, 1);
    assert.equal(row.refused, 0);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Anthropic Messages through the official @anthropic-ai/sdk, unchanged but for the base URL, to an upstream of kind
// anthropic (the simulator): the same exact ledger, Anthropic's error shapes and retry rules.

function anthropic(apiKey, options = {}) {
  return new Anthropic({ apiKey, baseURL: ctx.apiUrl, maxRetries: 0, timeout: 15_000, ...options });
}

const ask = (content, extra = {}) => ({ model: "sim-claude", max_tokens: 256, messages: [{ role: "user", content }], ...extra });

test("anthropic messages.create: usage and cost match the simulator's bill and the ledger", async () => {
  const { key } = await createKey("u-msg", "basic");
  const id = requestId("msg");

  const message = await anthropic(key).messages.create(ask("Tell me about toll gates."), { headers: { "x-request-id": id } });

  const b = await bill(id);
  assert.equal(b.endpoint, "messages");
  assert.equal(message.type, "message");
  assert.equal(message.usage.input_tokens, b.promptTokens);
  assert.equal(message.usage.output_tokens, b.completionTokens);
  assert.equal(message.usage.cost_nanousd, costNanos("sim-claude", b));
  await assertLedgerMatches("u-msg", "sim-claude", [b]);
});

test("anthropic messages with cache reads and writes: each priced at its rate", async () => {
  const { key } = await createKey("u-msg-cache", "basic");
  const id = requestId("msg-cache");

  const message = await anthropic(key).messages.create(
    ask("cached [[sim:cached=4]] [[sim:cache_write=3]] [[sim:cache_write_1h=2]]"), { headers: { "x-request-id": id } });

  const b = await bill(id);
  assert.deepEqual([b.cachedTokens, b.cacheWrite5mTokens, b.cacheWrite1hTokens], [4, 3, 2]);
  assert.equal(message.usage.cache_read_input_tokens, 4);
  assert.equal(message.usage.cache_creation_input_tokens, 5);
  assert.equal(message.usage.input_tokens, b.promptTokens - 9);
  await assertLedgerMatches("u-msg-cache", "sim-claude", [b]);
});

test("anthropic messages.stream: events in Anthropic's order, the final usage exact in the ledger", async () => {
  const { key } = await createKey("u-msg-stream", "basic");
  const id = requestId("msg-stream");

  const stream = anthropic(key).messages.stream(ask("stream a story [[sim:tokens=12]]"), { headers: { "x-request-id": id } });
  const types = [];
  stream.on("streamEvent", (event) => types.push(event.type));
  const message = await stream.finalMessage();

  const b = await bill(id);
  assert.equal(b.completionTokens, 12);
  assert.equal(message.usage.output_tokens, 12);
  assert.equal(message.content[0].text.trim().split(/\s+/).length, 12);
  assert.deepEqual([types[0], types[1], types.at(-2), types.at(-1)], ["message_start", "content_block_start", "message_delta", "message_stop"]);
  await assertLedgerMatches("u-msg-stream", "sim-claude", [b]);
});

test("anthropic tools: tool_use and tool_result blocks pass through, the simulator's count is billed", async () => {
  const { key } = await createKey("u-msg-tools", "basic");
  const id = requestId("msg-tools");

  const message = await anthropic(key).messages.create({
    model: "sim-claude",
    max_tokens: 128,
    tools: [{ name: "get_weather", description: "The weather in a city.", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }],
    messages: [
      { role: "user", content: "What is the weather in Paris?" },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01", content: "18 degrees and sunny" }] },
    ],
  }, { headers: { "x-request-id": id } });

  const b = await bill(id);
  assert.equal(message.usage.input_tokens, b.promptTokens);
  await assertLedgerMatches("u-msg-tools", "sim-claude", [b]);
});

test("anthropic countTokens: the upstream's count, audited, consuming nothing", async () => {
  const { key } = await createKey("u-msg-count", "basic");
  const c = anthropic(key);
  const body = { model: "sim-claude", messages: [{ role: "user", content: "How many tokens is this?" }] };

  const count = await c.messages.countTokens(body);
  const id = requestId("msg-count-truth");
  const message = await c.messages.create({ ...body, max_tokens: 8 }, { headers: { "x-request-id": id } });

  assert.equal(count.input_tokens, message.usage.input_tokens);
  const row = await ledger("u-msg-count", 2);
  assert.equal(row.refused, 0);
  assert.equal(row.cost_nanousd, costNanos("sim-claude", await bill(id)), "count_tokens costs nothing");
});

test("anthropic refusals: 401, 403, 404 and 400 as the SDK's own error classes, in Anthropic's envelope", async () => {
  const { key: free } = await createKey("u-msg-refused", "free");
  const cases = [
    [anthropic("tgk_wrong_key_000000000000000000000000000000"), ask("hi"), Anthropic.AuthenticationError, 401, "authentication_error"],
    [anthropic(free), ask("hi"), Anthropic.PermissionDeniedError, 403, "permission_error"],
    [anthropic(free), ask("hi", { model: "claude-nonexistent" }), Anthropic.NotFoundError, 404, "not_found_error"],
    [anthropic(free), { model: "sim-mini", max_tokens: 8, messages: [] }, Anthropic.BadRequestError, 400, "invalid_request_error"],
  ];
  for (const [c, body, errorClass, status, type] of cases) {
    const error = await c.messages.create(body).then(() => null, (e) => e);
    assert.ok(error instanceof errorClass, `${status}: got ${error}`);
    assert.equal(error.status, status);
    assert.equal(error.error.type, "error");
    assert.equal(error.error.error.type, type);
    assert.match(error.requestID ?? error.request_id ?? error.headers?.get?.("request-id") ?? "", /\S/);
  }
  const row = await ledger("u-msg-refused", 3);
  assert.equal(row.refused, 3);
  assert.equal(row.cost_nanousd, 0);
});

function recordingAnthropic(apiKey) {
  const attempts = [];
  const recordingFetch = async (url, init) => {
    const response = await fetch(url, init);
    attempts.push({ status: response.status, headers: response.headers });
    return response;
  };
  return { client: new Anthropic({ apiKey, baseURL: ctx.apiUrl, timeout: 15_000, fetch: recordingFetch }), attempts };
}

test("anthropic per-minute limit: 429 rate_limit_error with retry-after in whole seconds and Anthropic's limit headers", async () => {
  const { key } = await createKey("u-msg-minute", "js-per-minute");
  await anthropic(key).messages.create(ask("first [[sim:tokens=2]]"));

  const error = await anthropic(key).messages.create(ask("again")).then(() => null, (e) => e);

  assert.ok(error instanceof Anthropic.RateLimitError, `got ${error}`);
  assert.equal(error.error.error.type, "rate_limit_error");
  const seconds = error.headers.get("retry-after");
  assert.match(seconds, /^\d+$/);
  assert.ok(Number(seconds) >= 1 && Number(seconds) <= 60, `retry-after ${seconds}`);
  assert.equal(error.headers.get("anthropic-ratelimit-requests-limit"), "1");
  assert.equal(error.headers.get("anthropic-ratelimit-requests-remaining"), "0");
  assert.match(error.headers.get("anthropic-ratelimit-requests-reset"), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const row = await ledger("u-msg-minute", 2);
  assert.equal(row.refused, 1);
});

test("anthropic exhausted budget: 429 the SDK does not retry (x-should-retry: false)", async () => {
  const { key } = await createKey("u-msg-budget", "js-daily-budget");
  const { client: c, attempts } = recordingAnthropic(key);

  // $0.001 a day cannot pay for the worst case of 64000 output tokens at $15 per million.
  const error = await c.messages.create(ask("a long essay", { max_tokens: 64000 })).then(() => null, (e) => e);

  assert.ok(error instanceof Anthropic.RateLimitError, `got ${error}`);
  assert.deepEqual(attempts.map((a) => a.status), [429], "one attempt: the SDK obeys x-should-retry");
  assert.equal(attempts[0].headers.get("x-should-retry"), "false");
  assert.equal(attempts[0].headers.get("retry-after"), null);
  assert.equal(attempts[0].headers.get("x-tollgate-error-code"), "insufficient_quota");
  const row = await ledger("u-msg-budget", 1);
  assert.equal(row.refused, 1);
});

test("anthropic stream cut by the upstream: the SDK raises, the ledger bills what was generated", async () => {
  const { key } = await createKey("u-msg-cut", "basic");
  const id = requestId("msg-cut");

  const stream = anthropic(key).messages.stream(ask("cut me [[sim:tokens=30]] [[sim:cut=5]]"), { headers: { "x-request-id": id } });
  const error = await stream.finalMessage().then(() => null, (e) => e);

  assert.ok(error instanceof Error, "the cut reaches the caller as an error");
  const b = await bill(id);
  assert.equal(b.completionTokens, 5);
  assert.equal(b.completed, false);
  const row = await ledger("u-msg-cut", 1);
  assert.equal(row.estimated_requests, 1);
  assert.ok(row.output_tokens >= 5, `billed ${row.output_tokens} output tokens for 5 generated`);
});

// ---------------------------------------------------------------------------------------------------------------
// Translation between Messages and chat completions: each SDK unchanged, in front of an upstream that speaks the other

const weatherTool = { name: "get_weather", description: "The weather in a city.", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };

test("anthropic over a chat-only upstream: messages.create translated, usage and cost exact", async () => {
  const { key } = await createKey("u-tr-msg", "basic");
  const id = requestId("tr-msg");

  const message = await anthropic(key).messages.create(
    ask("Tell me about toll gates. [[sim:cached=3]]", { model: "sim-claude-chat", system: "Be brief." }), { headers: { "x-request-id": id } });

  const b = await bill(id);
  assert.equal(b.endpoint, "chat/completions");
  assert.equal(message.type, "message");
  assert.equal(message.stop_reason, "end_turn");
  assert.equal(message.content[0].type, "text");
  assert.equal(message.usage.input_tokens, b.promptTokens - 3);
  assert.equal(message.usage.cache_read_input_tokens, 3);
  assert.equal(message.usage.output_tokens, b.completionTokens);
  assert.equal(message.usage.cost_nanousd, costNanos("sim-claude-chat", b));
  await assertLedgerMatches("u-tr-msg", "sim-claude-chat", [b]);
});

test("anthropic over a chat-only upstream: messages.stream in Anthropic's events, usage in message_delta", async () => {
  const { key } = await createKey("u-tr-msg-stream", "basic");
  const id = requestId("tr-msg-stream");

  const stream = anthropic(key).messages.stream(ask("stream a story [[sim:tokens=12]]", { model: "sim-claude-chat" }), { headers: { "x-request-id": id } });
  const types = [];
  stream.on("streamEvent", (event) => types.push(event.type));
  const message = await stream.finalMessage();

  const b = await bill(id);
  assert.equal(b.endpoint, "chat/completions");
  assert.equal(message.usage.output_tokens, 12);
  assert.equal(message.usage.input_tokens, b.promptTokens);
  assert.equal(message.content[0].text.trim().split(/\s+/).length, 12);
  assert.deepEqual(types, ["message_start", "content_block_start", ...Array(12).fill("content_block_delta"), "content_block_stop", "message_delta", "message_stop"]);
  await assertLedgerMatches("u-tr-msg-stream", "sim-claude-chat", [b]);
});

test("anthropic over a chat-only upstream: a tools loop, tool_use then tool_result then the answer", async () => {
  const { key } = await createKey("u-tr-msg-tools", "basic");
  const prompt = 'Weather in Paris? [[sim:call=get_weather {"city":"Paris"}]] [[sim:say=Sunny in Paris.]]';
  const first = requestId("tr-msg-tools-1");
  const second = requestId("tr-msg-tools-2");
  const c = anthropic(key);

  const call = await c.messages.create({ model: "sim-claude-chat", max_tokens: 128, tools: [weatherTool], messages: [{ role: "user", content: prompt }] },
    { headers: { "x-request-id": first } });
  assert.equal(call.stop_reason, "tool_use");
  const toolUse = call.content.find((b) => b.type === "tool_use");
  assert.deepEqual([toolUse.name, toolUse.input], ["get_weather", { city: "Paris" }]);
  const answer = await c.messages.create({
    model: "sim-claude-chat",
    max_tokens: 128,
    tools: [weatherTool],
    messages: [
      { role: "user", content: prompt },
      { role: "assistant", content: call.content },
      { role: "user", content: [{ type: "tool_result", tool_use_id: toolUse.id, content: "18 degrees and sunny" }] },
    ],
  }, { headers: { "x-request-id": second } });

  assert.equal(answer.stop_reason, "end_turn");
  assert.equal(answer.content[0].text, "Sunny in Paris.");
  await assertLedgerMatches("u-tr-msg-tools", "sim-claude-chat", [await bill(first), await bill(second)]);
});

test("anthropic over a chat-only upstream: thinking with a budget is a 400 naming the field, never forwarded", async () => {
  const { key } = await createKey("u-tr-msg-refused", "basic");
  const id = requestId("tr-msg-refused");

  const error = await anthropic(key).messages.create(
    ask("think", { model: "sim-claude-chat", max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 2000 } }), { headers: { "x-request-id": id } })
    .then(() => null, (e) => e);

  assert.ok(error instanceof Anthropic.BadRequestError, `got ${error}`);
  assert.equal(error.error.error.type, "invalid_request_error");
  assert.match(error.error.error.message, /^thinking: /);
  await assertNoBill(id);
  const row = await ledger("u-tr-msg-refused", 1);
  assert.equal(row.refused, 1);
});

test("openai over a messages-only upstream: chat.completions.create translated, usage in OpenAI's shape", async () => {
  const { key } = await createKey("u-tr-chat", "basic");
  const id = requestId("tr-chat");

  const completion = await client(key).chat.completions.create({
    model: "sim-claude",
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Tell me about ledgers. [[sim:cached=4]] [[sim:cache_write=3]]" }],
  }, { headers: { "x-request-id": id } });

  const b = await bill(id);
  assert.equal(b.endpoint, "messages");
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.choices[0].finish_reason, "stop");
  assert.equal(completion.usage.prompt_tokens, b.promptTokens);
  assert.equal(completion.usage.prompt_tokens_details.cached_tokens, 4);
  assert.equal(completion.usage.completion_tokens, b.completionTokens);
  assert.equal(completion.usage.cost_nanousd, costNanos("sim-claude", b));
  await assertLedgerMatches("u-tr-chat", "sim-claude", [b]);
});

test("openai over a messages-only upstream: a stream with include_usage ends with the usage chunk, then [DONE]", async () => {
  const { key } = await createKey("u-tr-chat-stream", "basic");
  const id = requestId("tr-chat-stream");

  const stream = await client(key).chat.completions.create({
    model: "sim-claude",
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: "user", content: "stream a story [[sim:tokens=10]]" }],
  }, { headers: { "x-request-id": id } });
  let text = "";
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    text += chunk.choices[0]?.delta?.content ?? "";
  }

  const b = await bill(id);
  assert.equal(text.trim().split(/\s+/).length, 10);
  assert.equal(chunks.at(-2).choices[0].finish_reason, "stop");
  const usage = chunks.at(-1).usage;
  assert.deepEqual(chunks.at(-1).choices, []);
  assert.equal(usage.prompt_tokens, b.promptTokens);
  assert.equal(usage.completion_tokens, 10);
  assert.equal(usage.cost_nanousd, costNanos("sim-claude", b));
  await assertLedgerMatches("u-tr-chat-stream", "sim-claude", [b]);
});

test("openai over a messages-only upstream: a required tool gets a call, the tool message gets an answer", async () => {
  const { key } = await createKey("u-tr-chat-tools", "basic");
  const tools = [{ type: "function", function: { name: "get_weather", description: "The weather.", parameters: weatherTool.input_schema } }];
  const prompt = 'Weather? [[sim:call=get_weather {"city":"Oslo"}]] [[sim:say=Cold in Oslo.]]';
  const first = requestId("tr-chat-tools-1");
  const second = requestId("tr-chat-tools-2");
  const c = client(key);

  const call = await c.chat.completions.create({ model: "sim-claude", tools, tool_choice: "required", messages: [{ role: "user", content: prompt }] },
    { headers: { "x-request-id": first } });
  const choice = call.choices[0];
  assert.equal(choice.finish_reason, "tool_calls");
  const toolCall = choice.message.tool_calls[0];
  assert.deepEqual([toolCall.function.name, JSON.parse(toolCall.function.arguments)], ["get_weather", { city: "Oslo" }]);
  const answer = await c.chat.completions.create({
    model: "sim-claude",
    tools,
    messages: [{ role: "user", content: prompt }, choice.message, { role: "tool", tool_call_id: toolCall.id, content: "-5 degrees" }],
  }, { headers: { "x-request-id": second } });

  assert.equal(answer.choices[0].message.content, "Cold in Oslo.");
  await assertLedgerMatches("u-tr-chat-tools", "sim-claude", [await bill(first), await bill(second)]);
});

test("openai over a messages-only upstream: n > 1 is a 400 param_not_supported naming n", async () => {
  const { key } = await createKey("u-tr-chat-refused", "basic");
  const id = requestId("tr-chat-refused");

  const error = await client(key).chat.completions.create({ model: "sim-claude", n: 2, messages: [{ role: "user", content: "hi" }] },
    { headers: { "x-request-id": id } }).then(() => null, (e) => e);

  assert.ok(error instanceof OpenAI.BadRequestError, `got ${error}`);
  assert.equal(error.code, "param_not_supported");
  assert.equal(error.param, "n");
  await assertNoBill(id);
});

// ---------------------------------------------------------------------------------------------------------------
// The Responses API (client.responses): billed exactly once from its usage, plain and streamed

test("responses.create: usage and cost match the simulator's bill and the ledger", async () => {
  const { key } = await createKey("u-resp", "basic");
  const { data, response } = await client(key).responses
    .create({ model: "sim-mini", instructions: "Be brief.", input: "Say hello. [[sim:tokens=7]] [[sim:cached=2]] [[sim:reasoning=3]]" })
    .withResponse();
  const b = await bill(response.headers.get("x-request-id"));
  assert.equal(b.endpoint, "responses");
  assert.equal(data.object, "response");
  assert.equal(data.status, "completed");
  assert.equal(data.output_text.trim().split(/\s+/).length, 7);
  assert.equal(data.usage.input_tokens, b.promptTokens);
  assert.equal(data.usage.input_tokens_details.cached_tokens, 2);
  assert.equal(data.usage.output_tokens, 10);
  assert.equal(data.usage.output_tokens_details.reasoning_tokens, 3);
  assert.equal(data.usage.cost_nanousd, costNanos("sim-mini", b));
  await assertLedgerMatches("u-resp", "sim-mini", [b]);
});

test("responses.create stream: deltas, then response.completed with the usage and its cost; no [DONE]", async () => {
  const { key } = await createKey("u-resp-stream", "basic");
  const id = requestId("respstream");
  const stream = await client(key).responses.create(
    { model: "sim-mini", input: [{ role: "user", content: [{ type: "input_text", text: "Tell a story. [[sim:tokens=12]]" }] }], stream: true },
    { headers: { "x-request-id": id } },
  );
  const events = [];
  for await (const event of stream) events.push(event);
  assert.equal(events[0].type, "response.created");
  const text = events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("");
  assert.equal(text.trim().split(/\s+/).length, 12);
  const last = events.at(-1);
  assert.equal(last.type, "response.completed");
  assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
  const b = await bill(id);
  assert.equal(b.stream, true);
  assert.equal(last.response.usage.output_tokens, b.completionTokens);
  assert.equal(last.response.usage.cost_nanousd, costNanos("sim-mini", b));
  await assertLedgerMatches("u-resp-stream", "sim-mini", [b]);
});

test("responses stream cut by the upstream: an error event ends it, the ledger bills what was generated", async () => {
  const { key } = await createKey("u-resp-cut", "basic");
  const id = requestId("respcut");
  const stream = await client(key).responses.create(
    { model: "sim-mini", input: "Go on. [[sim:tokens=20]] [[sim:cut=4]]", stream: true },
    { headers: { "x-request-id": id } },
  );
  const events = [];
  for await (const event of stream) events.push(event);
  const last = events.at(-1);
  assert.equal(last.type, "error");
  assert.equal(last.code, "upstream_error");
  const b = await bill(id);
  assert.equal(b.completed, false);
  assert.equal(b.completionTokens, 4);
  await assertLedgerMatches("u-resp-cut", "sim-mini", [b], { estimated: 1 });
});

test("responses.create with a required function tool: a call whose arguments fit its schema, billed exactly", async () => {
  const { key } = await createKey("u-resp-tool", "basic");
  const { data, response } = await client(key).responses
    .create({
      model: "sim-mini",
      input: "What is the weather in Paris?",
      tool_choice: "required",
      tools: [{
        type: "function",
        name: "get_weather",
        strict: false,
        parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city", "days"] },
      }],
    })
    .withResponse();
  const call = data.output.find((item) => item.type === "function_call");
  assert.ok(call, "a function_call output item");
  assert.equal(call.name, "get_weather");
  const args = JSON.parse(call.arguments);
  assert.equal(typeof args.city, "string");
  assert.ok(Number.isInteger(args.days));
  const b = await bill(response.headers.get("x-request-id"));
  await assertLedgerMatches("u-resp-tool", "sim-mini", [b]);
});

test("responses.create refusals: state and hosted tools Tollgate cannot price are 400 param_not_allowed, never forwarded", async () => {
  const { key } = await createKey("u-resp-refused", "basic");
  for (const [extra, param] of [
    [{ tools: [{ type: "web_search" }] }, "tools[0].type"],
    [{ background: true, store: false }, "store"],
  ]) {
    const id = requestId("respref");
    const err = await client(key).responses
      .create({ model: "sim-mini", input: "x", ...extra }, { headers: { "x-request-id": id } })
      .then(() => assert.fail("expected a 400"), (e) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, `got ${err}`);
    assert.equal(err.code, "param_not_allowed");
    assert.equal(err.param, param);
    await assertNoBill(id);
  }
  const id = requestId("respref");
  const err = await client(key).responses
    .create({ model: "sim-mini", input: "x", previous_response_id: "resp_unknown" }, { headers: { "x-request-id": id } })
    .then(() => assert.fail("expected a 404"), (e) => e);
  assert.ok(err instanceof OpenAI.NotFoundError, `got ${err}`);
  assert.equal(err.param, "previous_response_id");
  await assertNoBill(id);
  const row = await ledger("u-resp-refused", 3);
  assert.equal(row.refused, 3);
  assert.equal(row.cost_nanousd, 0);
});

/** Retrieves a background response until it has ended (the simulator ends it once its gate is released). */
async function pollUntilEnded(openai, id) {
  const deadline = Date.now() + LEDGER_TIMEOUT_MS;
  let polls = 0;
  for (;;) {
    const response = await openai.responses.retrieve(id);
    polls++;
    if (!["queued", "in_progress"].includes(response.status)) return { response, polls };
    if (Date.now() > deadline) assert.fail(`${id} still ${response.status} after ${LEDGER_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("responses background: queued at once, polled to completion, billed once with the simulator's truth; polls cost nothing", async () => {
  const { key } = await createKey("u-resp-bg", "basic");
  const openai = client(key);
  const id = requestId("bg");
  const gate = `js-bg-${process.pid}`;
  const created = await openai.responses.create(
    { model: "sim-mini", background: true, input: `Write the report. [[sim:hold=${gate}]] [[sim:tokens=8]]` },
    { headers: { "x-request-id": id } });
  assert.equal(created.status, "queued");
  assert.equal(created.background, true);
  assert.equal((await openai.responses.retrieve(created.id)).status, "queued");
  await assertNoBill(id);

  const release = await fetch(`${ctx.simUrl}/_simulator/release/${gate}`, { method: "POST" });
  await release.arrayBuffer();
  const { response: ended, polls } = await pollUntilEnded(openai, created.id);
  assert.equal(ended.status, "completed");
  assert.equal(ended.usage.output_tokens, 8);
  const b = await bill(id);

  // One billed record (the creation, with the bill); the 1 + `polls` retrievals are audited at zero.
  const row = await ledger("u-resp-bg", 2 + polls);
  assert.equal(row.refused, 0);
  assert.equal(row.input_tokens, b.promptTokens);
  assert.equal(row.output_tokens, 8);
  assert.equal(row.cost_nanousd, costNanos("sim-mini", b));
  // Retrieving the ended response again bills nothing more.
  await openai.responses.retrieve(created.id);
  const after = await ledger("u-resp-bg", 3 + polls);
  assert.equal(after.cost_nanousd, row.cost_nanousd);
});

test("responses background cancel: cancelled while it runs, billed what the upstream reports for it (its prompt)", async () => {
  const { key } = await createKey("u-resp-bg-cancel", "basic");
  const openai = client(key);
  const id = requestId("bgcancel");
  const created = await openai.responses.create(
    { model: "sim-mini", background: true, input: `Never mind. [[sim:hold=js-never-${process.pid}]] [[sim:tokens=40]]` },
    { headers: { "x-request-id": id } });
  assert.equal(created.status, "queued");

  const cancelled = await openai.responses.cancel(created.id);
  assert.equal(cancelled.status, "cancelled");
  const b = await bill(id);
  assert.equal(b.completionTokens, 0);
  const row = await ledger("u-resp-bg-cancel", 2);
  assert.equal(row.input_tokens, b.promptTokens);
  assert.equal(row.output_tokens, 0);
  assert.equal(row.cost_nanousd, costNanos("sim-mini", b));
});

test("responses.retrieve, cancel and delete: the owner's calls are audited and never billed; another key gets 404", async () => {
  const { key: owner } = await createKey("u-resp-owner", "basic");
  const { key: other } = await createKey("u-resp-other", "basic");
  const { data: created, response } = await client(owner).responses
    .create({ model: "sim-mini", input: "Keep this. [[sim:tokens=5]]" })
    .withResponse();
  const b = await bill(response.headers.get("x-request-id"));

  const fetched = await client(owner).responses.retrieve(created.id);
  assert.equal(fetched.id, created.id);
  assert.equal(fetched.output_text, created.output_text);
  for (const call of [
    () => client(other).responses.retrieve(created.id),
    () => client(other).responses.cancel(created.id),
    () => client(other).responses.delete(created.id),
    () => client(other).responses.create({ model: "sim-mini", input: "go on", previous_response_id: created.id }),
  ]) {
    const err = await call().then(() => assert.fail("expected a 404"), (e) => e);
    assert.ok(err instanceof OpenAI.NotFoundError, `got ${err}`);
  }
  await client(owner).responses.cancel(created.id);
  await client(owner).responses.delete(created.id);
  const gone = await client(owner).responses.retrieve(created.id).then(() => assert.fail("expected a 404"), (e) => e);
  assert.ok(gone instanceof OpenAI.NotFoundError, `got ${gone}`);

  // One billed request (the creation); the retrievals, the cancel and the deletes cost nothing.
  const row = await ledger("u-resp-owner", 5);
  assert.equal(row.input_tokens, b.promptTokens);
  assert.equal(row.output_tokens, b.completionTokens);
  assert.equal(row.cost_nanousd, costNanos("sim-mini", b));
});

test("responses.create with previous_response_id: the chain is billed as input, exactly as the provider billed it", async () => {
  const { key } = await createKey("u-resp-chain", "basic");
  const first = await client(key).responses.create({ model: "sim-mini", input: "Begin. [[sim:tokens=9]]" });
  const { data: second, response } = await client(key).responses
    .create({ model: "sim-mini", input: "Continue. [[sim:tokens=4]]", previous_response_id: first.id })
    .withResponse();
  const b = await bill(response.headers.get("x-request-id"));
  assert.equal(second.usage.input_tokens, b.promptTokens);
  assert.ok(b.promptTokens > first.usage.input_tokens + first.usage.output_tokens, "the chain is billed as input");
  assert.equal(second.usage.cost_nanousd, costNanos("sim-mini", b));
});

// ---------------------------------------------------------------------------------------------------------------
// The Vercel AI SDK's default OpenAI provider (the Responses API), unchanged but for the base URL

test("Vercel AI SDK generateText and streamText: the Responses API through the gateway, billed exactly", async () => {
  const { key } = await createKey("u-aisdk", "basic");
  const openai = createOpenAI({ apiKey: key, baseURL: `${ctx.apiUrl}/v1` });

  const plain = await generateText({ model: openai("sim-mini"), prompt: "Say hello. [[sim:tokens=6]]", maxRetries: 0 });
  assert.equal(plain.text.trim().split(/\s+/).length, 6);
  assert.equal(plain.usage.outputTokens, 6);

  const streamed = streamText({ model: openai("sim-mini"), prompt: "Stream a greeting. [[sim:tokens=9]]", maxRetries: 0 });
  let text = "";
  for await (const delta of streamed.textStream) text += delta;
  assert.equal(text.trim().split(/\s+/).length, 9);
  assert.equal((await streamed.usage).outputTokens, 9);

  const row = await ledger("u-aisdk", 2);
  assert.equal(row.output_tokens, 15);
  assert.equal(row.input_tokens, plain.usage.inputTokens + (await streamed.usage).inputTokens);
});

// ---------------------------------------------------------------------------------------------------------------
// The Responses API in front of an upstream that speaks only chat completions: translated both ways, billed exactly

test("responses through a chat-only upstream: plain and streamed, the upstream's chat bill is the ledger's", async () => {
  const { key } = await createKey("u-resp-chat", "js-translate");
  const { data, response } = await client(key).responses
    .create({ model: "sim-chat", instructions: "Be brief.", input: "Say hello. [[sim:tokens=7]] [[sim:cached=2]]" })
    .withResponse();
  const plain = await bill(response.headers.get("x-request-id"));
  assert.equal(plain.endpoint, "chat/completions");
  assert.equal(data.object, "response");
  assert.match(data.id, /^resp_/);
  assert.equal(data.status, "completed");
  assert.equal(data.store, false);
  assert.equal(data.output_text.trim().split(/\s+/).length, 7);
  assert.equal(data.usage.input_tokens, plain.promptTokens);
  assert.equal(data.usage.input_tokens_details.cached_tokens, 2);
  assert.equal(data.usage.output_tokens, 7);
  assert.equal(data.usage.cost_nanousd, costNanos("sim-chat", plain));

  const id = requestId("respchat");
  const stream = await client(key).responses.create(
    { model: "sim-chat", input: [{ role: "user", content: [{ type: "input_text", text: "Tell a story. [[sim:tokens=12]]" }] }], stream: true },
    { headers: { "x-request-id": id } },
  );
  const events = [];
  for await (const event of stream) events.push(event);
  assert.deepEqual(events.slice(0, 4).map((e) => e.type),
    ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
  assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
  const text = events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("");
  assert.equal(text.trim().split(/\s+/).length, 12);
  const last = events.at(-1);
  assert.equal(last.type, "response.completed");
  assert.equal(last.response.output_text ?? last.response.output[0].content[0].text, text);
  const streamed = await bill(id);
  assert.equal(streamed.endpoint, "chat/completions");
  assert.equal(streamed.stream, true);
  assert.equal(last.response.usage.output_tokens, streamed.completionTokens);
  assert.equal(last.response.usage.cost_nanousd, costNanos("sim-chat", streamed));
  await assertLedgerMatches("u-resp-chat", "sim-chat", [plain, streamed]);
});

test("responses through a chat-only upstream: a function-call loop, each turn billed exactly", async () => {
  const { key } = await createKey("u-resp-chat-tools", "js-translate");
  const tools = [{
    type: "function",
    name: "get_weather",
    strict: false,
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  }];
  const input = [{ role: "user", content: 'Weather? [[sim:call=get_weather {"city":"Paris"}]] [[sim:say=Sunny in Paris.]]' }];
  const { data: first, response: r1 } = await client(key).responses.create({ model: "sim-chat", input, tools }).withResponse();
  const call = first.output.find((item) => item.type === "function_call");
  assert.ok(call, "a function_call output item");
  assert.equal(call.name, "get_weather");
  assert.deepEqual(JSON.parse(call.arguments), { city: "Paris" });
  const { data: second, response: r2 } = await client(key).responses.create({
    model: "sim-chat",
    tools,
    input: [...input, call, { type: "function_call_output", call_id: call.call_id, output: '{"sky":"clear"}' }],
  }).withResponse();
  assert.equal(second.output_text, "Sunny in Paris.");
  const bills = [await bill(r1.headers.get("x-request-id")), await bill(r2.headers.get("x-request-id"))];
  await assertLedgerMatches("u-resp-chat-tools", "sim-chat", bills);
});

test("responses through a chat-only upstream: stored state is 400 param_not_supported, never forwarded", async () => {
  const { key } = await createKey("u-resp-chat-refused", "js-translate");
  const id = requestId("respchatref");
  const err = await client(key).responses
    .create({ model: "sim-chat", input: "go on", previous_response_id: "resp_earlier" }, { headers: { "x-request-id": id } })
    .then(() => assert.fail("expected a 400"), (e) => e);
  assert.ok(err instanceof OpenAI.BadRequestError, `got ${err}`);
  assert.equal(err.code, "param_not_supported");
  assert.equal(err.param, "previous_response_id");
  await assertNoBill(id);
  const row = await ledger("u-resp-chat-refused", 1);
  assert.equal(row.refused, 1);
  assert.equal(row.cost_nanousd, 0);
});

test("Vercel AI SDK's default provider through a chat-only upstream: generateText, streamText and a tool, billed exactly", async () => {
  const { key } = await createKey("u-aisdk-chat", "js-translate");
  const openai = createOpenAI({ apiKey: key, baseURL: `${ctx.apiUrl}/v1` });

  const plain = await generateText({ model: openai("sim-chat"), prompt: "Say hello. [[sim:tokens=6]]", maxRetries: 0 });
  assert.equal(plain.text.trim().split(/\s+/).length, 6);
  assert.equal(plain.usage.outputTokens, 6);

  const streamed = streamText({ model: openai("sim-chat"), prompt: "Stream a greeting. [[sim:tokens=9]]", maxRetries: 0 });
  let text = "";
  for await (const delta of streamed.textStream) text += delta;
  assert.equal(text.trim().split(/\s+/).length, 9);
  assert.equal((await streamed.usage).outputTokens, 9);

  const called = await generateText({
    model: openai("sim-chat"),
    prompt: 'Weather? [[sim:call=get_weather {"city":"Oslo"}]]',
    tools: { get_weather: { description: "The weather in a city", inputSchema: z.object({ city: z.string() }) } },
    maxRetries: 0,
  });
  assert.equal(called.toolCalls.length, 1);
  assert.equal(called.toolCalls[0].toolName, "get_weather");
  assert.deepEqual(called.toolCalls[0].input, { city: "Oslo" });

  const row = await ledger("u-aisdk-chat", 3);
  assert.equal(row.estimated_requests, 0);
  assert.equal(row.output_tokens, 15 + called.usage.outputTokens);
  assert.equal(row.input_tokens, plain.usage.inputTokens + (await streamed.usage).inputTokens + called.usage.inputTokens);
});
