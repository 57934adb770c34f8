// Sandboxes that die while idle, a run that stops, and throttles: a dead sandbox is never reused,
// nothing starts after stop() and the function's folder is gone, a throttled Function URL answers
// 429 and a throttled stream batch is retried, not failed.
import { expect } from "chai";
import { EventJournal } from "../../local/journal";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { AddressInfo } from "net";
import * as pulumi from "@pulumi/pulumi";
import { AwsError } from "../../local/awsEndpoint";
import { LambdaHost, materialize } from "../../local/artifacts";
import { LocalFunction, LocalLambdas } from "../../local/lambdas";
import { LocalStreams } from "../../local/streams";
import type { Runtime } from "../../local/services/context";
import { FunctionUrlsService } from "../../local/services/functionUrls";

const REGION = "eu-west-1";

/** Waits event.ms (a Function URL request's body.ms), then answers with its process id. */
const SLOW = `exports.handler = async (event) => {
  const e = typeof event.body === "string" ? JSON.parse(event.body) : event;
  await new Promise((r) => setTimeout(r, e.ms ?? 1));
  return { pid: process.pid };
};`;

const archive = () =>
  new pulumi.asset.AssetArchive({ "__index.js": new pulumi.asset.StringAsset(SLOW) });

const fn = (name: string, extra: Partial<LocalFunction> = {}): LocalFunction => ({
  name,
  arn: `arn:aws:lambda:${REGION}:123456789012:function:${name}`,
  archive: archive(),
  environment: {},
  timeoutSeconds: 10,
  ...extra,
});

const deps = {
  endpointUrl: "http://127.0.0.1:9",
  region: REGION,
  log: () => undefined,
  sendToDestination: async () => undefined,
  asyncRetryDelayMs: () => 1,
};

const exited = (pid: number) =>
  (async () => {
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`process ${pid} is still running`);
  })();

describe("local Lambda: dead sandboxes, stopping, throttles", function () {
  this.timeout(60_000);

  it("a LambdaHost whose process died says so and rejects an invocation at once", async () => {
    const host = await LambdaHost.start(await materialize(archive()), { timeoutSeconds: 10 });
    const { pid } = await host.invoke<{ pid: number }>({});
    expect(host.alive).to.equal(true);
    process.kill(pid, "SIGKILL");
    await exited(pid);
    await new Promise((r) => setTimeout(r, 50));
    expect(host.alive).to.equal(false);
    const started = Date.now();
    let error: Error | undefined;
    await host.invoke({}).catch((e) => (error = e));
    expect(error?.message).to.match(/not running/);
    expect(Date.now() - started).to.be.lessThan(1000);
    await host.stop();
  });

  it("a LambdaHost stopped twice at once ends its process and settles both stops", async () => {
    const host = await LambdaHost.start(await materialize(archive()), { timeoutSeconds: 10 });
    const { pid } = await host.invoke<{ pid: number }>({});
    // The runtime's stop and a pool's discard can stop one host together: before stop was
    // idempotent, the second call removed the first's exit listener and the first never settled.
    const both = Promise.all([host.stop(), host.stop()]);
    const settled = await Promise.race([
      both.then(() => "settled"),
      new Promise((r) => setTimeout(() => r("pending"), 5000)),
    ]);
    expect(settled).to.equal("settled");
    await exited(pid);
  });

  it("never reuses an idle sandbox whose process died: the next invocation gets a new one", async () => {
    const lambdas = new LocalLambdas(new Map([["f", fn("f")]]), deps);
    try {
      const first = (await lambdas.invoke("f", {})) as { pid: number };
      expect(lambdas.sandboxes("f")).to.deep.equal({ live: 1, idle: 1 });
      process.kill(first.pid, "SIGKILL");
      await exited(first.pid);
      const started = Date.now();
      const second = (await lambdas.invoke("f", {})) as { pid: number };
      expect(second.pid).to.not.equal(first.pid);
      expect(Date.now() - started, "not the function's timeout").to.be.lessThan(5000);
      expect(lambdas.sandboxes("f")).to.deep.equal({ live: 1, idle: 1 });
    } finally {
      await lambdas.stop();
    }
  });

  it("stop() refuses new sandboxes and deletes each function's materialized folder", async () => {
    const lambdas = new LocalLambdas(new Map([["f", fn("f")]]), deps);
    try {
      await lambdas.invoke("f", {});
      const folder = (await lambdas.folder("f"))!;
      expect(fs.existsSync(path.join(folder, "__index.js"))).to.equal(true);
      await lambdas.stop();
      expect(fs.existsSync(folder)).to.equal(false);
      let error: any;
      await lambdas.invoke("f", {}).catch((e) => (error = e));
      expect(error?.message).to.match(/stopping: f starts no new sandbox/);
      expect(lambdas.sandboxes("f")).to.deep.equal({ live: 0, idle: 0 });
    } finally {
      await lambdas.stop();
    }
  });

  it("answers a throttled Function URL invoke 429, as a Function URL does", async () => {
    const lambdas = new LocalLambdas(
      new Map([["hook", fn("hook", { reservedConcurrency: 1 })]]),
      deps,
    );
    const servers: http.Server[] = [];
    const rt = {
      of: (type: string) =>
        type === "aws:lambda/functionUrl:FunctionUrl"
          ? [{ type, name: "hook-url", inputs: { functionName: "hook" } }]
          : [],
      log: () => undefined,
      services: {
        lambda: { lambdas, logs: new Map() },
        eventBridge: { journal: new EventJournal() },
      },
      listen: async (server: http.Server) => {
        servers.push(server);
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      },
    } as unknown as Runtime;
    const urls = new FunctionUrlsService(rt);
    try {
      await urls.serve();
      const url = urls.urls["hook-url"];
      const slow = fetch(url, { method: "POST", body: JSON.stringify({ ms: 1500 }) });
      await new Promise((r) => setTimeout(r, 700));
      const throttled = await fetch(url, { method: "POST", body: "{}" });
      expect(throttled.status).to.equal(429);
      expect(throttled.headers.get("x-amzn-errortype")).to.equal("TooManyRequestsException");
      expect(await throttled.json()).to.deep.equal({ Message: "Rate Exceeded." });
      expect((await slow).status).to.equal(200);
    } finally {
      for (const s of servers) s.close();
      await lambdas.stop();
    }
  });

  it("retries a throttled stream batch without counting an attempt or sending it to on-failure", async () => {
    const items = new Map<string, any>();
    const sent: unknown[] = [];
    const lines: string[] = [];
    let calls = 0;
    const streams = new LocalStreams(
      new Map([
        [
          "t",
          {
            name: "t",
            arn: "arn:t",
            streamArn: "arn:t/stream/1",
            keys: ["pk"],
            viewType: "NEW_IMAGE",
          },
        ],
      ]),
      [
        {
          uuid: "m",
          streamArn: "arn:t/stream/1",
          functionName: "f",
          batchSize: 10,
          reportBatchItemFailures: false,
          bisectOnError: false,
          maximumRetryAttempts: 0,
          onFailure: "arn:aws:sqs:eu-west-1:123456789012:dlq",
        },
      ],
      {
        dynamo: {
          send: async (c: any) => ({ Item: items.get(JSON.stringify(c.input.Key)) }),
        } as any,
        region: REGION,
        invoke: async () => {
          if (++calls <= 3) throw new AwsError("TooManyRequestsException", "Rate Exceeded.", 429);
          return null;
        },
        sendToDestination: async (_arn, m) => void sent.push(m),
        log: (l) => lines.push(l),
      },
    );
    const item = { pk: { S: "1" }, v: { N: "1" } };
    await streams.aroundDynamoWrite("PutItem", { TableName: "t", Item: item }, async () => {
      items.set(JSON.stringify({ pk: item.pk }), item);
      return 200;
    });
    await streams.drain();
    expect(calls).to.equal(4);
    expect(sent).to.deep.equal([]);
    expect(lines.filter((l) => /throttled/.test(l))).to.have.length(3);
    expect(lines.at(-1)).to.match(/-> f: 1 records$/);
  });
});
