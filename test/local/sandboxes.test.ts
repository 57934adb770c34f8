// Local Lambda runs invocations as Lambda's execution environments do: one invocation per sandbox
// (process) at a time, a sandbox per concurrent invocation up to the function's reserved
// concurrency, 429 TooManyRequestsException for a synchronous invoke past it, idle sandboxes
// reused, and a timeout that ends its own invocation only.
import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import * as pulumi from "@pulumi/pulumi";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { AwsError, createAwsEndpoint } from "../../local/awsEndpoint";
import { LocalFunction, LocalLambdas } from "../../local/lambdas";

const REGION = "eu-west-1";

/** Waits `ms`, then answers with the process that ran it. */
const SLOW = `exports.handler = async (event) => {
  await new Promise((r) => setTimeout(r, event.ms));
  return { pid: process.pid, id: event.id };
};`;

const fn = (name: string, extra: Partial<LocalFunction> = {}): LocalFunction => ({
  name,
  arn: `arn:aws:lambda:${REGION}:123456789012:function:${name}`,
  archive: new pulumi.asset.AssetArchive({ "__index.js": new pulumi.asset.StringAsset(SLOW) }),
  environment: {},
  timeoutSeconds: 1,
  ...extra,
});

describe("local Lambda: sandboxes like Lambda's execution environments", function () {
  this.timeout(120_000);
  const lines: string[] = [];
  let lambdas: LocalLambdas;

  before(() => {
    lambdas = new LocalLambdas(
      new Map(
        [
          fn("slow"),
          fn("reserved", { reservedConcurrency: 1, timeoutSeconds: 10 }),
          fn("capped", { timeoutSeconds: 10 }),
        ].map((f) => [f.name, f]),
      ),
      {
        endpointUrl: "http://127.0.0.1:9",
        region: REGION,
        log: (l) => lines.push(l),
        sendToDestination: async () => undefined,
        asyncRetryDelayMs: () => 1,
        maxSandboxes: 6,
      },
    );
  });
  after(() => lambdas.stop());

  it("runs concurrent invocations in sandboxes of their own; a timeout fails only its own", async () => {
    const events = [0, 1, 2, 3, 4, 5].map((id) => ({ id, ms: id === 3 ? 5_000 : 400 }));
    const started = Date.now();
    const out = await Promise.allSettled(events.map((e) => lambdas.invoke("slow", e)));
    const ok = out.filter((o) => o.status === "fulfilled").map((o) => (o as any).value);
    const failed = out.filter((o) => o.status === "rejected").map((o) => (o as any).reason);
    expect(ok.map((r) => r.id).sort()).to.deep.equal([0, 1, 2, 4, 5]);
    expect(new Set(ok.map((r) => r.pid)).size, "one process per concurrent invocation").to.equal(5);
    expect(failed).to.have.length(1);
    expect([failed[0].name, failed[0].message]).to.deep.equal([
      "Sandbox.Timedout",
      "Task timed out after 1 seconds",
    ]);
    // Concurrent: six 0.4-1 s invocations took about one timeout, not their sum.
    expect(Date.now() - started).to.be.lessThan(4_000);
    // The timed-out sandbox is gone; the five others wait, idle, for the next invocations.
    expect(lambdas.sandboxes("slow")).to.deep.equal({ live: 5, idle: 5 });
  });

  it("reuses idle sandboxes instead of starting new ones", async () => {
    const before = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const r: any = await lambdas.invoke("slow", { id: i, ms: 1 });
      before.add(r.pid);
    }
    expect(before.size, "one warm sandbox serves invocations one after another").to.equal(1);
    const burst: any[] = await Promise.all(
      [0, 1, 2, 3, 4].map((id) => lambdas.invoke("slow", { id, ms: 200 })),
    );
    expect(new Set(burst.map((r) => r.pid)).size).to.equal(5);
    expect(lambdas.sandboxes("slow")).to.deep.equal({ live: 5, idle: 5 });
  });

  it("throttles a synchronous invoke past reserved concurrency 1 with 429 TooManyRequestsException", async () => {
    const first = lambdas.invoke("reserved", { id: 1, ms: 800 });
    let second: unknown;
    try {
      await lambdas.invoke("reserved", { id: 2, ms: 1 });
    } catch (e) {
      second = e;
    }
    expect(second).to.be.instanceOf(AwsError);
    expect(second).to.include({ code: "TooManyRequestsException", status: 429 });
    expect(((await first) as any).id).to.equal(1);
    // Free again: the next invoke reuses the one sandbox.
    expect(((await lambdas.invoke("reserved", { id: 3, ms: 1 })) as any).id).to.equal(3);
    expect(lambdas.sandboxes("reserved")).to.deep.equal({ live: 1, idle: 1 });
  });

  it("answers the throttle over the Lambda Invoke API as Lambda does", async () => {
    // The endpoint's Invoke, wired as the local runtime wires it: AwsErrors pass through.
    const server = createAwsEndpoint({
      dynamodbUrl: "http://127.0.0.1:9",
      putEvents: async () => ({ FailedEntryCount: 0, Entries: [] }),
      getSecretValue: async () => ({ ARN: "", Name: "", SecretString: "" }),
      snsPublish: async () => "",
      sqsSendMessage: async () => "",
      startExecution: async () => ({ executionArn: "", startDate: 0 }),
      invokeLambda: async (name, payload) => ({
        status: 200,
        payload: JSON.stringify(await lambdas.invoke(name, JSON.parse(payload))),
      }),
      s3Put: async () => "",
      s3Get: async () => ({ body: Buffer.alloc(0), etag: "" }),
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const client = new LambdaClient({
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        region: REGION,
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        maxAttempts: 1,
      });
      const invoke = (id: number, ms: number) =>
        client.send(
          new InvokeCommand({
            FunctionName: "reserved",
            Payload: Buffer.from(JSON.stringify({ id, ms })),
          }),
        );
      const first = invoke(1, 1_000);
      await new Promise((r) => setTimeout(r, 300));
      try {
        await invoke(2, 1);
        expect.fail("the second concurrent invoke must be throttled");
      } catch (e: any) {
        expect(e.name).to.equal("TooManyRequestsException");
        expect(e.$metadata.httpStatusCode).to.equal(429);
        expect(e.Reason).to.equal("ReservedFunctionConcurrentInvocationLimitExceeded");
        expect(e.Type).to.equal("User");
        expect(e.message).to.equal("Rate Exceeded.");
      }
      expect((await first).StatusCode).to.equal(200);
    } finally {
      await new Promise((r) => (server as http.Server).close(r));
    }
  });

  it("queues asynchronous invocations past reserved concurrency instead of dropping them", async () => {
    lines.length = 0;
    lambdas.invokeAsync("reserved", { id: 1, ms: 300 });
    lambdas.invokeAsync("reserved", { id: 2, ms: 300 });
    await lambdas.drain();
    expect(lines.filter((l) => /function reserved ran \(async/.test(l))).to.have.length(2);
    expect(lines.filter((l) => /failed/.test(l))).to.deep.equal([]);
  });

  it("stops sandboxes left idle, keeping the last one warm", async () => {
    const short = new LocalLambdas(new Map([["slow", fn("slow")]]), {
      endpointUrl: "http://127.0.0.1:9",
      region: REGION,
      log: () => undefined,
      sendToDestination: async () => undefined,
      asyncRetryDelayMs: () => 1,
      sandboxIdleMs: 300,
    });
    try {
      const out: any[] = await Promise.all(
        [0, 1, 2, 3].map((id) => short.invoke("slow", { id, ms: 200 })),
      );
      // Four sandboxes served the four at once. How many are still live now depends on how far
      // apart this machine spawned them: the first done may already have been idle 300 ms.
      expect(new Set(out.map((r) => r.pid)).size).to.equal(4);
      await new Promise((r) => setTimeout(r, 900));
      expect(short.sandboxes("slow")).to.deep.equal({ live: 1, idle: 1 });
      expect(((await short.invoke("slow", { id: 9, ms: 1 })) as any).id).to.equal(9);
    } finally {
      await short.stop();
    }
  });

  it("waits for a sandbox past this machine's cap (no reserved concurrency: nothing is throttled)", async () => {
    const out: any[] = await Promise.all(
      Array.from({ length: 8 }, (_, id) => lambdas.invoke("capped", { id, ms: 300 })),
    );
    expect(out.map((r) => r.id)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(out.map((r) => r.pid)).size).to.equal(6);
    expect(lambdas.sandboxes("capped")).to.deep.equal({ live: 6, idle: 6 });
  });
});
