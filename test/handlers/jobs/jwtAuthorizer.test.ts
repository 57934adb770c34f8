// The JWT token authorizer against a local JWKS endpoint (real HTTP, real RS256 signatures).
import { expect } from "chai";
import { createHmac, createSign, generateKeyPairSync, KeyObject } from "crypto";
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { makeHandler } from "../../../handlers/jobs/jwtAuthorizer";
import { captureLogger } from "./localJobs";

const METHOD_ARN =
  "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/jobs/0f0e0d0c-0b0a-4000-8000-000000000aaa";
const ISSUER = "https://issuer.example.com/";
const AUDIENCE = "switchyard-jobs";
const NOW = Date.parse("2026-11-21T10:00:00Z");

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

function sign(
  key: KeyObject,
  kid: string,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const head = b64({ alg: "RS256", typ: "JWT", kid, ...header });
  const body = b64(claims);
  const sig = createSign("RSA-SHA256").update(`${head}.${body}`).sign(key).toString("base64url");
  return `${head}.${body}.${sig}`;
}

describe("handlers/jobs/jwtAuthorizer", () => {
  const k1 = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const k2 = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
  let server: Server;
  let url: string;
  let published: Array<{ kid: string; key: KeyObject }>;
  let fetches = 0;
  let clock = NOW;

  const claims = (o: Record<string, unknown> = {}) => ({
    iss: ISSUER,
    aud: [AUDIENCE, "other"],
    sub: "client-42",
    scope: "jobs:write",
    exp: NOW / 1000 + 300,
    nbf: NOW / 1000 - 10,
    ...o,
  });

  function handler(logger = captureLogger().logger, jwksUrl = url, jwksTimeoutMs?: number) {
    const saved = { ...process.env };
    Object.assign(process.env, {
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWKS_URL: jwksUrl,
      JWKS_CACHE_SECONDS: "3600",
    });
    try {
      return makeHandler({ logger, now: () => clock, jwksTimeoutMs });
    } finally {
      process.env = saved;
    }
  }
  const call = (h: ReturnType<typeof makeHandler>, token: string) =>
    h({ type: "TOKEN", authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN });

  before(async () => {
    published = [{ kid: "k1", key: k1.publicKey }];
    server = createServer((req, res) => {
      // The issuer's old address redirects to where its JWKS now is.
      if (req.url === "/old/jwks.json") {
        res.writeHead(301, { location: "/.well-known/jwks.json" });
        return void res.end();
      }
      fetches++;
      res.setHeader("Content-Type", "application/json");
      res.end(
        JSON.stringify({
          keys: published.map((p) => ({
            ...p.key.export({ format: "jwk" }),
            kid: p.kid,
            use: "sig",
            alg: "RS256",
          })),
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    fetches = 0;
    clock = NOW;
    published = [{ kid: "k1", key: k1.publicKey }];
  });

  it("allows a valid token on exactly the two job routes of the stage, with the subject as principal", async () => {
    const out = await call(handler(), sign(k1.privateKey, "k1", claims()));
    expect(out).to.deep.equal({
      principalId: "client-42",
      policyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "execute-api:Invoke",
            Resource: [
              "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/POST/jobs",
              "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/jobs/*",
            ],
          },
        ],
      },
      context: { sub: "client-42", scope: "jobs:write" },
    });
  });

  const rejected: Array<[string, () => string]> = [
    [
      "a wrong issuer",
      () => sign(k1.privateKey, "k1", claims({ iss: "https://evil.example.com/" })),
    ],
    ["a wrong audience", () => sign(k1.privateKey, "k1", claims({ aud: "someone-else" }))],
    [
      "an expired token (beyond 60 s skew)",
      () => sign(k1.privateKey, "k1", claims({ exp: NOW / 1000 - 61 })),
    ],
    ["a token not yet valid", () => sign(k1.privateKey, "k1", claims({ nbf: NOW / 1000 + 120 }))],
    ["a token without exp", () => sign(k1.privateKey, "k1", claims({ exp: undefined }))],
    ["a token without sub", () => sign(k1.privateKey, "k1", claims({ sub: undefined }))],
    ["a signature by another key", () => sign(other.privateKey, "k1", claims())],
    [
      "a tampered payload",
      () => {
        const [h, , s] = sign(k1.privateKey, "k1", claims()).split(".");
        return `${h}.${b64(claims({ sub: "admin" }))}.${s}`;
      },
    ],
    ["alg none", () => `${b64({ alg: "none", kid: "k1" })}.${b64(claims())}.`],
    [
      "HS256 keyed with the public key (algorithm confusion)",
      () => {
        const head = b64({ alg: "HS256", kid: "k1" });
        const body = b64(claims());
        const pem = k1.publicKey.export({ type: "spki", format: "pem" });
        return `${head}.${body}.${createHmac("sha256", pem).update(`${head}.${body}`).digest("base64url")}`;
      },
    ],
    ["an unknown kid", () => sign(k1.privateKey, "nope", claims())],
    ["garbage", () => "a.b.c"],
  ];
  for (const [what, token] of rejected) {
    it(`rejects ${what} with "Unauthorized" (API Gateway's 401)`, async () => {
      try {
        await call(handler(), token());
        expect.fail("should reject");
      } catch (e: any) {
        expect(e.message).to.equal("Unauthorized");
      }
    });
  }

  it("rejects a missing or non-Bearer header and never logs the token", async () => {
    const { lines, logger } = captureLogger();
    const h = handler(logger);
    const token = sign(k1.privateKey, "k1", claims({ iss: "wrong" }));
    for (const header of ["", "Basic dXNlcjpwYXNz", `bearer ${token}`, `Bearer ${token}`]) {
      try {
        await h({ type: "TOKEN", authorizationToken: header, methodArn: METHOD_ARN });
        expect.fail("should reject");
      } catch (e: any) {
        expect(e.message).to.equal("Unauthorized");
      }
    }
    expect(lines.map((l) => JSON.parse(l).reason)).to.deep.equal([
      "no Bearer token",
      "no Bearer token",
      "no Bearer token",
      "wrong issuer",
    ]);
    expect(lines.join("\n")).to.not.contain(token.split(".")[2]);
  });

  it("caches the JWKS, and refetches it for a new kid (key rotation) at most once a minute", async () => {
    const h = handler();
    await call(h, sign(k1.privateKey, "k1", claims()));
    await call(h, sign(k1.privateKey, "k1", claims()));
    expect(fetches).to.equal(1);
    published = [
      { kid: "k1", key: k1.publicKey },
      { kid: "k2", key: k2.publicKey },
    ];
    // Within a minute of the last fetch, an unknown kid is refused without refetching.
    clock = NOW + 30_000;
    try {
      await call(h, sign(k2.privateKey, "k2", claims()));
      expect.fail("should reject");
    } catch (e: any) {
      expect(e.message).to.equal("Unauthorized");
    }
    expect(fetches).to.equal(1);
    clock = NOW + 61_000;
    expect((await call(h, sign(k2.privateKey, "k2", claims()))).principalId).to.equal("client-42");
    expect(fetches).to.equal(2);
  });

  it("follows the JWKS URL's redirects, and gives up on an issuer that does not answer", async () => {
    const moved = url.replace("/.well-known/jwks.json", "/old/jwks.json");
    const out = await call(handler(undefined, moved), sign(k1.privateKey, "k1", claims()));
    expect(out.policyDocument.Statement[0].Effect).to.equal("Allow");
    expect(fetches).to.equal(1);
    // An issuer that takes the connection and never answers: the read ends at its timeout, and
    // the authorizer fails as it fails on any error of its own, logging why.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const started = Date.now();
      const { logger, lines } = captureLogger();
      const h = handler(
        logger,
        `http://127.0.0.1:${(silent.address() as AddressInfo).port}/jwks`,
        300,
      );
      const err = await call(h, sign(k1.privateKey, "k1", claims())).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.equal("Unauthorized");
      expect(Date.now() - started).to.be.within(250, 3000);
      expect(lines.map((l) => JSON.parse(l))).to.deep.equal([
        {
          level: "ERROR",
          message: "authorizer failure",
          error: "The operation was aborted due to timeout",
        },
      ]);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("fails at cold start naming a missing variable", () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWKS_CACHE_SECONDS: "60",
    });
    delete process.env.JWKS_URL;
    try {
      expect(() => makeHandler({})).to.throw("JWKS_URL is not set");
    } finally {
      process.env = saved;
    }
  });
});
