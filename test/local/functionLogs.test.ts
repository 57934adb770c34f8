// Every line a function's process writes reaches the terminal, one line per record, prefixed with
// the function and the request id, and the control port returns a function's latest lines.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { FunctionLogRecord } from "../../local/artifacts";
import { LocalLambdas } from "../../local/lambdas";
import { SwitchyardLocal } from "../../local/runtime";
import { signedDelivery } from "../../local/scenarios";
import { formatLogRecord } from "../../local/services/lambda";

const CHATTY = `console.log("loading");
exports.handler = async (event, context) => {
  console.log("first line\\nsecond line");
  console.error("failed:", { code: 42 });
  process.stdout.write(JSON.stringify({ level: "INFO", message: "structured", function_request_id: context.awsRequestId }) + "\\n");
  return context.awsRequestId;
};`;

describe("local Lambda: function logs", function () {
  this.timeout(120_000);

  it("hands over each line with the invocation it belongs to; a console call is one line", async () => {
    const records: Array<[string, FunctionLogRecord]> = [];
    const lambdas = new LocalLambdas(
      new Map([
        [
          "chatty",
          {
            name: "chatty",
            arn: "arn:aws:lambda:eu-west-1:123456789012:function:chatty",
            archive: new pulumi.asset.AssetArchive({
              "__index.js": new pulumi.asset.StringAsset(CHATTY),
            }),
            environment: {},
            timeoutSeconds: 5,
          },
        ],
      ]),
      {
        endpointUrl: "http://127.0.0.1:9",
        region: "eu-west-1",
        log: () => undefined,
        sendToDestination: async () => undefined,
        asyncRetryDelayMs: () => 1,
        onLog: (fn, r) => records.push([fn, r]),
      },
    );
    try {
      const a = (await lambdas.invoke("chatty", {})) as string;
      const b = (await lambdas.invoke("chatty", {})) as string;
      expect(a).to.not.equal(b);
      const of = (id: string | undefined) =>
        records.filter(([, r]) => r.requestId === id).map(([, r]) => [r.stream, r.message]);
      expect(of(undefined)).to.deep.equal([["stdout", "loading"]]);
      for (const id of [a, b])
        expect(of(id)).to.have.deep.members([
          ["stdout", "first line\rsecond line"],
          ["stderr", "failed: { code: 42 }"],
          [
            "stdout",
            JSON.stringify({ level: "INFO", message: "structured", function_request_id: id }),
          ],
        ]);
      expect(records.every(([fn]) => fn === "chatty")).to.equal(true);
      const [, multi] = records.find(([, r]) => r.message.startsWith("first line"))!;
      expect(formatLogRecord("chatty", multi)).to.equal(
        `  [chatty ${multi.requestId!.slice(0, 8)}] first line\\nsecond line`,
      );
    } finally {
      await lambdas.stop();
    }
  });

  describe("in a local run", () => {
    let local: SwitchyardLocal;
    const terminal: string[] = [];

    before(async () => {
      local = await SwitchyardLocal.start({
        stack: "dev",
        speed: 0.001,
        // What the functions log is under test, not what moto shows: only the tables and buckets.
        moto: "engine",
        log: (l) => terminal.push(l),
      });
    });
    after(async () => local?.stop());

    it("prints the Powertools records of a webhook receiver, prefixed, and serves them at /logs/<function>", async () => {
      const target = await local.scenarioTarget();
      const hook = target.webhooks.github;
      const d = signedDelivery("github", target.secrets.github, hook.publicUrl, "logs-1");
      const res = await fetch(hook.localUrl, { method: "POST", headers: d.headers, body: d.body });
      expect(res.status, await res.text()).to.equal(200);
      await local.drain();
      const fn = [...local.lambdas.functions.keys()].find((n) => /github/.test(n))!;
      const printed = terminal.filter((l) => l.startsWith(`  [${fn} `));
      expect(printed.length, terminal.join("\n")).to.be.greaterThan(0);
      const structured = printed
        .map((l) => l.replace(/^ {2}\[\S+ [0-9a-f]{8}\] /, ""))
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l));
      expect(structured.length).to.be.greaterThan(0);
      const requestId = structured.find((r) => r.function_request_id)?.function_request_id;
      expect(requestId).to.be.a("string");
      expect(printed.some((l) => l.startsWith(`  [${fn} ${requestId.slice(0, 8)}] {`))).to.equal(
        true,
      );
      // Function lines are shown, not counted as the run's hops.
      expect(local.logLines.some((l) => l.startsWith(`  [${fn} `))).to.equal(false);

      const list = (await (await fetch(`${local.controlUrl}/logs`)).json()) as Record<
        string,
        number
      >;
      expect(list[fn]).to.be.greaterThan(0);
      const kept = (await (
        await fetch(`${local.controlUrl}/logs/${fn}?requestId=${requestId}`)
      ).json()) as FunctionLogRecord[];
      expect(kept.length).to.be.greaterThan(0);
      expect(kept.every((r) => r.requestId === requestId)).to.equal(true);
      expect((await fetch(`${local.controlUrl}/logs/no-such-function`)).status).to.equal(404);
    });
  });
});
