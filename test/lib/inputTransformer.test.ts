import { expect } from "chai";
import {
  evaluateJsonPath,
  InputTransformer,
  InputTransformerError,
  renderInputTransformer,
  renderToJson,
  validateInputTransformer,
} from "../../lib/inputTransformer";
import { matchesPattern } from "../../lib/eventPattern";
import {
  DEFAULT_RECORD_DETAIL_TYPES,
  recordEventPattern,
  recordPayloadTransformer,
} from "../../components/records/recordPayload";

// The example event from the AWS "Amazon EventBridge input transformation" page.
const ec2Event = {
  version: "0",
  id: "7bf73129-1428-4cd3-a780-95db273d1602",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "123456789012",
  time: "2015-11-11T21:29:54Z",
  region: "us-east-1",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
  detail: { "instance-id": "i-0123456789", state: "RUNNING" },
};

// The InputPathsMap from the same page.
const ec2Paths: Record<string, string> = {
  timestamp: "$.time",
  instance: "$.detail.instance-id",
  state: "$.detail.state",
  resource: "$.resources[0]",
};

const ctx = {
  ruleArn: "arn:aws:events:us-east-2:123456789012:rule/example",
  ruleName: "example",
};

function render(inputTemplate: string, event: object = ec2Event, paths = ec2Paths): string {
  return renderInputTransformer({ inputPathsMap: paths, inputTemplate }, event, ctx);
}

function renderJson(inputTemplate: string, event: object = ec2Event, paths = ec2Paths): unknown {
  return renderToJson({ inputPathsMap: paths, inputTemplate }, event, ctx);
}

/** A detail-carrying event for the value-type tests. */
function withDetail(detail: Record<string, unknown>): Record<string, unknown> {
  return { ...ec2Event, detail };
}

describe("lib/inputTransformer", () => {
  describe("AWS documentation examples (instance-state event)", () => {
    it("simple string", () => {
      expect(render('"instance <instance> is in <state>"')).to.equal(
        '"instance i-0123456789 is in RUNNING"',
      );
    });

    it("string with escaped quotes keeps the escapes", () => {
      const out = render('"instance \\"<instance>\\" is in <state>"');
      expect(out).to.equal('"instance \\"i-0123456789\\" is in RUNNING"');
      expect(JSON.parse(out)).to.equal('instance "i-0123456789" is in RUNNING');
    });

    it("simple JSON: bare string variables are quoted", () => {
      const out = render('{\n  "instance" : <instance>,\n  "state": <state>\n}');
      // Delivered minified.
      expect(out).to.equal('{"instance":"i-0123456789","state":"RUNNING"}');
    });

    it("JSON with strings and variables", () => {
      const template =
        '{ "instance" : <instance>, "state": "<state>", ' +
        '"instanceStatus": "instance \\"<instance>\\" is in <state>" }';
      expect(renderJson(template)).to.deep.equal({
        instance: "i-0123456789",
        state: "RUNNING",
        instanceStatus: 'instance "i-0123456789" is in RUNNING',
      });
    });

    it("JSON with a mix of variables and static information", () => {
      const template =
        '{ "instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes" }';
      expect(renderJson(template)).to.deep.equal({
        instance: "i-0123456789",
        state: [9, "RUNNING", true],
        Transformed: "Yes",
      });
    });

    it("reserved variables in JSON", () => {
      const template =
        '{ "instance" : <instance>, "state": <state>, "ruleArn" : <aws.events.rule-arn>, ' +
        '"ruleName" : <aws.events.rule-name>, "originalEvent" : <aws.events.event> }';
      const out = renderJson(template) as Record<string, unknown>;
      expect(out.ruleArn).to.equal("arn:aws:events:us-east-2:123456789012:rule/example");
      expect(out.ruleName).to.equal("example");
      expect(out.instance).to.equal("i-0123456789");
      // aws.events.event is the envelope without detail; AWS renames detail-type to detailType.
      expect(out.originalEvent).to.deep.equal({
        version: "0",
        id: "7bf73129-1428-4cd3-a780-95db273d1602",
        detailType: "EC2 Instance State-change Notification",
        source: "aws.ec2",
        account: "123456789012",
        time: "2015-11-11T21:29:54Z",
        region: "us-east-1",
        resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
      });
    });

    it("reserved variables in a string", () => {
      expect(render('"<aws.events.rule-name> triggered"')).to.equal('"example triggered"');
    });

    it("array index path", () => {
      expect(renderJson('{"r": <resource>}')).to.deep.equal({
        r: "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111",
      });
    });
  });

  describe("paths", () => {
    const event = withDetail({
      a: { b: { c: "deep" } },
      list: ["zero", "one"],
      items: [{ sku: "a" }, { sku: "b" }],
      "with-dash_and_underscore": 7,
    });
    const paths = {
      deep: "$.detail.a.b.c",
      sub: "$.detail.a",
      second: "$.detail.list[1]",
      list: "$.detail.list",
      skus: "$.detail.items[*].sku",
      whole: "$",
      dashed: "$.detail.with-dash_and_underscore",
    };

    it("follows nested paths", () => {
      expect(renderJson('{"v": <deep>, "q": "<deep>"}', event, paths)).to.deep.equal({
        v: "deep",
        q: "deep",
      });
    });

    it("inserts a nested object as JSON", () => {
      expect(renderJson('{"v": <sub>}', event, paths)).to.deep.equal({ v: { b: { c: "deep" } } });
    });

    it("indexes arrays and inserts whole arrays", () => {
      expect(renderJson('{"s": <second>, "l": <list>}', event, paths)).to.deep.equal({
        s: "one",
        l: ["zero", "one"],
      });
    });

    it("collects wildcard matches into an array", () => {
      expect(renderJson('{"skus": <skus>}', event, paths)).to.deep.equal({ skus: ["a", "b"] });
    });

    it("$ is the whole event", () => {
      expect(renderJson('{"e": <whole>}', event, paths)).to.deep.equal({ e: event });
    });

    it("accepts dashes and underscores in field names", () => {
      expect(renderJson('{"d": <dashed>}', event, paths)).to.deep.equal({ d: 7 });
    });

    it("evaluateJsonPath returns undefined for missing steps", () => {
      expect(evaluateJsonPath(event, "$.detail.list[5]")).to.equal(undefined);
      expect(evaluateJsonPath(event, "$.detail.a.x.y")).to.equal(undefined);
      expect(evaluateJsonPath(event, "$.detail.list.foo")).to.equal(undefined);
      expect(evaluateJsonPath(event, "$.detail['a'].b.c")).to.equal("deep");
    });
  });

  describe("missing paths (the variable is not created and renders as nothing)", () => {
    const paths = { ...ec2Paths, command: "$.detail.notinmessage", idx: "$.resources[3]" };

    it("bare JSON value becomes an empty string (AWS-recorded)", () => {
      const out = renderJson('{"detailType": <state>, "command": <command>}', ec2Event, paths);
      expect(out).to.deep.equal({ detailType: "RUNNING", command: "" });
    });

    it("inside quotes it disappears from the string", () => {
      expect(renderJson('{"m": "cmd=<command>;"}', ec2Event, paths)).to.deep.equal({ m: "cmd=;" });
    });

    it("in a string template it disappears (AWS-recorded)", () => {
      const out = render('"info extracted from detail <command>"', ec2Event, paths);
      expect(out).to.equal('"info extracted from detail "');
    });

    it("an out-of-range index is missing too", () => {
      expect(renderJson('{"r": <idx>}', ec2Event, paths)).to.deep.equal({ r: "" });
    });

    it("missing rule context renders as empty", () => {
      const t = { inputTemplate: '"rule=<aws.events.rule-name>"' };
      const out = renderInputTransformer(t, ec2Event);
      expect(out).to.equal('"rule="');
    });
  });

  describe("value insertion inside and outside quotes", () => {
    const event = withDetail({
      n: 42,
      f: 1.5,
      yes: true,
      nothing: null,
      obj: { a: 1, b: ["x"] },
      arr: [1, "two"],
      quoted: 'say "hi"',
      slash: "C:\\q",
    });
    const paths = {
      n: "$.detail.n",
      f: "$.detail.f",
      yes: "$.detail.yes",
      nothing: "$.detail.nothing",
      obj: "$.detail.obj",
      arr: "$.detail.arr",
      quoted: "$.detail.quoted",
      slash: "$.detail.slash",
    };

    it("numbers, booleans and null outside quotes keep their JSON type", () => {
      const out = renderJson('{"n": <n>, "f": <f>, "b": <yes>, "z": <nothing>}', event, paths);
      expect(out).to.deep.equal({ n: 42, f: 1.5, b: true, z: null });
    });

    it("numbers, booleans and null inside quotes become text", () => {
      const template = '{"n": "<n>", "f": "<f>", "b": "<yes>", "z": "<nothing>"}';
      const out = renderJson(template, event, paths);
      expect(out).to.deep.equal({ n: "42", f: "1.5", b: "true", z: "null" });
    });

    it("objects and arrays outside quotes are inserted as JSON", () => {
      expect(renderJson('{"o": <obj>, "a": <arr>}', event, paths)).to.deep.equal({
        o: { a: 1, b: ["x"] },
        a: [1, "two"],
      });
    });

    it("objects and arrays inside quotes lose their inner quotes", () => {
      expect(renderJson('{"o": "<obj>", "a": "arr=<arr>"}', event, paths)).to.deep.equal({
        o: "{a:1,b:[x]}",
        a: "arr=[1,two]",
      });
    });

    it("a string with quotes inside quotes is NOT escaped, so the JSON breaks", () => {
      const template = '{"msg": "<quoted>"}';
      // AWS: "EventBridge doesn't escape values extracted by Input Path".
      expect(render(template, event, paths)).to.equal('{"msg": "say "hi""}');
      expect(() => renderJson(template, event, paths))
        .to.throw(InputTransformerError)
        .with.property("message")
        .that.matches(/not valid JSON/);
    });

    it("a backslash inside quotes is not escaped either", () => {
      // `\q` is not a JSON escape, so the output is invalid and delivered as rendered.
      expect(render('{"p": "<slash>"}', event, paths)).to.equal('{"p": "C:\\q"}');
    });

    it("a string with quotes outside quotes is inserted as a JSON string", () => {
      expect(renderJson('{"msg": <quoted>}', event, paths)).to.deep.equal({ msg: 'say "hi"' });
    });

    it("a plain-text template inserts values as they are", () => {
      expect(render("<n> items, ok=<yes>, obj=<obj>", event, paths)).to.equal(
        '42 items, ok=true, obj={"a":1,"b":["x"]}',
      );
    });

    it("a JSON array template is treated as JSON", () => {
      expect(renderJson("[<n>, <quoted>]", event, paths)).to.deep.equal([42, 'say "hi"']);
    });
  });

  describe("reserved variables", () => {
    it("ingestion time defaults to the event time", () => {
      const out = renderJson('{"t": <aws.events.event.ingestion-time>}', ec2Event, {});
      expect(out).to.deep.equal({ t: "2015-11-11T21:29:54Z" });
    });

    it("ingestion time comes from the context when given", () => {
      const out = renderToJson(
        { inputTemplate: '{"t": "<aws.events.event.ingestion-time>"}' },
        ec2Event,
        { ingestionTime: "2020-01-01T00:00:00Z" },
      );
      expect(out).to.deep.equal({ t: "2020-01-01T00:00:00Z" });
    });

    it("aws.events.event.json is the full event, detail included", () => {
      expect(renderJson('{"raw": <aws.events.event.json>}', ec2Event, {})).to.deep.equal({
        raw: ec2Event,
      });
    });

    it("rule ARN inside a string", () => {
      expect(renderJson('{"m": "fired by <aws.events.rule-arn>"}', ec2Event, {})).to.deep.equal({
        m: "fired by arn:aws:events:us-east-2:123456789012:rule/example",
      });
    });

    for (const name of ["aws.events.event", "aws.events.event.json"]) {
      it(`<${name}> is rejected inside quotes`, () => {
        expect(() => render(`{"e": "<${name}>"}`, ec2Event, {})).to.throw(
          InputTransformerError,
          /can only be used as the \(unquoted\) value of a JSON field/,
        );
      });

      it(`<${name}> is rejected in a plain-text template`, () => {
        expect(() => render(`event: <${name}>`, ec2Event, {})).to.throw(
          InputTransformerError,
          /can only be used/,
        );
      });

      it(`<${name}> is rejected in a string template`, () => {
        expect(() => render(`"event: <${name}>"`, ec2Event, {})).to.throw(
          InputTransformerError,
          /can only be used/,
        );
      });
    }
  });

  describe("RecordsForwarder record payload (the transformer and pattern the route deploys)", () => {
    const deployed = recordPayloadTransformer();
    const recordTransformer: InputTransformer = {
      inputPathsMap: deployed.inputPaths,
      inputTemplate: deployed.inputTemplate,
    };
    const pattern = recordEventPattern(["crm"], DEFAULT_RECORD_DETAIL_TYPES);
    const recordEvent = {
      version: "0",
      id: "0d079340-135a-c8c6-95c2-41fb8f496c53",
      "detail-type": "RecordUpdated",
      source: "crm",
      account: "123456789012",
      time: "2024-05-01T12:34:56Z",
      region: "eu-west-1",
      resources: [],
      detail: {
        tenantId: "tenant-42",
        recordId: "cust-001",
        recordVersion: 7,
        payload: { name: "Ada", tags: ["vip"], balance: 12.5, active: true, note: null },
      },
    };

    it("matches a complete record event and renders a valid records API body", () => {
      expect(matchesPattern(pattern, recordEvent)).to.equal(true);
      expect(renderToJson(recordTransformer, recordEvent)).to.deep.equal({
        tenantId: "tenant-42",
        database: "crm",
        collection: "RecordUpdated",
        recordId: "cust-001",
        recordVersion: 7,
        operationType: "upsert",
        recordPayload: { name: "Ada", tags: ["vip"], balance: 12.5, active: true, note: null },
        sourceTimestamp: "2024-05-01T12:34:56Z",
        idempotencyKey: "tenant-42:cust-001:7",
      });
    });

    it("gives two versions of a record different idempotency keys", () => {
      const v8 = { ...recordEvent, detail: { ...recordEvent.detail, recordVersion: 8 } };
      const k7 = (renderToJson(recordTransformer, recordEvent) as any).idempotencyKey;
      const k8 = (renderToJson(recordTransformer, v8) as any).idempotencyKey;
      expect(k7).to.not.equal(k8);
    });

    it("does not match events that would render an incomplete body", () => {
      const without = (field: string) => {
        const detail: Record<string, unknown> = { ...recordEvent.detail };
        delete detail[field];
        return { ...recordEvent, detail };
      };
      for (const f of ["tenantId", "recordId", "recordVersion"]) {
        expect(matchesPattern(pattern, without(f)), f).to.equal(false);
      }
      // exists only sees leaf values, so an object payload cannot be required by the pattern;
      // without one the body carries an empty string, which the records API rejects (to the DLQ).
      expect(matchesPattern(pattern, without("payload"))).to.equal(true);
      expect((renderToJson(recordTransformer, without("payload")) as any).recordPayload).to.equal(
        "",
      );
      expect(
        matchesPattern(pattern, {
          ...recordEvent,
          detail: { ...recordEvent.detail, recordVersion: "7" },
        }),
      ).to.equal(false);
      expect(matchesPattern(pattern, { ...recordEvent, "detail-type": "RecordDeleted" })).to.equal(
        false,
      );
      expect(matchesPattern(pattern, { ...recordEvent, source: "erp" })).to.equal(false);
    });

    it("passes validation", () => {
      expect(() => validateInputTransformer(recordTransformer)).not.to.throw();
    });
  });

  describe("validateInputTransformer", () => {
    const paths100 = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`v${i}`, "$.d"]));

    type Bad = [name: string, t: unknown, message: RegExp];
    const bad: Bad[] = [
      [
        "101 InputPathsMap entries",
        { inputPathsMap: { ...paths100, v100: "$.id" }, inputTemplate: '"x"' },
        /101 entries; at most 100/,
      ],
      [
        "a key starting with aws.",
        { inputPathsMap: { "aws.mine": "$.id" }, inputTemplate: "x" },
        /reserved/,
      ],
      [
        "a key starting with AWS.",
        { inputPathsMap: { "AWS.x": "$.id" }, inputTemplate: "x" },
        /reserved/,
      ],
      [
        "a key with a dot",
        { inputPathsMap: { "a.b": "$.id" }, inputTemplate: "x" },
        /"a\.b" is invalid/,
      ],
      [
        "a key with a space",
        { inputPathsMap: { "a b": "$.id" }, inputTemplate: "x" },
        /A-Z, a-z, 0-9/,
      ],
      ["an empty key", { inputPathsMap: { "": "$.id" }, inputTemplate: "x" }, /key "" is invalid/],
      [
        "a 257-character key",
        { inputPathsMap: { ["k".repeat(257)]: "$.id" }, inputTemplate: "x" },
        /1-256/,
      ],
      [
        "a path without $",
        { inputPathsMap: { a: "detail.a" }, inputTemplate: "x" },
        /must start with "\$"/,
      ],
      [
        "a path with an empty step",
        { inputPathsMap: { a: "$.detail..a" }, inputTemplate: "x" },
        /"a" is not a valid JSONPath/,
      ],
      [
        "a path that is not a string",
        { inputPathsMap: { a: 5 }, inputTemplate: "x" },
        /value for "a"/,
      ],
      [
        "a path of 257 characters",
        { inputPathsMap: { a: "$." + "p".repeat(255) }, inputTemplate: "x" },
        /at most 256/,
      ],
      ["an empty template", { inputTemplate: "" }, /between 1 and 8192 characters \(got 0\)/],
      ["an 8193-character template", { inputTemplate: "x".repeat(8193) }, /got 8193/],
      ["a missing template", { inputPathsMap: {} }, /InputTemplate is required/],
      [
        "an InputPathsMap that is an array",
        { inputPathsMap: ["$.id"], inputTemplate: "x" },
        /must be an object/,
      ],
      [
        "an undefined placeholder (AWS-recorded)",
        { inputPathsMap: { a: "$.id" }, inputTemplate: '"<a> and <notdefinedkey>"' },
        /InputTemplate contains invalid placeholder notdefinedkey\./,
      ],
      [
        "a placeholder used as a bare object key",
        { inputPathsMap: { k: "$.id" }, inputTemplate: "{<k>: 1}" },
        /<k> as an object key/,
      ],
      [
        "a placeholder used inside a quoted object key",
        { inputPathsMap: { k: "$.id" }, inputTemplate: '{"x": 1, "key-<k>" : 2}' },
        /<k> as an object key/,
      ],
    ];

    for (const [name, t, message] of bad) {
      it(`rejects ${name}`, () => {
        expect(() => validateInputTransformer(t as InputTransformer)).to.throw(
          InputTransformerError,
          message,
        );
      });
    }

    it("rendering validates first", () => {
      expect(() => renderInputTransformer({ inputTemplate: '"<nope>"' }, ec2Event)).to.throw(
        InputTransformerError,
        /invalid placeholder nope/,
      );
    });

    it("accepts the limits exactly", () => {
      expect(() =>
        validateInputTransformer({ inputPathsMap: paths100, inputTemplate: "x".repeat(8192) }),
      ).not.to.throw();
      expect(() =>
        validateInputTransformer({ inputPathsMap: { ["k".repeat(256)]: "$" }, inputTemplate: "x" }),
      ).not.to.throw();
    });

    it("accepts a template without InputPathsMap (reserved variables only)", () => {
      expect(() =>
        validateInputTransformer({ inputTemplate: '{"e": <aws.events.event.json>}' }),
      ).not.to.throw();
    });

    it("accepts a colon after a placeholder inside a string value", () => {
      expect(() =>
        validateInputTransformer({
          inputPathsMap: { a: "$.id" },
          inputTemplate: '{"k": "<a>: done", "n": "x"}',
        }),
      ).not.to.throw();
    });
  });

  describe("renderToJson", () => {
    it("parses a string template into a string", () => {
      expect(renderJson('"state is <state>"')).to.equal("state is RUNNING");
    });

    it("names the problem and shows the output when it is not JSON", () => {
      expect(() => renderJson("<instance> is <state>"))
        .to.throw(InputTransformerError)
        .with.property("message")
        .that.contains("Output: i-0123456789 is RUNNING");
    });
  });
});
