// What only the local run may do: http:// and loopback outbound endpoints are read from the config
// while it evaluates the program (config/localRun.ts), and refused otherwise, as at preview.
import { expect } from "chai";
import { asLocalRun, localRun } from "../../config/localRun";
import { readConfig } from "../../config/read";
import { parseSpeed } from "../../local/cli";

const subscriptions = (url: string) =>
  JSON.stringify([{ name: "sample", url, events: ["SamplePing"] }]);
const read = (url: string) =>
  readConfig(
    (k) =>
      k === "outboundSubscriptions"
        ? subscriptions(url)
        : k === "recordsApiEndpoint"
          ? "https://records.example.com"
          : undefined,
    "dev",
  );

describe("config/localRun: the local run's outbound endpoints", () => {
  it("refuses an http:// loopback endpoint outside the local run, naming the key", () => {
    expect(localRun()).to.equal(undefined);
    expect(() => read("http://127.0.0.1:4500/sample")).to.throw(
      /outboundSubscriptions.*must be an https:\/\/ URL/s,
    );
  });

  it("admits it while the local run evaluates, and only then", () => {
    const v = asLocalRun({ speed: 0.05 }, () => read("http://127.0.0.1:4500/sample"));
    expect(v.outboundSubscriptions[0].url).to.equal("http://127.0.0.1:4500/sample");
    expect(localRun()).to.equal(undefined);
  });

  it("still refuses a private or metadata address literal in the local run", () => {
    for (const url of ["http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data/"])
      expect(() => asLocalRun({ speed: 1 }, () => read(url))).to.throw(
        /deliveries go to public addresses only/,
      );
  });

  it("is cleared when the evaluation throws", () => {
    expect(() =>
      asLocalRun({ speed: 1 }, () => {
        throw new Error("boom");
      }),
    ).to.throw("boom");
    expect(localRun()).to.equal(undefined);
  });
});

describe("npm start --speed", () => {
  it("takes a number or a fraction", () => {
    expect(parseSpeed("0.05")).to.equal(0.05);
    expect(parseSpeed("1/3600")).to.equal(1 / 3600);
    expect(36000 * parseSpeed("1/3600")).to.equal(10);
    expect(parseSpeed("x/2")).to.be.NaN;
  });
});
