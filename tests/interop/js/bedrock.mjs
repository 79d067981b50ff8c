// Drives a local Bedrock runtime with the AWS SDK for JavaScript v3 and prints one JSON document.
//
//   node bedrock.mjs URL MODE
//
// MODE is "default" (the client's own request handler: NodeHttp2Handler for bedrock-runtime) or "http1"
// (new NodeHttpHandler()). Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
// Every call is recorded, failures included, so the Python side can say exactly what went wrong.

import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ValidationException,
} from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const TEXT_MODEL = "mistral.mistral-7b-instruct-v0:2";
const CHAT_MODEL = "mistral.mistral-large-2402-v1:0";
const UNKNOWN_MODEL = "mistral.no-such-model-v9:0";
const TEXT_BODY = { prompt: "<s>[INST] Hello, what's your name? [/INST]" };
const CHAT_BODY = { messages: [{ role: "user", content: "Hello, what's your name?" }] };
const CONVERSE_INPUT = {
  modelId: CHAT_MODEL,
  system: [{ text: "You are a concise assistant." }],
  messages: [{ role: "user", content: [{ text: "Hello, what's your name?" }] }],
};
const REPEATS = 3;
const CALL_TIMEOUT_MS = 10_000;

const [url, mode] = process.argv.slice(2);
if (!url || !["default", "http1"].includes(mode)) {
  console.error("usage: node bedrock.mjs URL default|http1");
  process.exit(2);
}

const client = new BedrockRuntimeClient({
  region: "us-east-1",
  endpoint: url,
  maxAttempts: 1,
  ...(mode === "http1" ? { requestHandler: new NodeHttpHandler() } : {}),
});

const decoder = new TextDecoder();
const decodeJson = (bytes) => JSON.parse(decoder.decode(bytes));

function describeError(error) {
  return {
    name: error?.name ?? null,
    message: error?.message ?? String(error),
    code: error?.code ?? null,
    fault: error?.$fault ?? null,
    status: error?.$metadata?.httpStatusCode ?? null,
    requestId: error?.$metadata?.requestId ?? null,
    isValidationException: error instanceof ValidationException,
    stack: error?.stack ?? null,
  };
}

// One call, bounded in time; a failure becomes {error: …} next to whatever arrived before it. After a call
// times out the server is presumed stuck, and the remaining calls are reported as skipped rather than waited on.
let timedOut = null;
async function record(work) {
  if (timedOut) {
    return { error: { name: "Skipped", message: `not run: an earlier call timed out (${timedOut})` } };
  }
  const partial = {};
  try {
    Object.assign(partial, await work(partial, { abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) }));
    return partial;
  } catch (error) {
    if (error?.name === "TimeoutError" || error?.name === "AbortError") {
      timedOut = `${error.name}: ${error.message}`;
    }
    return { ...partial, error: describeError(error) };
  }
}

const headersOf = (output) => ({ contentType: output.contentType ?? null, requestId: output.$metadata?.requestId ?? null });

async function invoke(modelId, body) {
  return record(async (_partial, options) => {
    const output = await client.send(
      new InvokeModelCommand({
        modelId,
        body: JSON.stringify(body),
        contentType: "application/json",
        accept: "application/json",
      }),
      options,
    );
    return { ...headersOf(output), body: decodeJson(output.body) };
  });
}

async function invokeStream(modelId, body) {
  return record(async (partial, options) => {
    const output = await client.send(
      new InvokeModelWithResponseStreamCommand({ modelId, body: JSON.stringify(body), contentType: "application/json" }),
      options,
    );
    Object.assign(partial, headersOf(output), { chunks: [], otherEvents: [] });
    for await (const event of output.body) {
      if (event.chunk) {
        partial.chunks.push(decodeJson(event.chunk.bytes));
      } else {
        partial.otherEvents.push(event);
      }
    }
    return partial;
  });
}

async function converse() {
  return record(async (_partial, options) => {
    const output = await client.send(new ConverseCommand(CONVERSE_INPUT), options);
    return { output: output.output, stopReason: output.stopReason, usage: output.usage, metrics: output.metrics };
  });
}

async function converseStream() {
  return record(async (partial, options) => {
    const output = await client.send(new ConverseStreamCommand(CONVERSE_INPUT), options);
    partial.events = [];
    for await (const event of output.stream) {
      const names = Object.keys(event).filter((key) => event[key] !== undefined);
      partial.events.push({ type: names.join(","), value: names.length === 1 ? event[names[0]] : event });
    }
    return partial;
  });
}

async function repeat(times, work) {
  const runs = [];
  for (let i = 0; i < times; i += 1) {
    runs.push(await work());
  }
  return runs;
}

const results = { mode, url, node: process.version, handler: client.config.requestHandler?.constructor?.name ?? null };
try {
  results.invokeText = await invoke(TEXT_MODEL, TEXT_BODY);
  results.streamText = await repeat(REPEATS, () => invokeStream(TEXT_MODEL, TEXT_BODY));
  results.invokeChat = await invoke(CHAT_MODEL, CHAT_BODY);
  results.streamChat = await repeat(REPEATS, () => invokeStream(CHAT_MODEL, CHAT_BODY));
  results.converse = await converse();
  results.converseStream = await repeat(REPEATS, converseStream);
  results.unknownModel = await invoke(UNKNOWN_MODEL, TEXT_BODY);
} finally {
  client.destroy();
}
process.stdout.write(`${JSON.stringify(results)}\n`);
