// The local endpoint verifies SigV4 the way AWS does: whatever standard signer made the signature
// (botocore's SigV4Auth, @smithy/signature-v4 inside the AWS SDK, an awscurl-style signer written
// from AWS's signing documentation), the canonical request is rebuilt from the request as received
// with the hash of the body actually received. Error codes per protocol follow AWS's common errors
// (JSON: InvalidSignatureException, UnrecognizedClientException; query: SignatureDoesNotMatch;
// S3: SignatureDoesNotMatch, XAmzContentSHA256Mismatch).
import { expect } from "chai";
import { execFile } from "child_process";
import { createHash } from "crypto";
import * as http from "http";
import { AddressInfo } from "net";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { SignatureV4 } from "@smithy/signature-v4";
import { AwsError, createAwsEndpoint } from "../../local/awsEndpoint";
import {
  canonicalUri,
  executeApiSigner,
  LOCAL_CALLER_CREDENTIALS,
  Sha256,
  verifySigV4,
} from "../../local/sigv4";

const REGION = "eu-west-1";
const local = { accessKeyId: "local", secretAccessKey: "local" };
const PUT_EVENTS = JSON.stringify({
  Entries: [{ Source: "app.orders", DetailType: "OrderPlaced", Detail: '{"id":"o-1"}' }],
});

/** Runs a Python snippet (botocore is on this machine) without blocking the endpoint's loop. */
function python(script: string, args: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) =>
    execFile("python3", ["-c", script, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      const [status, ...rest] = stdout.split("\n");
      resolve({ status: Number(status), body: rest.join("\n").trim() });
    }),
  );
}

const SEND = `
import urllib.request, urllib.error
def send(method, url, headers, body):
    r = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        resp = urllib.request.urlopen(r)
        print(resp.status); print(resp.read().decode())
    except urllib.error.HTTPError as e:
        print(e.code); print(e.read().decode())
`;

/** botocore's own signer: SigV4Auth (S3SigV4Auth for s3), then the body optionally swapped. */
const BOTOCORE = `${SEND}
import sys, hashlib
from botocore.auth import SigV4Auth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
method, url, service, body, sent, headers = sys.argv[1:7]
hdrs = dict(h.split(": ", 1) for h in headers.split("\\n") if h)
req = AWSRequest(method=method, url=url, data=body.encode(), headers=hdrs)
(S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials("local", "local"), service, "${REGION}").add_auth(req)
p = req.prepare()
send(method, p.url, dict(p.headers), sent.encode() if sent else p.body)
`;

/**
 * awscurl-style: the canonical request, string to sign and signing key built by hand from AWS's
 * SigV4 documentation (hashlib and hmac only), x-amz-content-sha256 signed, a query string too.
 */
const HAND_SIGNED = `${SEND}
import sys, hashlib, hmac, datetime, urllib.parse
method, url, service, body, target = sys.argv[1:6]
u = urllib.parse.urlsplit(url)
now = datetime.datetime.now(datetime.timezone.utc)
amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
payload = hashlib.sha256(body.encode()).hexdigest()
headers = {"host": u.netloc, "x-amz-date": amz, "x-amz-content-sha256": payload, "content-type": "application/json"}
if target: headers["x-amz-target"] = target
names = sorted(headers)
pairs = sorted(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
query = "&".join(urllib.parse.quote(k, safe="-_.~") + "=" + urllib.parse.quote(v, safe="-_.~") for k, v in pairs)
canonical = "\\n".join([method, urllib.parse.quote(u.path or "/", safe="/-_.~"), query,
    "".join(n + ":" + headers[n].strip() + "\\n" for n in names), ";".join(names), payload])
scope = day + "/${REGION}/" + service + "/aws4_request"
to_sign = "\\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canonical.encode()).hexdigest()])
k = ("AWS4" + "local").encode()
for part in (day, "${REGION}", service, "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=local/" + scope + ", SignedHeaders=" + ";".join(names) + ", Signature=" + sig
send(method, url, headers, body.encode())
`;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

describe("local endpoint: SigV4 verified as AWS verifies it", function () {
  this.timeout(120_000);
  let server: http.Server;
  let url: string;
  let port: number;
  const seen: string[] = [];

  before(async () => {
    server = createAwsEndpoint({
      dynamodbUrl: "http://127.0.0.1:9",
      putEvents: async (entries) => {
        seen.push(`PutEvents ${JSON.stringify(entries)}`);
        return {
          FailedEntryCount: 0,
          Entries: (entries as unknown[]).map(() => ({ EventId: "e" })),
        };
      },
      getSecretValue: async () => {
        throw new AwsError("ResourceNotFoundException", "no secrets here");
      },
      snsPublish: async (a) => {
        seen.push(`Publish ${a.Message}`);
        return "m-1";
      },
      sqsSendMessage: async () => "q-1",
      startExecution: async () => ({ executionArn: "x", startDate: 0 }),
      invokeLambda: async (name, payload) => {
        seen.push(`Invoke ${name} ${payload}`);
        return { status: 200, payload: JSON.stringify({ ok: true }) };
      },
      s3Put: async (bucket, key, body) => {
        seen.push(`PutObject ${bucket}/${key} ${body.toString()}`);
        return sha256(body.toString());
      },
      s3Get: async () => ({ body: Buffer.from("hello"), etag: "e" }),
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
    url = `http://127.0.0.1:${port}`;
  });
  after(() => new Promise((r) => server.close(r)));
  beforeEach(() => (seen.length = 0));

  const smithy = (service: string, secretAccessKey = "local", s3 = false, applyChecksum = true) =>
    new SignatureV4({
      credentials: { accessKeyId: "local", secretAccessKey },
      region: REGION,
      service,
      sha256: Sha256 as any,
      uriEscapePath: !s3,
      applyChecksum,
    });

  /** Signs with @smithy/signature-v4, then sends `sent` (default: the signed body). */
  async function smithySend(o: {
    service: string;
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    sent?: string;
    secret?: string;
    signingDate?: Date;
    /** Whether the signer adds x-amz-content-sha256 itself (it does by default). */
    applyChecksum?: boolean;
  }) {
    const method = o.method ?? "POST";
    const signer = smithy(o.service, o.secret, o.service === "s3", o.applyChecksum);
    const signed = (await signer.sign(
      {
        method,
        protocol: "http:",
        hostname: "127.0.0.1",
        port,
        path: o.path ?? "/",
        query: {},
        headers: { host: `127.0.0.1:${port}`, ...o.headers },
        body: o.body,
      } as any,
      { signingDate: o.signingDate },
    )) as unknown as { headers: Record<string, string> };
    const res = await fetch(`${url}${o.path ?? "/"}`, {
      method,
      headers: signed.headers,
      body: method === "GET" ? undefined : (o.sent ?? o.body),
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  const eventsHeaders = {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": "AWSEvents.PutEvents",
  };

  it("passes what the AWS SDK signs (@smithy/signature-v4), path labels double-encoded included", async () => {
    const events = new EventBridgeClient({ endpoint: url, region: REGION, credentials: local });
    const out = await events.send(new PutEventsCommand(JSON.parse(PUT_EVENTS)));
    expect(out.FailedEntryCount).to.equal(0);
    const lambda = new LambdaClient({ endpoint: url, region: REGION, credentials: local });
    const inv = await lambda.send(
      new InvokeCommand({
        FunctionName: `arn:aws:lambda:${REGION}:123456789012:function:fn:live`,
        Payload: Buffer.from('{"a b":"c/d"}'),
      }),
    );
    expect(inv.StatusCode).to.equal(200);
    expect(seen[1]).to.equal(
      `Invoke arn:aws:lambda:${REGION}:123456789012:function:fn:live {"a b":"c/d"}`,
    );
  });

  it("passes botocore's SigV4Auth (JSON, query and S3 protocols)", async () => {
    const events = await python(BOTOCORE, [
      "POST",
      url,
      "events",
      PUT_EVENTS,
      "",
      "Content-Type: application/x-amz-json-1.1\nX-Amz-Target: AWSEvents.PutEvents",
    ]);
    expect(events.status, events.body).to.equal(200);
    const sns = await python(BOTOCORE, [
      "POST",
      url,
      "sns",
      "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A1%3At&Message=hi%20there",
      "",
      "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
    ]);
    expect(sns.status, sns.body).to.equal(200);
    const s3 = await python(BOTOCORE, ["PUT", `${url}/bucket-1/a%20b/c.json`, "s3", "{}", "", ""]);
    expect(s3.status, s3.body).to.equal(200);
    expect(seen).to.include("Publish hi there");
    expect(seen).to.include("PutObject bucket-1/a b/c.json {}");
  });

  it("passes an awscurl-style signer written from AWS's documentation, with a query string", async () => {
    const out = await python(HAND_SIGNED, [
      "POST",
      `${url}/2015-03-31/functions/fn/invocations?Qualifier=%24LATEST&b=x%20y&a=`,
      "lambda",
      '{"k":1}',
      "",
    ]);
    expect(out.status, out.body).to.equal(200);
    expect(seen).to.deep.equal(['Invoke fn {"k":1}']);
    const events = await python(HAND_SIGNED, [
      "POST",
      url,
      "events",
      PUT_EVENTS,
      "AWSEvents.PutEvents",
    ]);
    expect(events.status, events.body).to.equal(200);
  });

  it("refuses a body that is not the one signed: 403 with the protocol's signature error", async () => {
    const tampered = PUT_EVENTS.replace("o-1", "o-2");
    const boto = await python(BOTOCORE, [
      "POST",
      url,
      "events",
      PUT_EVENTS,
      tampered,
      "Content-Type: application/x-amz-json-1.1\nX-Amz-Target: AWSEvents.PutEvents",
    ]);
    expect(boto.status).to.equal(403);
    expect(JSON.parse(boto.body)).to.deep.equal({
      __type: "InvalidSignatureException",
      message:
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    });
    // A signed x-amz-content-sha256 naming the original body does not vouch for another one.
    const claimed = await smithySend({
      service: "events",
      headers: { ...eventsHeaders, "x-amz-content-sha256": sha256(PUT_EVENTS) },
      body: PUT_EVENTS,
      sent: tampered,
    });
    expect(claimed.status).to.equal(403);
    expect(claimed.headers.get("x-amzn-errortype")).to.equal("InvalidSignatureException");
    const sns = await python(BOTOCORE, [
      "POST",
      url,
      "sns",
      "Action=Publish&TopicArn=t&Message=aaaa",
      "Action=Publish&TopicArn=t&Message=bbbb",
      "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
    ]);
    expect(sns.status).to.equal(403);
    expect(sns.body).to.contain("<Code>SignatureDoesNotMatch</Code>");
    expect(seen).to.deep.equal([]);
  });

  it("handles x-amz-content-sha256 as S3 does, and UNSIGNED-PAYLOAD only where the service takes it", async () => {
    const put = (headers: Record<string, string>, sent?: string, applyChecksum = true) =>
      smithySend({
        service: "s3",
        method: "PUT",
        path: "/bucket-1/k.txt",
        headers,
        body: "data",
        sent,
        applyChecksum,
      });
    expect((await put({ "x-amz-content-sha256": "UNSIGNED-PAYLOAD" }, "other")).status).to.equal(
      200,
    );
    expect((await put({ "x-amz-content-sha256": sha256("data") })).status).to.equal(200);
    const mismatch = await put({ "x-amz-content-sha256": sha256("data") }, "datb");
    expect(mismatch.status).to.equal(400);
    expect(mismatch.text).to.contain("<Code>XAmzContentSHA256Mismatch</Code>");
    const missing = await put({}, undefined, false);
    expect(missing.status).to.equal(400);
    expect(missing.text).to.contain("<Code>InvalidRequest</Code>");
    // EventBridge hashes the body it receives: a request signed with UNSIGNED-PAYLOAD fails.
    const unsigned = await smithySend({
      service: "events",
      headers: { ...eventsHeaders, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
      body: PUT_EVENTS,
    });
    expect(unsigned.status).to.equal(403);
    expect(seen).to.deep.equal(["PutObject bucket-1/k.txt other", "PutObject bucket-1/k.txt data"]);
  });

  it("refuses a wrong secret, an unknown key, a stale date and another service's scope", async () => {
    const wrong = await smithySend({
      service: "events",
      headers: eventsHeaders,
      body: PUT_EVENTS,
      secret: "nope",
    });
    expect([wrong.status, wrong.headers.get("x-amzn-errortype")]).to.deep.equal([
      403,
      "InvalidSignatureException",
    ]);
    const stranger = new EventBridgeClient({
      endpoint: url,
      region: REGION,
      credentials: { accessKeyId: "AKIASTRANGER", secretAccessKey: "x" },
      maxAttempts: 1,
    });
    try {
      await stranger.send(new PutEventsCommand(JSON.parse(PUT_EVENTS)));
      expect.fail("an unknown access key must be refused");
    } catch (e: any) {
      expect([e.name, e.$metadata.httpStatusCode, e.message]).to.deep.equal([
        "UnrecognizedClientException",
        403,
        "The security token included in the request is invalid.",
      ]);
    }
    const stale = await smithySend({
      service: "events",
      headers: eventsHeaders,
      body: PUT_EVENTS,
      signingDate: new Date(Date.now() - 10 * 60_000),
    });
    expect(stale.status).to.equal(403);
    expect(JSON.parse(stale.text).message).to.match(
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    );
    const scoped = await smithySend({ service: "sqs", headers: eventsHeaders, body: PUT_EVENTS });
    expect(scoped.status).to.equal(403);
    expect(JSON.parse(scoped.text).message).to.contain(
      "Credential should be scoped to correct service: 'events'.",
    );
    expect(seen).to.deep.equal([]);
  });

  it("verifies presigned (query-auth) S3 URLs", async () => {
    const presigned = await smithy("s3", "local", true).presign(
      {
        method: "GET",
        protocol: "http:",
        hostname: "127.0.0.1",
        port,
        path: "/bucket-1/k.txt",
        query: {},
        // As @aws-sdk/s3-request-presigner does: S3 presigned URLs sign UNSIGNED-PAYLOAD.
        headers: { host: `127.0.0.1:${port}`, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
      } as any,
      { expiresIn: 300 },
    );
    const q = new URLSearchParams(presigned.query as Record<string, string>).toString();
    const ok = await fetch(`${url}/bucket-1/k.txt?${q}`);
    expect([ok.status, await ok.text()]).to.deep.equal([200, "hello"]);
    const other = await fetch(`${url}/bucket-1/other.txt?${q}`);
    expect(other.status).to.equal(403);
    expect(await other.text()).to.contain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("verifies execute-api requests as the jobs API's IAM auth needs: the demo's signer passes, a tampered body fails", async () => {
    // A server that only verifies, as the local API Gateway can with verifySigV4.
    const verdicts: unknown[] = [];
    const api = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const v = verifySigV4(
          {
            method: req.method!,
            url: req.url!,
            rawHeaders: req.rawHeaders,
            body: Buffer.concat(chunks),
          },
          {
            secretFor: (id) =>
              id === LOCAL_CALLER_CREDENTIALS.accessKeyId
                ? LOCAL_CALLER_CREDENTIALS.secretAccessKey
                : undefined,
            service: "execute-api",
          },
        );
        verdicts.push(v);
        res.writeHead(v?.ok ? 200 : 403).end();
      });
    });
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
    const apiPort = api.address() as AddressInfo;
    try {
      const body = JSON.stringify({ type: "checksum", input: { text: "hi" } });
      const signed = (await executeApiSigner(REGION).sign({
        method: "POST",
        protocol: "http:",
        hostname: "127.0.0.1",
        port: apiPort.port,
        path: "/dev/v1/jobs",
        query: { "page size": "10" },
        headers: {
          host: `127.0.0.1:${apiPort.port}`,
          "content-type": "application/json",
          "x-amz-content-sha256": sha256(body),
        },
        body,
      } as any)) as unknown as { headers: Record<string, string> };
      const send = (b: string) =>
        fetch(`http://127.0.0.1:${apiPort.port}/dev/v1/jobs?page%20size=10`, {
          method: "POST",
          headers: signed.headers,
          body: b,
        });
      expect((await send(body)).status).to.equal(200);
      expect((await send(body.replace("hi", "ho"))).status).to.equal(403);
      expect(verdicts[1]).to.deep.include({ ok: false, fault: "SignatureMismatch" });
    } finally {
      await new Promise((r) => api.close(r));
    }
  });

  it("serves an unsigned request (a local convenience) and builds canonical URIs as the signers do", async () => {
    const res = await fetch(url, { method: "POST", headers: eventsHeaders, body: PUT_EVENTS });
    expect(res.status).to.equal(200);
    expect(canonicalUri("/a/./b//c/../d%3A1/", false)).to.equal("/a/b/d%253A1/");
    expect(canonicalUri("/bucket/a%20b/c", true)).to.equal("/bucket/a%20b/c");
    expect(
      verifySigV4(
        { method: "GET", url: "/", rawHeaders: ["Host", "x"], body: Buffer.alloc(0) },
        { secretFor: () => "x" },
      ),
    ).to.equal(undefined);
  });
});
