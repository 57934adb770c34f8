// GitHub's signature scheme against its published test vectors, then tampering, wrong and
// previous secrets, stale and future timestamps and missing headers; and the module's own
// signing verified and parsed by its spec.
import { expect } from "chai";
import * as crypto from "crypto";
import { PROVIDER_MODULE } from "../../../../handlers/webhooks/providers";
import { signGithub, verifyGithub } from "../../../../handlers/webhooks/providers/github";
import { asReceived, BAD, jsonBody, DOMAIN, NOW, OK0, OK1, req } from "./request";

describe("GitHub (X-Hub-Signature-256)", () => {
  const secret = "It's a Secret to Everybody";
  const sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

  it("reproduces and accepts GitHub's official test vector", () => {
    expect(signGithub(secret, "Hello, World!")).to.equal(sig);
    expect(
      verifyGithub(req("Hello, World!", { "x-hub-signature-256": sig }), [secret]),
    ).to.deep.equal(OK0);
  });

  it("rejects a tampered body, a wrong secret and a malformed header with 403", () => {
    expect(
      verifyGithub(req("Hello, World?", { "x-hub-signature-256": sig }), [secret]),
    ).to.deep.equal(BAD);
    expect(
      verifyGithub(req("Hello, World!", { "x-hub-signature-256": sig }), ["wrong"]),
    ).to.deep.equal(BAD);
    expect(
      verifyGithub(req("Hello, World!", { "x-hub-signature-256": sig.slice(0, -2) }), [secret]),
    ).to.deep.equal(BAD);
    expect(
      verifyGithub(
        req("Hello, World!", { "x-hub-signature-256": sig.replace("sha256=", "sha1=") }),
        [secret],
      ),
    ).to.deep.equal(BAD);
  });

  it("accepts the previous secret during a rotation and says which one matched", () => {
    expect(
      verifyGithub(req("Hello, World!", { "x-hub-signature-256": sig }), ["new-secret", secret]),
    ).to.deep.equal(OK1);
  });

  it("answers 401 when the signature header is missing", () => {
    expect(verifyGithub(req("Hello, World!", {}), [secret])).to.deep.equal({
      ok: false,
      status: 401,
      reason: "x-hub-signature-256 header is missing",
    });
  });

  it("verifies the exact bytes: a body that is not valid UTF-8", () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    expect(
      verifyGithub(req(bytes, { "x-hub-signature-256": signGithub(secret, bytes) }), [secret]),
    ).to.deep.equal(OK0);
    // The same bytes after a lossy UTF-8 round trip no longer verify.
    const lossy = Buffer.from(bytes.toString("utf8"), "utf8");
    expect(
      verifyGithub(req(lossy, { "x-hub-signature-256": signGithub(secret, bytes) }), [secret]),
    ).to.deep.equal(BAD);
  });

  it("through its module: signs the body; the delivery id is a label, the key the body's digest", () => {
    const m = PROVIDER_MODULE.github;
    const d = m.sign("gh-secret", {
      body: jsonBody("g"),
      contentType: "application/json",
      id: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      eventType: "pull_request",
      url: `https://${DOMAIN}/github`,
      nowSeconds: NOW,
    });
    const received = asReceived(d);
    expect(m.spec.verify(received, ["gh-secret"])).to.deep.equal({ ok: true, secretIndex: 0 });
    expect(m.spec.parse(received.body, received.headers, received.url)).to.deep.include({
      deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      replayKey: `sha256:${crypto.createHash("sha256").update(d.body).digest("hex")}`,
      eventType: "pull_request",
    });
  });
});
