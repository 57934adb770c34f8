// What `npm start` prints on a first run: each webhook receiver with its secret's source (and what
// Twilio signs), AWS CLI commands that inspect the run (each one run here with the AWS CLI on PATH,
// as printed), and a demo tenant whose key works through the real ingress path. A webhook secret
// being rotated out (SWITCHYARD_<KEY>PREVIOUS) still verifies.
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { SwitchyardLocal } from "../../local/runtime";
import { CLI_ENVIRONMENT } from "../../local/firstRun";
import { signedDelivery } from "../../local/scenarios";
import { awsCliLine, pathCliPython, plainAwsLine } from "../support/awsCli";

/** The interpreter of the `aws` on PATH, when it is a Python script (pyenv's AWS CLI v1 here). */
const cliPython = pathCliPython();

/**
 * Runs a printed command line as a shell would. A plain `aws` line (words and quotes only) runs
 * through that CLI's entry point in a process forked from one that imported it
 * (test/support/awsCli.ts), the same words a shell would pass; any other line runs in bash.
 */
function sh(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, ...CLI_ENVIRONMENT };
  if (cliPython && plainAwsLine(command)) return awsCliLine(cliPython, command, env);
  return new Promise((resolve) =>
    execFile("bash", ["-c", command], { env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe("local runtime: what a first run prints", function () {
  this.timeout(240_000);
  let local: SwitchyardLocal;
  let banner: string[];
  const env = ["SWITCHYARD_GITHUBWEBHOOKSECRET", "SWITCHYARD_GITHUBWEBHOOKSECRETPREVIOUS"];

  before(async () => {
    process.env.SWITCHYARD_GITHUBWEBHOOKSECRET = "github-current-secret";
    process.env.SWITCHYARD_GITHUBWEBHOOKSECRETPREVIOUS = "github-rotated-out-secret";
    try {
      local = await SwitchyardLocal.start({ stack: "dev", speed: 0.001, log: () => undefined });
    } finally {
      for (const v of env) delete process.env[v];
    }
    banner = local.summary().split("\n");
  });
  after(async () => local?.stop());

  const command = (pattern: RegExp) => {
    const line = banner.find((l) => /^ {4}aws /.test(l) && pattern.test(l));
    expect(line, `a printed command matching ${pattern}:\n${banner.join("\n")}`).to.be.a("string");
    return line!.trim();
  };

  it("names each webhook receiver's provider, URL and secret source, and the URL Twilio signs", async () => {
    const target = await local.scenarioTarget();
    const line = (provider: string) => banner.find((l) => l.startsWith(`    ${provider} at `))!;
    expect(line("github")).to.equal(
      `    github at ${target.webhooks.github.localUrl} (secret githubWebhookSecret from SWITCHYARD_GITHUBWEBHOOKSECRET; the previous one, still accepted, from SWITCHYARD_GITHUBWEBHOOKSECRETPREVIOUS)`,
    );
    for (const p of ["stripe", "standard", "hmac", "twilio"])
      expect(line(p)).to.match(
        new RegExp(
          `^ {4}${p} at http://127\\.0\\.0\\.1:\\d+/${p} \\(secret \\w+ from \\.switchyard/secrets\\.json( \\(generated now\\))?\\)$`,
        ),
      );
    expect(banner).to.include(
      `      Twilio signs the URL it posts to: sign ${target.webhooks.twilio.publicUrl} (with the form parameters) and post to ${target.webhooks.twilio.localUrl}`,
    );
    expect(target.webhooks.twilio.publicUrl).to.equal(
      "https://switchyard-dev-webhooks-twilio.lambda-url.eu-west-1.on.aws/twilio",
    );
  });

  it("accepts a GitHub delivery signed with the secret being rotated out, as with the current one", async () => {
    const target = await local.scenarioTarget();
    const hook = target.webhooks.github;
    const send = async (secret: string, marker: string) => {
      const d = signedDelivery("github", secret, hook.publicUrl, marker);
      return (await fetch(hook.localUrl, { method: "POST", headers: d.headers, body: d.body }))
        .status;
    };
    expect(await send("github-current-secret", "rotation-current")).to.equal(200);
    expect(await send("github-rotated-out-secret", "rotation-previous")).to.equal(200);
    expect(await send("some-other-secret", "rotation-forged")).to.equal(403);
  });

  it("prints events list-rules, which lists the bus's rules", async () => {
    const out = await sh(command(/ events list-rules /));
    expect(out.code, out.stderr).to.equal(0);
    const names = (JSON.parse(out.stdout).Rules as { Name: string }[]).map((r) => r.Name);
    expect(names).to.include.members(["switchyard-dev-records", "switchyard-dev-tenant-ingress"]);
  });

  it("prints sqs receive-message on the hub's DLQ, which shows its dead letters with their attributes", async () => {
    const cmd = command(/ sqs receive-message /);
    expect(cmd).to.contain("/switchyard-dev-dlq ");
    const empty = await sh(cmd);
    expect(empty.code, empty.stderr).to.equal(0);
    expect(empty.stdout.trim()).to.equal("");
    local.sqsSend("switchyard-dev-dlq", '{"id":"dead-1"}', {
      ERROR_CODE: { DataType: "String", StringValue: "SDK_CLIENT_ERROR" },
    });
    const out = await sh(cmd);
    expect(out.code, out.stderr).to.equal(0);
    const [m] = JSON.parse(out.stdout).Messages;
    expect(m.Body).to.equal('{"id":"dead-1"}');
    expect(m.MessageAttributes.ERROR_CODE).to.deep.equal({
      StringValue: "SDK_CLIENT_ERROR",
      DataType: "String",
    });
    expect(m.Attributes.ApproximateReceiveCount).to.equal("1");
    const again = JSON.parse((await sh(cmd)).stdout).Messages[0];
    expect(
      again.Attributes.ApproximateReceiveCount,
      "visibility timeout 0: received again",
    ).to.equal("2");
  });

  it("prints dynamodb scan for every table; the access table holds the demo tenant's key", async () => {
    const tables = banner.filter((l) => / dynamodb scan /.test(l));
    expect(tables).to.have.length(
      local.program.resources.filter((r) => r.type === "aws:dynamodb/table:Table").length,
    );
    for (const line of tables) {
      const out = await sh(line.trim());
      expect(out.code, `${line}\n${out.stderr}`).to.equal(0);
      const items = JSON.parse(out.stdout).Items as Record<string, { S?: string }>[];
      if (/ingress-access/.test(line))
        expect(items.some((i) => i.tenant?.S === "demo" && /^apikey#/.test(i.pk.S!))).to.equal(
          true,
        );
    }
  });

  it("prints stepfunctions list-executions for the workflow", async () => {
    const cmd = command(/ stepfunctions list-executions /);
    const arn = [...local.sfn.definitions.keys()][0];
    local.sfn.startExecution(arn, {}, "first-run-1");
    await local.drain();
    const out = await sh(cmd);
    expect(out.code, out.stderr).to.equal(0);
    const [e] = JSON.parse(out.stdout).executions;
    expect(e).to.include({ name: "first-run-1", stateMachineArn: arn });
    expect(["SUCCEEDED", "FAILED"]).to.include(e.status);
  });

  it("issues the demo tenant's key at start and prints a put-events that sends it through the ingress", async () => {
    const key = local.demoTenant!.apiKey;
    expect(banner.some((l) => l.includes(`demo tenant demo: API key ${key}`))).to.equal(true);
    const out = await sh(command(/ events put-events .*switchyard\.input/));
    expect(out.code, out.stderr).to.equal(0);
    expect(JSON.parse(out.stdout).FailedEntryCount).to.equal(0);
    await local.drain();
    const changes = local.bus.archive.filter(
      (e) => e.source === "switchyard.output" && (e.detail as any).payload?.id === "hello-1",
    );
    expect(changes.map((e) => e["detail-type"])).to.deep.equal(["doc.POST"]);
    expect(local.queues.get("switchyard-dev-ingress-rejected")).to.deep.equal([]);
  });

  it("prints the sample subscriber and a put-events that delivers to it, verified", async () => {
    const url = local.services.subscriber.url;
    expect(banner).to.include.members([
      `  sample subscriber (outbound webhooks): ${url} (GET /received: each delivery it got, verified with standardwebhooks)`,
    ]);
    const out = await sh(command(/ events put-events .*switchyard\.sample/));
    expect(out.code, out.stderr).to.equal(0);
    const id = `msg_${JSON.parse(out.stdout).Entries[0].EventId.replace(/-/g, "")}`;
    await local.drain();
    const got = (await (await fetch(`${url}/received`)).json()) as any[];
    expect(got.filter((r) => r.webhookId === id)).to.have.length(1);
    expect(got.find((r) => r.webhookId === id)).to.include({
      subscription: "sample",
      verified: true,
      status: 204,
    });
  });

  it("runs docs/deploying.md's start-replay example, its placeholders filled in, against the run", async () => {
    const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "deploying.md"), "utf8");
    const example = doc
      .match(/^aws events start-replay [\s\S]*?--event-end-time \S+$/m)![0]
      .replace(/\\\n\s*/g, "");
    const out = local.program.outputs as Record<string, any>;
    const value = (v: any) => new Promise<string>((r) => v.apply(r));
    const filled = example
      .replace("<region>", "eu-west-1")
      .replace("<account>", "123456789012")
      .replace("<archiveName>", await value(out.archiveName))
      .replace("<busArn>", await value(out.busArn))
      .replace("aws events", `aws --endpoint-url ${local.awsUrl} events`);
    expect(filled).to.not.match(/[<>]/);
    const res = await sh(filled);
    expect(res.code, `${filled}\n${res.stderr}`).to.equal(0);
    expect(JSON.parse(res.stdout)).to.include({ State: "STARTING" });
  });
});
