// the generic HMAC sender's signature scheme against its published test vectors, then tampering, wrong and
// previous secrets, stale and future timestamps and missing headers; and the module's own
// signing verified and parsed by its spec.
import { expect } from "chai";
import * as crypto from "crypto";
import { PROVIDER_MODULE } from "../../../../handlers/webhooks/providers";
import {
  hmacRequestHeaders,
  hmacSpec,
  signHmac,
  signHmacBody,
  signHmacBodyDelivery,
  verifyHmac,
  verifyHmacBody,
} from "../../../../handlers/webhooks/providers/hmac";
import { asReceived, BAD, jsonBody, DOMAIN, NOW, OK0, OK1, req } from "./request";

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
    expect(verifyHmac(req(body, h({ "x-correlation-id": "corr-2" })), [secret])).to.deep.equal(BAD);
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

  it("through its module: id, timestamp, event, correlation id and body signed; each trusted", () => {
    const m = PROVIDER_MODULE.hmac;
    const d = m.sign("hm", {
      body: jsonBody("h"),
      contentType: "application/json",
      id: "d-1",
      eventType: "order.created",
      correlationId: "corr-1",
      url: `https://${DOMAIN}/hmac`,
      nowSeconds: NOW,
    });
    const received = asReceived(d);
    expect(m.spec.verify(received, ["hm"])).to.deep.equal({ ok: true, secretIndex: 0 });
    expect(m.spec.parse(received.body, received.headers, received.url)).to.deep.include({
      deliveryId: "d-1",
      replayKey: "d-1",
      eventType: "order.created",
      correlationId: "corr-1",
    });
    expect(
      m.spec.verify(
        { ...received, headers: { ...received.headers, "x-correlation-id": "corr-2" } },
        ["hm"],
      ),
    ).to.deep.include({ ok: false, status: 403 });
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

  it("through its module: the body alone signed; its digest is the delivery id and the key", () => {
    const d = signHmacBodyDelivery("hm", {
      body: jsonBody("b"),
      contentType: "application/json",
      url: `https://${DOMAIN}/hmac`,
      nowSeconds: NOW,
    });
    const spec = hmacSpec("body");
    const received = asReceived(d);
    expect(spec.verify(received, ["hm"])).to.deep.equal({ ok: true, secretIndex: 0 });
    const digest = `sha256:${crypto.createHash("sha256").update(d.body).digest("hex")}`;
    expect(spec.parse(received.body, received.headers, received.url)).to.deep.include({
      deliveryId: digest,
      replayKey: digest,
      eventType: "thing.happened",
    });
    // The headers scheme refuses a body-only signature.
    expect(PROVIDER_MODULE.hmac.spec.verify(received, ["hm"])).to.deep.include({ ok: false });
  });
});
