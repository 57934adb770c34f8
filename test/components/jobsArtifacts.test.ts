// The bundled functions (__index.js, as `pulumi up` uploads them) of JobsApi and RecordsGateway,
// each run in a fresh Node process by local/artifacts.ts with the environment the component declares
// and the AWS SDK pointed at local endpoints: dynalite for DynamoDB, and small local Lambda and
// Secrets Manager endpoints that answer (and fail) with those services' wire formats.
import { expect } from "chai";
import { createServer, IncomingMessage, Server } from "http";
import { AddressInfo } from "net";
import { one, resetRecorded, settle, setupMocks, valueOf, ACCOUNT, REGION } from "../mocks";

setupMocks();
import * as pulumi from "@pulumi/pulumi";
import { archiveEntries, LambdaHost, materialize } from "../../local/artifacts";
import { functionArchives } from "../../components/lambda";
import { JobsApi } from "../../components/jobs/jobsApi";
import { RecordsGateway } from "../../components/records/recordsGateway";
import { parseTiers } from "../../components/apigw/spec";
import { LocalJobsTable, proxyEvent, startJobsTable } from "../handlers/jobs/localJobs";

const KEY = "artifact-upstream-key-31b9";
const BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/hub`;

interface Call {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A local HTTP endpoint; `answer` returns status, headers and body for each request. */
async function endpoint(
  answer: (c: Call) => [number, Record<string, string>, string],
): Promise<{ url: string; calls: Call[]; server: Server }> {
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const call = { path: req.url ?? "", headers: req.headers, body };
      calls.push(call);
      const [status, headers, text] = answer(call);
      res.writeHead(status, headers);
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

describe("JobsApi and RecordsGateway artifacts in a fresh Node process", () => {
  let db: LocalJobsTable;
  let lambda: Awaited<ReturnType<typeof endpoint>>;
  let secrets: Awaited<ReturnType<typeof endpoint>>;
  const hosts: LambdaHost[] = [];
  let processorArn: string;
  let secretArn: string;

  before(async () => {
    resetRecorded();
    const jobs = new JobsApi("art", { busArn: BUS, logRetentionDays: 7 });
    const gw = new RecordsGateway("artgw", {
      apiEndpoint: "https://records.example.com",
      apiKey: pulumi.secret(KEY),
      tiers: parseTiers({ standard: { rateLimit: 10, burstLimit: 20 } }),
      logRetentionDays: 7,
    });
    await valueOf(jobs.invokeUrl);
    await valueOf(gw.invokeUrl);
    await settle();
    processorArn = await valueOf(jobs.processFn.function.arn);
    secretArn = await valueOf(gw.secret.arn);

    db = await startJobsTable("art-jobs");
    lambda = await endpoint((c) => {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(c.path);
      const name = m ? decodeURIComponent(m[1]) : "";
      if (name !== processorArn) {
        return [
          404,
          { "Content-Type": "application/json", "x-amzn-ErrorType": "ResourceNotFoundException" },
          JSON.stringify({ Type: "User", message: `Function not found: ${name}` }),
        ];
      }
      return [202, { "x-amzn-RequestId": "r-1" }, ""];
    });
    secrets = await endpoint((c) => {
      const req = JSON.parse(c.body || "{}");
      if (
        c.headers["x-amz-target"] !== "secretsmanager.GetSecretValue" ||
        req.SecretId !== secretArn
      ) {
        return [
          400,
          { "Content-Type": "application/x-amz-json-1.1" },
          JSON.stringify({
            __type: "ResourceNotFoundException",
            message: "Secrets Manager can't find the specified secret.",
          }),
        ];
      }
      return [
        200,
        { "Content-Type": "application/x-amz-json-1.1" },
        JSON.stringify({
          ARN: secretArn,
          Name: "artgw-upstream-key",
          SecretString: KEY,
          VersionId: "v1",
        }),
      ];
    });
  });
  after(async () => {
    for (const h of hosts) await h.stop();
    await db?.stop();
    lambda?.server.close();
    secrets?.server.close();
  });

  const declaredEnv = (fn: string): Record<string, string> =>
    one("aws:lambda/function:Function", fn).inputs.environment.variables;

  it("packages the handlers without the AWS SDK", async () => {
    for (const fn of ["art-submit", "art-get", "art-process", "art-failed", "artgw-upstream-key"]) {
      const names = (await archiveEntries(functionArchives.get(fn)!)).map((e) => e.name);
      expect(names, fn).to.include("__index.js");
      expect(
        names.filter((n) => /@aws-sdk|@smithy|@pulumi/.test(n)),
        fn,
      ).to.deep.equal([]);
    }
  });

  it("runs the submit function from its archive: stores the job in DynamoDB and invokes the processor with Event", async () => {
    const env = declaredEnv("art-submit");
    expect(env).to.deep.equal({
      JOBS_TABLE: "art-jobs",
      JOBS_TTL_SECONDS: "604800",
      PROCESSOR_FUNCTION: processorArn,
    });
    const host = await LambdaHost.start(await materialize(functionArchives.get("art-submit")!), {
      env: { ...env, AWS_ENDPOINT_URL_DYNAMODB: db.url, AWS_ENDPOINT_URL_LAMBDA: lambda.url },
      functionName: "art-submit",
    });
    hosts.push(host);
    const res = await host.invoke(
      proxyEvent({
        body: JSON.stringify({ type: "checksum", input: { text: "abc" } }),
        headers: { "content-type": "application/json", "Idempotency-Key": "artifact-1" },
      }),
    );
    const { jobId } = JSON.parse(res.body);
    expect(res.statusCode).to.equal(202);
    expect(res.headers.Location).to.equal(`/v1/jobs/${jobId}`);
    const job = (await db.items()).find((i) => i.pk.S === jobId)!;
    expect(job.status).to.deep.equal({ S: "PENDING" });
    expect(lambda.calls.length).to.equal(1);
    expect(lambda.calls[0].headers["x-amz-invocation-type"]).to.equal("Event");
    // The request's correlation id (API Gateway's request id: no x-correlation-id was sent) goes along.
    expect(JSON.parse(lambda.calls[0].body)).to.deep.equal({
      jobId,
      type: "checksum",
      input: { text: "abc" },
      correlationId: "req-1",
    });
    // The retry with the same key is answered from DynamoDB without a second invoke.
    const again = await host.invoke(
      proxyEvent({
        body: JSON.stringify({ type: "checksum", input: { text: "abc" } }),
        headers: { "Idempotency-Key": "artifact-1" },
      }),
    );
    expect(JSON.parse(again.body)).to.deep.equal({ jobId });
    expect(lambda.calls.length).to.equal(1);
    const log = host.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((l) => l.message === "job accepted");
    expect(log).to.include({ level: "INFO", service: "jobs-submit", jobId, type: "checksum" });
  });

  it("runs the processor and GET from their archives against the same table", async () => {
    const [{ pk }] = (await db.items()).filter((i) => i.status?.S === "PENDING");
    const jobId = pk.S;
    const processor = await LambdaHost.start(
      await materialize(functionArchives.get("art-process")!),
      {
        env: { ...declaredEnv("art-process"), AWS_ENDPOINT_URL_DYNAMODB: db.url },
      },
    );
    const get = await LambdaHost.start(await materialize(functionArchives.get("art-get")!), {
      env: { ...declaredEnv("art-get"), AWS_ENDPOINT_URL_DYNAMODB: db.url },
    });
    hosts.push(processor, get);
    expect(
      await processor.invoke({ jobId, type: "checksum", input: { text: "abc" } }),
    ).to.deep.equal({ jobId, status: "SUCCEEDED" });
    const res = await get.invoke(
      proxyEvent({
        method: "GET",
        resource: "/jobs/{jobId}",
        path: `/jobs/${jobId}`,
        pathParameters: { jobId },
      }),
    );
    expect(res.statusCode).to.equal(200);
    expect(JSON.parse(res.body)).to.deep.include({
      status: "SUCCEEDED",
      result: {
        algorithm: "sha256",
        digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        bytes: 3,
      },
    });
  });

  it("runs the records gateway's authorizer from its archive: returns the key, logs neither key", async () => {
    const env = declaredEnv("artgw-upstream-key");
    expect(env).to.deep.equal({ UPSTREAM_KEY_SECRET_ARN: secretArn, SECRET_CACHE_SECONDS: "300" });
    const host = await LambdaHost.start(
      await materialize(functionArchives.get("artgw-upstream-key")!),
      {
        env: { ...env, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url },
      },
    );
    hosts.push(host);
    const event = {
      type: "REQUEST",
      methodArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:artgw-id/v1/POST/records`,
      headers: { "x-api-key": "consumer-key-in-artifact" },
      requestContext: { identity: { apiKey: "consumer-key-in-artifact" } },
    };
    const out = await host.invoke(event);
    await host.invoke(event);
    expect(out.context).to.deep.equal({ upstreamKey: KEY });
    expect(out.policyDocument.Statement[0].Resource).to.equal(
      `arn:aws:execute-api:${REGION}:${ACCOUNT}:artgw-id/v1/*`,
    );
    expect(secrets.calls.length).to.equal(1);
    expect(host.stdout).to.contain("upstream key attached");
    for (const secret of [KEY, "consumer-key-in-artifact"]) {
      expect(host.stdout).to.not.contain(secret);
      expect(host.stderr).to.not.contain(secret);
    }
  });
});
