import { expect } from "chai";
import * as http from "http";
import * as net from "net";
import { AddressInfo } from "net";
import { guardServer, HttpError, malformedTarget, readRequestBody } from "../../local/httpEvents";

// guardServer on its own, with short client timeouts: what each failure is answered with.
function raw(port: number, parts: Array<string | number>, waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let out = "";
    const timer = setTimeout(() => s.destroy(), waitMs);
    s.on("data", (d) => (out += d.toString()));
    s.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on("error", () => undefined);
    s.once("connect", async () => {
      for (const p of parts) {
        if (typeof p === "number") await new Promise((r) => setTimeout(r, p));
        else if (!s.destroyed) s.write(p);
      }
    });
  });
}

describe("local servers' guard: limits and errors as responses", function () {
  this.timeout(30_000);
  let server: http.Server;
  let port: number;
  const logged: string[] = [];

  before(async () => {
    server = http.createServer(async (req, res) => {
      const body = await readRequestBody(req);
      if (req.url === "/throw") throw new Error("handler bug");
      if (req.url === "/reject") throw new HttpError(409, "already exists", "ConflictException");
      if (req.url?.startsWith("/decode/")) decodeURIComponent(req.url.slice(8).replace("~", "%"));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ bytes: body.length }));
    });
    guardServer(server, {
      name: "test server",
      maxBodyBytes: 1000,
      errorStyle: "apiGateway",
      timeouts: { headersTimeoutMs: 500, requestTimeoutMs: 1000, checkIntervalMs: 100 },
      log: (l) => logged.push(l),
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it("names what is wrong with a request target", () => {
    expect(malformedTarget("/v1/jobs/%E0%A4%A")).to.match(/malformed percent-encoding "%A"/);
    expect(malformedTarget("/a?b=%zz")).to.match(/percent-encoding "%zz"/);
    expect(malformedTarget("/%FF")).to.match(/not UTF-8/);
    expect(malformedTarget("/v1/jobs/a%20b?x=%2F")).to.equal(undefined);
  });

  it("answers 400 with the reason to malformed percent-encoding, in API Gateway's shape", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/jobs/%E0%A4%A`);
    expect(res.status).to.equal(400);
    expect(res.headers.get("x-amzn-errortype")).to.equal("BadRequestException");
    expect(((await res.json()) as { message: string }).message).to.match(/percent-encoding/);
  });

  it("answers 408 to a client that trickles its headers past the headers timeout", async () => {
    const started = Date.now();
    const out = await raw(port, ["GET / HTTP/1.1\r\n", ...Array(20).fill([100, "X"]).flat()]);
    expect(out).to.match(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).to.be.below(2500);
  });

  it("answers 408 to a connection that sends nothing, once the headers timeout has passed", async () => {
    const started = Date.now();
    expect(await raw(port, [])).to.match(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).to.be.below(2000);
  });

  it("answers 408 to a body that does not arrive within the request timeout", async () => {
    const out = await raw(port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"]);
    expect(out).to.match(/^HTTP\/1\.1 408 /);
  });

  it("answers 413 to a declared or counted body over the limit, and 431 to huge headers", async () => {
    const declared = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      body: "x".repeat(1001),
    });
    expect(declared.status).to.equal(413);
    const counted = await raw(port, [
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      `800\r\n${"x".repeat(0x800)}\r\n`,
    ]);
    expect(counted).to.match(/^HTTP\/1\.1 413 /);
    const headers = await raw(port, [`GET / HTTP/1.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`]);
    expect(headers).to.match(/^HTTP\/1\.1 431 /);
  });

  it("turns a handler's error into 500 (logged), its HttpError into its status, a URIError into 400", async () => {
    const bug = await fetch(`http://127.0.0.1:${port}/throw`);
    expect(bug.status).to.equal(500);
    expect(
      logged.some((l) => /test server: GET \/throw failed: Error: handler bug/.test(l)),
    ).to.equal(true);
    const conflict = await fetch(`http://127.0.0.1:${port}/reject`);
    expect(conflict.status).to.equal(409);
    expect(conflict.headers.get("x-amzn-errortype")).to.equal("ConflictException");
    const decode = await fetch(`http://127.0.0.1:${port}/decode/~E0`);
    expect(decode.status).to.equal(400);
  });

  it("survives a client that goes away mid-body, and keeps answering", async () => {
    for (let i = 0; i < 20; i++) {
      await raw(port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{{{", 5], 20);
    }
    const ok = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" });
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.deep.equal({ bytes: 2 });
  });
});
