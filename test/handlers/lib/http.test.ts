import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import { execFile } from "child_process";
import { promisify } from "util";
import { httpRequest } from "../../../handlers/lib/http";

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local server answering each request with `answer`; what it received is in `seen`. */
async function serve(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

describe("handlers/lib/http", () => {
  it("sends the method, headers and body, and answers status, headers, text and JSON", async () => {
    const s = await serve((_req, res) => {
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      res.writeHead(202, { "content-type": "application/json", "retry-after": "3" });
      res.end('{"accepted":"é"}');
    });
    try {
      const body = JSON.stringify({ recordId: "r-é" });
      const res = await httpRequest(`${s.url}/api/v1/records?x=1`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "k" },
        body,
      });
      expect(s.seen).to.have.length(1);
      expect(s.seen[0]).to.include({ method: "POST", url: "/api/v1/records?x=1", body });
      expect(s.seen[0].headers).to.include({
        "content-type": "application/json",
        "x-api-key": "k",
        "content-length": String(Buffer.byteLength(body)),
      });
      // The defaults: who calls, any type, no content coding.
      expect(s.seen[0].headers).to.include({
        "user-agent": "switchyard",
        accept: "*/*",
        "accept-encoding": "identity",
      });
      expect(res.ok).to.equal(true);
      expect(res.status).to.equal(202);
      expect(res.headers.get("Retry-After")).to.equal("3");
      expect(res.headers.get("set-cookie")).to.equal("a=1, b=2");
      expect(res.headers.get("x-missing")).to.equal(null);
      expect(await res.text()).to.equal('{"accepted":"é"}');
      expect(await res.json()).to.deep.equal({ accepted: "é" });
    } finally {
      await s.close();
    }
  });

  it("answers an error status as not ok, with its body", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("busy");
    });
    try {
      const res = await httpRequest(`${s.url}/`);
      expect(s.seen[0].method).to.equal("GET");
      expect([res.ok, res.status, await res.text()]).to.deep.equal([false, 503, "busy"]);
    } finally {
      await s.close();
    }
  });

  it("does not follow a redirect, so a key is never sent where it points", async () => {
    const elsewhere = await serve((_req, res) => res.end("took it"));
    const s = await serve((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/steal` });
      res.end();
    });
    try {
      const res = await httpRequest(`${s.url}/api/v1/records`, {
        method: "POST",
        headers: { "x-api-key": "secret" },
        body: "{}",
      });
      expect([res.ok, res.status, res.headers.get("location")]).to.deep.equal([
        false,
        307,
        `${elsewhere.url}/steal`,
      ]);
      expect(elsewhere.seen).to.have.length(0);
    } finally {
      await s.close();
      await elsewhere.close();
    }
  });

  it("lets the caller replace a default header, whatever the case of its name", async () => {
    const s = await serve((_req, res) => res.end("ok"));
    try {
      await httpRequest(`${s.url}/`, { headers: { "User-Agent": "records-ingestion/1" } });
      expect(s.seen[0].headers["user-agent"]).to.equal("records-ingestion/1");
      expect(s.seen[0].headers).to.include({ accept: "*/*" });
    } finally {
      await s.close();
    }
  });

  it("follows a GET's redirects when asked, as many as allowed, and never a POST's", async () => {
    const s = await serve((req, res) => {
      const hop = Number(req.url!.split("/")[1] || "0");
      if (hop < 3) {
        res.writeHead(hop % 2 ? 301 : 302, { location: `/${hop + 1}` });
        res.end();
      } else res.end(`arrived after ${hop}`);
    });
    try {
      const followed = await httpRequest(`${s.url}/0`, { redirects: 3 });
      expect([followed.status, await followed.text()]).to.deep.equal([200, "arrived after 3"]);
      const short = await httpRequest(`${s.url}/0`, { redirects: 2 });
      expect([short.status, short.headers.get("location")]).to.deep.equal([302, "/3"]);
      const post = await httpRequest(`${s.url}/0`, { method: "POST", body: "{}", redirects: 3 });
      expect(post.status).to.equal(302);
      expect(s.seen.map((x) => `${x.method} ${x.url}`)).to.deep.equal([
        "GET /0",
        "GET /1",
        "GET /2",
        "GET /3",
        "GET /0",
        "GET /1",
        "GET /2",
        "POST /0",
      ]);
    } finally {
      await s.close();
    }
  });

  it("sends a request again, once, when the kept-alive connection it reused was closed", async () => {
    // The second request on the first connection finds it reset, as one the server closed while
    // it sat idle in the pool (a frozen Lambda environment) is found.
    const sockets: unknown[] = [];
    const s = await serve((req, res) => {
      if (!sockets.includes(req.socket)) sockets.push(req.socket);
      if (req.url === "/second" && sockets.indexOf(req.socket) === 0) req.socket.destroy();
      else res.end(`on connection ${sockets.indexOf(req.socket)}`);
    });
    try {
      const first = await httpRequest(`${s.url}/first`);
      expect(await first.text()).to.equal("on connection 0");
      const second = await httpRequest(`${s.url}/second`, { method: "POST", body: "{}" });
      expect([second.status, await second.text()]).to.deep.equal([200, "on connection 1"]);
      expect(s.seen.map((x) => x.url)).to.deep.equal(["/first", "/second", "/second"]);
    } finally {
      await s.close();
    }
  });

  it("rejects with the signal's TimeoutError when the answer does not come in time", async () => {
    const s = await serve(() => undefined);
    try {
      const started = Date.now();
      const e = await rejection(httpRequest(`${s.url}/`, { signal: AbortSignal.timeout(100) }));
      expect(e.name).to.equal("TimeoutError");
      // Timers start from the event loop's cached time, which can lag the clock a little.
      expect(Date.now() - started).to.be.within(50, 2000);
    } finally {
      await s.close();
    }
  });

  it("rejects when the answer's body stops short, and when its body takes too long", async () => {
    const s = await serve((req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
      if (req.url === "/cut") setTimeout(() => res.destroy(), 20);
    });
    try {
      const cut = await rejection(httpRequest(`${s.url}/cut`));
      expect(cut.message).to.match(/closed before the answer ended|aborted|socket hang up/);
      const slow = await rejection(
        httpRequest(`${s.url}/slow`, { signal: AbortSignal.timeout(100) }),
      );
      expect(slow.name).to.equal("TimeoutError");
    } finally {
      await s.close();
    }
  });

  it("rejects a refused connection, an aborted signal and a URL it cannot request", async () => {
    const refused = await rejection(httpRequest("http://127.0.0.1:1/"));
    expect((refused as NodeJS.ErrnoException).code).to.equal("ECONNREFUSED");
    const c = new AbortController();
    c.abort(new Error("given up"));
    expect(
      (await rejection(httpRequest("http://127.0.0.1:1/", { signal: c.signal }))).message,
    ).to.equal("given up");
    expect((await rejection(httpRequest("not a url"))).name).to.equal("TypeError");
    expect((await rejection(httpRequest("file:///etc/passwd"))).message).to.equal(
      "only http and https URLs can be requested, not file:///etc/passwd",
    );
  });

  it("loads neither fetch nor undici in the process that uses it", async () => {
    // The point of this client: a cold function that calls the records API does not pay for
    // undici. A fresh process, so that nothing this test run loaded counts.
    const s = await serve((_req, res) => res.end("ok"));
    try {
      const script = `
        require("ts-node/register/transpile-only");
        const { httpRequest } = require(${JSON.stringify(require.resolve("../../../handlers/lib/http"))});
        httpRequest(process.argv[1]).then(async (r) => {
          await r.text();
          const loaded = process.moduleLoadList.filter((m) => /undici|fetch/i.test(m));
          process.stdout.write(JSON.stringify({ status: r.status, loaded }));
        });`;
      const out = await promisify(execFile)(process.execPath, ["-e", script, `${s.url}/`]);
      expect(JSON.parse(out.stdout)).to.deep.equal({ status: 200, loaded: [] });
    } finally {
      await s.close();
    }
  });
});
