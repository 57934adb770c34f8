// Delivery over TLS to a subscriber with a self-signed certificate for subscriber.test: the socket
// goes to the address the guard checked, and the certificate is still verified for the host name.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { Webhook } from "standardwebhooks";
import { postMessage } from "../../../handlers/outbound/deliver";
import { signStandard } from "../../../handlers/webhooks/providers/standard";

describe("outbound delivery over TLS", function () {
  this.timeout(30000);
  let server: https.Server;
  let port: number;
  let cert: string;
  const bodies: string[] = [];
  const headers: Record<string, string>[] = [];

  before(function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "outbound-tls-"));
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-keyout",
          path.join(dir, "key.pem"),
          "-out",
          path.join(dir, "cert.pem"),
          "-subj",
          "/CN=subscriber.test",
          "-addext",
          "subjectAltName=DNS:subscriber.test",
        ],
        { stdio: "ignore" },
      );
    } catch {
      // openssl makes the test certificate; without it there is no TLS subscriber to test against.
      this.skip();
    }
    cert = fs.readFileSync(path.join(dir, "cert.pem"), "utf8");
    server = https.createServer(
      { key: fs.readFileSync(path.join(dir, "key.pem")), cert },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c) => chunks.push(c));
        req.on("end", () => {
          bodies.push(Buffer.concat(chunks).toString("utf8"));
          headers.push(req.headers as Record<string, string>);
          res.writeHead(200).end("ok");
        });
      },
    );
    return new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", () => {
        port = (server.address() as AddressInfo).port;
        resolve();
      }),
    );
  });
  after(() => server?.close());

  const post = (host: string, body: string, extra: Record<string, string> = {}) =>
    postMessage({
      url: `https://${host}:${port}/hooks`,
      headers: { "content-type": "application/json", ...extra },
      body,
      timeoutMs: 5000,
      maxResponseBytes: 65536,
      snippetBytes: 1024,
      resolve: async () => [{ address: "127.0.0.1", family: 4 }],
      // loopback: the subscriber runs on this machine
      allowHttp: true,
      ca: cert,
    });

  it("verifies the certificate for the endpoint's host name while connecting to the checked address", async () => {
    const secret = "whsec_" + Buffer.alloc(32, 5).toString("base64");
    const body = JSON.stringify({ type: "X", timestamp: "2026-12-05T10:00:00Z", data: {} });
    const ts = Math.floor(Date.now() / 1000);
    const r = await post("subscriber.test", body, {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(ts),
      "webhook-signature": signStandard(secret, "msg_1", ts, body),
    });
    expect(r).to.include({
      ok: true,
      statusCode: 200,
      responseSnippet: "ok",
      address: "127.0.0.1",
    });
    expect(new Webhook(secret).verify(bodies[0], headers[0])).to.deep.equal(JSON.parse(body));
  });

  it("fails the attempt when the certificate is not for that host name", async () => {
    const r = await post("other.test", "{}");
    expect(r).to.include({ ok: false, failure: "connection" });
    expect(r.error).to.match(/altnames|does not match|Hostname/i);
    expect(bodies).to.have.length(1);
  });
});
