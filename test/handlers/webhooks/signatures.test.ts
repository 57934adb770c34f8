// Each signature scheme against its provider's published test vectors, then tampering, wrong and
// previous secrets, stale and future timestamps and missing headers.
import { expect } from "chai";
import * as crypto from "crypto";
import { signGithub, verifyGithub } from "../../../handlers/webhooks/providers/github";
import {
  hmacRequestHeaders,
  signHmac,
  signHmacBody,
  verifyHmac,
  verifyHmacBody,
} from "../../../handlers/webhooks/providers/hmac";
import { SignedRequest, Verdict } from "../../../handlers/webhooks/signature";
import {
  signStandard,
  standardKey,
  verifyStandard,
} from "../../../handlers/webhooks/providers/standard";
import { signStripe, verifyStripe } from "../../../handlers/webhooks/providers/stripe";
import { parseForm } from "../../../handlers/webhooks/providers/module";
import { signTwilio, urlVariants, verifyTwilio } from "../../../handlers/webhooks/providers/twilio";

const NOW = 1_800_000_000;

function req(
  body: string | Buffer,
  headers: Record<string, string>,
  extra: Partial<SignedRequest> = {},
): SignedRequest {
  return {
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8"),
    headers,
    url: "https://example.lambda-url.eu-west-1.on.aws/x",
    nowSeconds: NOW,
    toleranceSeconds: 300,
    ...extra,
  };
}

const OK0: Verdict = { ok: true, secretIndex: 0 };
const OK1: Verdict = { ok: true, secretIndex: 1 };
const BAD: Verdict = { ok: false, status: 403, reason: "signature does not match" };

describe("webhook signature schemes", () => {
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
  });

  describe("Twilio (X-Twilio-Signature)", () => {
    // twilio-python / twilio-php / twilio-csharp RequestValidator test vectors (auth token 12345).
    const token = "12345";
    const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const params = {
      CallSid: "CA1234567890ABCDE",
      Caller: "+14158675309",
      Digits: "1234",
      From: "+14158675309",
      To: "+18005551212",
    };
    const form = new URLSearchParams(Object.entries(params).reverse()).toString();
    const formHeaders = (sig: string) => ({
      "x-twilio-signature": sig,
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    });

    it("reproduces the library vectors: params, port 443, repeated params, JSON body", () => {
      expect(signTwilio(token, url, params)).to.equal("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
      expect(signTwilio(token, url.replace(".com/", ".com:443/"), params)).to.equal(
        "kvajT1Ptam85bY51eRf/AJRuM3w=",
      );
      expect(
        signTwilio(token, url, {
          Sid: "CA123",
          SidAccount: "AC123",
          Digits: ["5678", "1234", "1234"],
        }),
      ).to.equal("IK+Dwps556ElfBT0I3Rgjkr1wJU=");
      const body = '{"property": "value", "boolean": true}';
      expect(crypto.createHash("sha256").update(body).digest("hex")).to.equal(
        "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620",
      );
      expect(
        signTwilio(
          token,
          `${url}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620`,
          {},
        ),
      ).to.equal("a9nBmqA0ju/hNViExpshrM61xv4=");
    });

    it("accepts the documented form request, in any param order, and the JSON body request", () => {
      expect(
        verifyTwilio(req(form, formHeaders("RSOYDt4T1cUTdK1PDd93/VVr8B8="), { url }), [token]),
      ).to.deep.equal(OK0);
      const jsonUrl = `${url}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620`;
      const json = req(
        '{"property": "value", "boolean": true}',
        {
          "x-twilio-signature": "a9nBmqA0ju/hNViExpshrM61xv4=",
          "content-type": "application/json",
        },
        { url: jsonUrl },
      );
      expect(verifyTwilio(json, [token])).to.deep.equal(OK0);
    });

    it("accepts a signature made over the URL with the default port, as twilio-node does", () => {
      expect(urlVariants("https://a.example/p?q=1")).to.deep.equal([
        "https://a.example/p?q=1",
        "https://a.example:443/p?q=1",
      ]);
      expect(
        verifyTwilio(req(form, formHeaders("kvajT1Ptam85bY51eRf/AJRuM3w="), { url }), [token]),
      ).to.deep.equal(OK0);
    });

    it("rejects tampered params, URL, JSON body and a wrong token", () => {
      const tampered = form.replace("Digits=1234", "Digits=9999");
      expect(
        verifyTwilio(req(tampered, formHeaders("RSOYDt4T1cUTdK1PDd93/VVr8B8="), { url }), [token]),
      ).to.deep.equal(BAD);
      expect(
        verifyTwilio(
          req(form, formHeaders("RSOYDt4T1cUTdK1PDd93/VVr8B8="), {
            url: url.replace("bar=2", "bar=3"),
          }),
          [token],
        ),
      ).to.deep.equal(BAD);
      expect(
        verifyTwilio(req(form, formHeaders("RSOYDt4T1cUTdK1PDd93/VVr8B8="), { url }), ["54321"]),
      ).to.deep.equal(BAD);
      const jsonUrl = `${url}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620`;
      const json = req(
        '{"property": "value", "boolean": false}',
        { "x-twilio-signature": "a9nBmqA0ju/hNViExpshrM61xv4=" },
        { url: jsonUrl },
      );
      expect(verifyTwilio(json, [token])).to.deep.equal({
        ok: false,
        status: 403,
        reason: "bodySHA256 does not match the body",
      });
      const unsignedBody = req(
        '{"a":1}',
        { "x-twilio-signature": signTwilio(token, url, {}), "content-type": "application/json" },
        { url },
      );
      expect(verifyTwilio(unsignedBody, [token]).ok).to.equal(false);
    });

    it("accepts the previous auth token and answers 401 without the header", () => {
      expect(
        verifyTwilio(req(form, formHeaders("RSOYDt4T1cUTdK1PDd93/VVr8B8="), { url }), [
          "new-token",
          token,
        ]),
      ).to.deep.equal(OK1);
      expect(
        verifyTwilio(req(form, { "content-type": "application/x-www-form-urlencoded" }, { url }), [
          token,
        ]),
      ).to.deep.equal({
        ok: false,
        status: 401,
        reason: "x-twilio-signature header is missing",
      });
    });

    it("parses repeated form params as arrays and decodes + and %XX", () => {
      expect(parseForm("A=1&B=x+y&A=2&C=%2B%C3%A9")).to.deep.equal({
        A: ["1", "2"],
        B: "x y",
        C: "+é",
      });
    });
  });

  describe("Stripe (Stripe-Signature)", () => {
    const secret = "whsec_test_secret";
    const body = '{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}';
    const expectedV1 = crypto.createHmac("sha256", secret).update(`${NOW}.${body}`).digest("hex");

    it("accepts a header built as Stripe documents it: t=<unix>,v1=<hex HMAC of '<t>.<body>'>", () => {
      expect(signStripe(secret, NOW, body)).to.equal(`t=${NOW},v1=${expectedV1}`);
      expect(
        verifyStripe(req(body, { "stripe-signature": `t=${NOW},v1=${expectedV1}` }), [secret]),
      ).to.deep.equal(OK0);
      // Several v1 signatures (Stripe signs with each active secret while one is rolled) and a v0.
      const multi = `t=${NOW},v1=${"0".repeat(64)},v1=${expectedV1},v0=abc`;
      expect(verifyStripe(req(body, { "stripe-signature": multi }), [secret])).to.deep.equal(OK0);
    });

    it("rejects tampering, a wrong secret, stale and future timestamps", () => {
      const header = signStripe(secret, NOW, body);
      expect(verifyStripe(req(body + " ", { "stripe-signature": header }), [secret])).to.deep.equal(
        BAD,
      );
      expect(
        verifyStripe(req(body, { "stripe-signature": header }), ["whsec_other"]),
      ).to.deep.equal(BAD);
      // The timestamp is signed: changing it breaks the signature.
      expect(
        verifyStripe(
          req(body, { "stripe-signature": header.replace(`t=${NOW}`, `t=${NOW + 1}`) }),
          [secret],
        ),
      ).to.deep.equal(BAD);
      const stale = signStripe(secret, NOW - 301, body);
      expect(verifyStripe(req(body, { "stripe-signature": stale }), [secret])).to.deep.equal({
        ok: false,
        status: 403,
        reason: "Stripe-Signature timestamp is older than 300 s",
      });
      const future = signStripe(secret, NOW + 301, body);
      expect(verifyStripe(req(body, { "stripe-signature": future }), [secret])).to.deep.equal({
        ok: false,
        status: 403,
        reason: "Stripe-Signature timestamp is more than 300 s in the future",
      });
      expect(
        verifyStripe(req(body, { "stripe-signature": signStripe(secret, NOW - 300, body) }), [
          secret,
        ]),
      ).to.deep.equal(OK0);
      expect(
        verifyStripe(req(body, { "stripe-signature": `v1=${expectedV1}` }), [secret]).ok,
      ).to.equal(false);
    });

    it("accepts the previous secret and answers 401 without the header", () => {
      expect(
        verifyStripe(req(body, { "stripe-signature": signStripe(secret, NOW, body) }), [
          "whsec_new",
          secret,
        ]),
      ).to.deep.equal(OK1);
      expect(verifyStripe(req(body, {}), [secret])).to.deep.include({ ok: false, status: 401 });
    });
  });

  describe("Standard Webhooks (webhook-id / webhook-timestamp / webhook-signature)", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const ts = 1614265330;
    const payload = '{"test": 2432232314}';
    const sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    const headers = (s = sig, t = String(ts)) => ({
      "webhook-id": id,
      "webhook-timestamp": t,
      "webhook-signature": s,
    });
    const at = { nowSeconds: ts };

    it("reproduces and accepts the library test vector", () => {
      expect(signStandard(secret, id, ts, payload)).to.equal(sig);
      expect(verifyStandard(req(payload, headers(), at), [secret])).to.deep.equal(OK0);
      expect(
        verifyStandard(req(payload, headers(`v1,bm9wZQ== ${sig} v1a,ignored`), at), [secret]),
      ).to.deep.equal(OK0);
      expect(standardKey(secret)).to.deep.equal(standardKey("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    });

    it("rejects tampered body, id and timestamp, a wrong secret, stale and future timestamps", () => {
      expect(verifyStandard(req('{"test": 2432232315}', headers(), at), [secret])).to.deep.equal(
        BAD,
      );
      expect(
        verifyStandard(req(payload, { ...headers(), "webhook-id": "msg_other" }, at), [secret]),
      ).to.deep.equal(BAD);
      expect(
        verifyStandard(req(payload, headers(sig, String(ts + 1)), at), [secret]),
      ).to.deep.equal(BAD);
      expect(
        verifyStandard(req(payload, headers(), at), [
          "whsec_" + Buffer.from("other").toString("base64"),
        ]),
      ).to.deep.equal(BAD);
      expect(
        verifyStandard(req(payload, headers(), { nowSeconds: ts + 301 }), [secret]),
      ).to.deep.equal({
        ok: false,
        status: 403,
        reason: "webhook-timestamp is older than 300 s",
      });
      expect(
        verifyStandard(req(payload, headers(), { nowSeconds: ts - 301 }), [secret]),
      ).to.deep.equal({
        ok: false,
        status: 403,
        reason: "webhook-timestamp is more than 300 s in the future",
      });
    });

    it("accepts the previous secret; answers 401 when a header is missing", () => {
      const other = "whsec_" + crypto.randomBytes(24).toString("base64");
      expect(verifyStandard(req(payload, headers(), at), [other, secret])).to.deep.equal(OK1);
      expect(
        verifyStandard(req(payload, { "webhook-id": id, "webhook-timestamp": String(ts) }, at), [
          secret,
        ]),
      ).to.deep.include({ status: 401 });
      expect(
        verifyStandard(
          req(payload, { "webhook-signature": sig, "webhook-timestamp": String(ts) }, at),
          [secret],
        ),
      ).to.deep.include({ status: 401 });
    });
  });

  describe("generic HMAC, headers scheme (id, timestamp, event, correlation id and body signed)", () => {
    const secret = "generic-secret";
    const body = '{"type":"order.created","id":7}';
    // Computed here from the documented construction, not with the module's own helper.
    const content = `wh-1\n${NOW}\norder.created\ncorr-1\n${body}`;
    const sig = `v1=${crypto.createHmac("sha256", secret).update(content).digest("hex")}`;
    const base = {
      "x-webhook-id": "wh-1",
      "x-webhook-timestamp": String(NOW),
      "x-webhook-event": "order.created",
      "x-correlation-id": "corr-1",
    };
    const h = (over: Record<string, string> = {}) => ({
      ...base,
      "x-webhook-signature": sig,
      ...over,
    });

    it("signs id LF timestamp LF event LF correlation id LF body, as v1=<hex>", () => {
      expect(
        signHmac(
          secret,
          { id: "wh-1", timestamp: NOW, event: "order.created", correlationId: "corr-1" },
          body,
        ),
      ).to.equal(sig);
      expect(
        hmacRequestHeaders(
          secret,
          { id: "wh-1", timestamp: NOW, event: "order.created", correlationId: "corr-1" },
          body,
        ),
      ).to.deep.equal(h());
      expect(verifyHmac(req(body, h()), [secret])).to.deep.equal(OK0);
      // Absent event and correlation id sign as empty lines.
      const bare = `v1=${crypto.createHmac("sha256", secret).update(`wh-1\n${NOW}\n\n\n${body}`).digest("hex")}`;
      expect(
        verifyHmac(
          req(body, {
            "x-webhook-id": "wh-1",
            "x-webhook-timestamp": String(NOW),
            "x-webhook-signature": bare,
          }),
          [secret],
        ),
      ).to.deep.equal(OK0);
    });

    it("refuses a captured delivery relabelled: new id, new timestamp, new event type or new correlation id", () => {
      expect(verifyHmac(req(body, h({ "x-webhook-id": "wh-2" })), [secret])).to.deep.equal(BAD);
      expect(
        verifyHmac(req(body, h({ "x-webhook-timestamp": String(NOW + 5) })), [secret]),
      ).to.deep.equal(BAD);
      expect(
        verifyHmac(req(body, h({ "x-webhook-event": "RecordVerificationRequested" })), [secret]),
      ).to.deep.equal(BAD);
      expect(verifyHmac(req(body, h({ "x-correlation-id": "corr-2" })), [secret])).to.deep.equal(
        BAD,
      );
      const { "x-correlation-id": _c, ...withoutCorrelation } = h();
      expect(verifyHmac(req(body, withoutCorrelation), [secret])).to.deep.equal(BAD);
      // Moving a boundary between fields changes the content: "a.b"/"c" is not "a"/"b.c".
      const shifted = `v1=${crypto.createHmac("sha256", secret).update(`wh\n${NOW}\n1order.created\ncorr-1\n${body}`).digest("hex")}`;
      expect(verifyHmac(req(body, h({ "x-webhook-signature": shifted })), [secret])).to.deep.equal(
        BAD,
      );
    });

    it("rejects tampering, wrong secrets, stale and future timestamps; accepts the previous secret and two signatures", () => {
      expect(verifyHmac(req(body.replace("7", "8"), h()), [secret])).to.deep.equal(BAD);
      expect(verifyHmac(req(body, h()), ["nope"])).to.deep.equal(BAD);
      const at = (t: number) =>
        h({
          "x-webhook-timestamp": String(t),
          "x-webhook-signature": signHmac(
            secret,
            { ...base, id: "wh-1", timestamp: t, event: "order.created", correlationId: "corr-1" },
            body,
          ),
        });
      expect(verifyHmac(req(body, at(NOW - 301)), [secret])).to.deep.include({
        status: 403,
        reason: "x-webhook-timestamp is older than 300 s",
      });
      expect(verifyHmac(req(body, at(NOW + 301)), [secret])).to.deep.include({
        status: 403,
        reason: "x-webhook-timestamp is more than 300 s in the future",
      });
      expect(
        verifyHmac(req(body, h({ "x-webhook-timestamp": "yesterday" })), [secret]),
      ).to.deep.include({ status: 403 });
      expect(verifyHmac(req(body, h()), ["new", secret])).to.deep.equal(OK1);
      const other = signHmac(
        "new",
        { id: "wh-1", timestamp: NOW, event: "order.created", correlationId: "corr-1" },
        body,
      );
      expect(
        verifyHmac(req(body, h({ "x-webhook-signature": `${other}, ${sig}` })), [secret]),
      ).to.deep.equal(OK0);
    });

    it("answers 401 without the signature, the id or the timestamp, and 403 for a body-only signature", () => {
      const { "x-webhook-signature": _s, ...unsigned } = h();
      expect(verifyHmac(req(body, unsigned), [secret])).to.deep.include({ status: 401 });
      const { "x-webhook-id": _i, ...noId } = h();
      expect(verifyHmac(req(body, noId), [secret])).to.deep.include({
        status: 401,
        reason: "x-webhook-id header is missing (the signature covers it)",
      });
      const { "x-webhook-timestamp": _t, ...noTs } = h();
      expect(verifyHmac(req(body, noTs), [secret])).to.deep.include({ status: 401 });
      expect(
        verifyHmac(req(body, h({ "x-webhook-signature": signHmacBody(secret, body) })), [secret]),
      ).to.deep.include({ status: 403 });
    });
  });

  describe("generic HMAC, body scheme (opt-in: the body alone is signed)", () => {
    const secret = "generic-secret";
    const body = '{"type":"order.created","id":7}';
    const sig = crypto.createHmac("sha256", secret).update(body).digest("hex");
    const h = (s = sig, t = String(NOW)) => ({
      "x-webhook-signature": s,
      "x-webhook-timestamp": t,
    });

    it("accepts hex HMAC-SHA256 of the body, with or without a sha256= prefix, any hex case", () => {
      expect(signHmacBody(secret, body)).to.equal(sig);
      expect(verifyHmacBody(req(body, h()), [secret])).to.deep.equal(OK0);
      expect(verifyHmacBody(req(body, h(`sha256=${sig.toUpperCase()}`)), [secret])).to.deep.equal(
        OK0,
      );
    });

    it("rejects tampering, wrong secrets, stale and future timestamps; accepts the previous secret", () => {
      expect(verifyHmacBody(req(body.replace("7", "8"), h()), [secret])).to.deep.equal(BAD);
      expect(verifyHmacBody(req(body, h()), ["nope"])).to.deep.equal(BAD);
      expect(verifyHmacBody(req(body, h(sig, String(NOW - 301))), [secret])).to.deep.include({
        status: 403,
      });
      expect(verifyHmacBody(req(body, h(sig, String(NOW + 301))), [secret])).to.deep.include({
        status: 403,
      });
      expect(verifyHmacBody(req(body, h(sig, "yesterday")), [secret])).to.deep.include({
        status: 403,
      });
      expect(verifyHmacBody(req(body, h()), ["new", secret])).to.deep.equal(OK1);
    });

    it("answers 401 without the signature or the timestamp", () => {
      expect(
        verifyHmacBody(req(body, { "x-webhook-timestamp": String(NOW) }), [secret]),
      ).to.deep.include({ status: 401 });
      expect(verifyHmacBody(req(body, { "x-webhook-signature": sig }), [secret])).to.deep.include({
        status: 401,
      });
    });
  });
});
