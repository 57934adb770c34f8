// What only the local run may do: http:// and loopback outbound endpoints are read from the config
// while it evaluates the program (config/localRun.ts), and refused otherwise, as at preview.
import { expect } from "chai";
import { asLocalRun, localRun } from "../../config/localRun";
import { readConfig } from "../../config/read";
import { parseArgs, parseSpeed } from "../../local/cli";
import { readStackConfig } from "../../local/program";

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

describe("npm start --config", () => {
  it("gives the run one stack config value, with or without the namespace", () => {
    expect(
      parseArgs([
        "--config",
        "recordsRateLimitPerSecond=300",
        "--config",
        "switchyard:alarmEmail=ops@example.com",
      ]).configOverrides,
    ).to.deep.equal({
      "switchyard:recordsRateLimitPerSecond": "300",
      "switchyard:alarmEmail": "ops@example.com",
    });
  });

  it("refuses an unknown key and a value without =, naming the fix", () => {
    expect(() => parseArgs(["--config", "recordsRate=3"])).to.throw(
      "--config recordsRate: not a switchyard config key; the keys are listed in docs/configuration.md",
    );
    expect(() => parseArgs(["--config", "recordsRateLimitPerSecond"])).to.throw(
      "--config needs key=value, such as --config recordsRateLimitPerSecond=300",
    );
  });

  it("leaves a bad value to the program, which names the key as it does for the stack file", () => {
    const { configOverrides } = parseArgs(["--config", "recordsRateLimitPerSecond=9000"]);
    const config = { ...readStackConfig("dev"), ...configOverrides };
    expect(() => readConfig((k) => config[`switchyard:${k}`], "dev")).to.throw(
      /recordsRateLimitPerSecond/,
    );
  });
});
