// Twilio's signature scheme against its published test vectors, then tampering, wrong and
// previous secrets, stale and future timestamps and missing headers; and the module's own
// signing verified and parsed by its spec.
import { expect } from "chai";
import * as crypto from "crypto";
import { PROVIDER_MODULE } from "../../../../handlers/webhooks/providers";
import { parseForm } from "../../../../handlers/webhooks/providers/module";
import {
  signTwilio,
  urlVariants,
  verifyTwilio,
} from "../../../../handlers/webhooks/providers/twilio";
import { asReceived, BAD, DOMAIN, NOW, OK0, OK1, req } from "./request";

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

  it("through its module: a form body signed with the URL and sorted params; a JSON body by bodySHA256 in the URL", () => {
    const m = PROVIDER_MODULE.twilio;
    const form = m.sign("tw-token", {
      body: "To=%2B15005550006&Body=hi&CallStatus=ringing",
      contentType: "application/x-www-form-urlencoded",
      id: "idem-1",
      url: `https://${DOMAIN}/twilio`,
      nowSeconds: NOW,
    });
    expect(form.url).to.equal(`https://${DOMAIN}/twilio`);
    const received = asReceived(form);
    expect(m.spec.verify(received, ["tw-token"])).to.deep.equal({ ok: true, secretIndex: 0 });
    expect(m.spec.parse(received.body, received.headers, received.url)).to.deep.include({
      deliveryId: "idem-1",
      eventType: "call.ringing",
    });
    const json = m.sign("tw-token", {
      body: JSON.stringify({ EventType: "com.twilio.voice.status" }),
      contentType: "application/json",
      id: "idem-2",
      url: `https://${DOMAIN}/twilio`,
      nowSeconds: NOW,
    });
    expect(new URL(json.url).searchParams.get("bodySHA256")).to.equal(
      crypto.createHash("sha256").update(json.body).digest("hex"),
    );
    const jreceived = asReceived(json);
    expect(m.spec.verify(jreceived, ["tw-token"])).to.deep.equal({ ok: true, secretIndex: 0 });
    expect(m.spec.parse(jreceived.body, jreceived.headers, jreceived.url).eventType).to.equal(
      "com.twilio.voice.status",
    );
    // Posted elsewhere than the URL signed: refused.
    expect(
      m.spec.verify({ ...received, url: `https://${DOMAIN}/other` }, ["tw-token"]),
    ).to.deep.equal({
      ok: false,
      status: 403,
      reason: "signature does not match",
    });
  });
});
