import { expect } from "chai";
import { readFileSync } from "fs";
import { join } from "path";
import {
  compilePattern,
  EventPatternError,
  matchesPattern,
  parseIp,
  validatePattern,
  wildcardComplexity,
} from "../../lib/eventPattern";

/** An EventBridge envelope; `detail` and extra top-level fields vary per case. */
function ev(detail: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: "0",
    id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    source: "aws.ec2",
    account: "111122223333",
    time: "2017-12-22T18:43:48Z",
    region: "us-west-1",
    resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    detail,
    ...extra,
  };
}

type Case = [name: string, pattern: object | string, event: object, expected: boolean];

const cases: Case[] = [
  // --- exact values -------------------------------------------------------------------------
  ["exact string matches", { source: ["aws.ec2"] }, ev({}), true],
  ["exact string mismatch", { source: ["aws.s3"] }, ev({}), false],
  ["exact string is case-sensitive", { source: ["AWS.EC2"] }, ev({}), false],
  ["values in a pattern array are ORed", { source: ["aws.s3", "aws.ec2"] }, ev({}), true],
  ["fields are ANDed (one fails)", { source: ["aws.ec2"], region: ["eu-west-1"] }, ev({}), false],
  ["fields are ANDed (all hold)", { source: ["aws.ec2"], region: ["us-west-1"] }, ev({}), true],
  ["number matches number", { detail: { n: [5] } }, ev({ n: 5 }), true],
  ["number matches numerically equal number", { detail: { n: [5] } }, ev({ n: 5.0 }), true],
  ["number does not match a different number", { detail: { n: [5] } }, ev({ n: 6 }), false],
  ["number pattern does not match string '5'", { detail: { n: [5] } }, ev({ n: "5" }), false],
  ["string pattern '5' does not match number 5", { detail: { n: ["5"] } }, ev({ n: 5 }), false],
  ["boolean matches boolean", { detail: { ok: [true] } }, ev({ ok: true }), true],
  ["boolean does not match string 'true'", { detail: { ok: [true] } }, ev({ ok: "true" }), false],
  ["boolean false does not match true", { detail: { ok: [false] } }, ev({ ok: true }), false],
  ["null matches JSON null", { detail: { x: [null] } }, ev({ x: null }), true],
  ["null does not match a missing field", { detail: { x: [null] } }, ev({}), false],
  ["null does not match string 'null'", { detail: { x: [null] } }, ev({ x: "null" }), false],
  ["missing field never matches a value", { detail: { state: ["running"] } }, ev({}), false],
  ["missing detail never matches", { detail: { state: ["running"] } }, { source: "x" }, false],
  ["empty pattern matches every event", {}, ev({ anything: 1 }), true],
  // What the project's routes use to match everything, since AWS rejects an empty pattern.
  ["empty prefix matches any string", { source: [{ prefix: "" }] }, ev({}), true],
  ["empty prefix still needs the field", { source: [{ prefix: "" }] }, { id: "1" }, false],
  [
    "pattern given as JSON string",
    '{"detail":{"state":["running"]}}',
    ev({ state: "running" }),
    true,
  ],
  [
    "JSON string pattern mismatch",
    '{"detail":{"state":["stopped"]}}',
    ev({ state: "running" }),
    false,
  ],
  [
    "IP literals compare as addresses (event-ruler converts them to ranges)",
    { detail: { ip: ["::1"] } },
    ev({ ip: "0:0:0:0:0:0:0:1" }),
    true,
  ],

  // --- arrays and nesting -------------------------------------------------------------------
  [
    "event array matches if any element matches",
    { resources: ["b"] },
    ev({}, { resources: ["a", "b"] }),
    true,
  ],
  [
    "event array with no matching element",
    { resources: ["c"] },
    ev({}, { resources: ["a", "b"] }),
    false,
  ],
  ["empty event array matches no value", { resources: ["a"] }, ev({}, { resources: [] }), false],
  [
    "nested objects",
    { detail: { state: { name: ["running"] } } },
    ev({ state: { name: "running", code: 16 } }),
    true,
  ],
  [
    "nested objects mismatch",
    { detail: { state: { name: ["running"] } } },
    ev({ state: { name: "stopped" } }),
    false,
  ],
  [
    "nested path whose parent is a scalar does not match",
    { detail: { state: { name: ["running"] } } },
    ev({ state: "running" }),
    false,
  ],
  [
    "field inside an array of objects",
    { detail: { items: { sku: ["b"] } } },
    ev({ items: [{ sku: "a" }, { sku: "b" }] }),
    true,
  ],
  [
    "several fields must hold on the same array element",
    { detail: { items: { sku: ["a"], qty: [2] } } },
    ev({
      items: [
        { sku: "a", qty: 1 },
        { sku: "b", qty: 2 },
      ],
    }),
    false,
  ],
  [
    "several fields holding on one array element",
    { detail: { items: { sku: ["b"], qty: [2] } } },
    ev({
      items: [
        { sku: "a", qty: 1 },
        { sku: "b", qty: 2 },
      ],
    }),
    true,
  ],
  [
    "a field under an empty array of objects is absent",
    { detail: { items: { sku: [{ exists: false }] } } },
    ev({ items: [] }),
    true,
  ],
  [
    "a field under an empty array of objects does not exist",
    { detail: { items: { sku: [{ exists: true }] } } },
    ev({ items: [] }),
    false,
  ],
  ["nested event arrays are flattened", { detail: { m: [3] } }, ev({ m: [[1, 2], [3]] }), true],
  ["an object is not a leaf value", { detail: { o: ["x"] } }, ev({ o: { x: "x" } }), false],

  // --- prefix / suffix / equals-ignore-case -------------------------------------------------
  ["prefix matches", { "detail-type": [{ prefix: "EC2 Instance" }] }, ev({}), true],
  ["prefix mismatch", { "detail-type": [{ prefix: "EBS" }] }, ev({}), false],
  ["prefix is case-sensitive", { "detail-type": [{ prefix: "ec2" }] }, ev({}), false],
  ["prefix ignores numbers", { detail: { n: [{ prefix: "12" }] } }, ev({ n: 123 }), false],
  [
    "prefix with equals-ignore-case",
    { "detail-type": [{ prefix: { "equals-ignore-case": "ec2 instance" } }] },
    ev({}),
    true,
  ],
  [
    "prefix with equals-ignore-case mismatch",
    { "detail-type": [{ prefix: { "equals-ignore-case": "ebs" } }] },
    ev({}),
    false,
  ],
  ["suffix matches", { detail: { key: [{ suffix: ".png" }] } }, ev({ key: "a/b.png" }), true],
  ["suffix mismatch", { detail: { key: [{ suffix: ".png" }] } }, ev({ key: "a/b.jpg" }), false],
  [
    "suffix is case-sensitive",
    { detail: { key: [{ suffix: ".PNG" }] } },
    ev({ key: "b.png" }),
    false,
  ],
  [
    "suffix with equals-ignore-case",
    { detail: { key: [{ suffix: { "equals-ignore-case": ".PNG" } }] } },
    ev({ key: "b.png" }),
    true,
  ],
  [
    "equals-ignore-case matches",
    { detail: { state: [{ "equals-ignore-case": "RUNNING" }] } },
    ev({ state: "running" }),
    true,
  ],
  [
    "equals-ignore-case mismatch",
    { detail: { state: [{ "equals-ignore-case": "RUNNING" }] } },
    ev({ state: "runnin" }),
    false,
  ],
  [
    "equals-ignore-case with empty string does not match non-empty",
    { detail: { state: [{ "equals-ignore-case": "" }] } },
    ev({ state: "x" }),
    false,
  ],
  [
    "equals-ignore-case ignores non-strings",
    { detail: { n: [{ "equals-ignore-case": "1" }] } },
    ev({ n: 1 }),
    false,
  ],

  // --- anything-but ---------------------------------------------------------------------------
  [
    "anything-but string, other value",
    { detail: { state: [{ "anything-but": "init" }] } },
    ev({ state: "running" }),
    true,
  ],
  [
    "anything-but string, same value",
    { detail: { state: [{ "anything-but": "init" }] } },
    ev({ state: "init" }),
    false,
  ],
  [
    "anything-but does not match a missing field",
    { detail: { state: [{ "anything-but": "init" }] } },
    ev({}),
    false,
  ],
  [
    "anything-but matches null",
    { detail: { state: [{ "anything-but": "init" }] } },
    ev({ state: null }),
    true,
  ],
  [
    "anything-but list excludes each listed value",
    { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    ev({ state: "overloaded" }),
    false,
  ],
  [
    "anything-but list lets other values through",
    { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    ev({ state: "running" }),
    true,
  ],
  [
    "anything-but number, same number",
    { detail: { n: [{ "anything-but": 0 }] } },
    ev({ n: 0 }),
    false,
  ],
  [
    "anything-but number, other number",
    { detail: { n: [{ "anything-but": 0 }] } },
    ev({ n: 1 }),
    true,
  ],
  [
    "anything-but number vs string '0'",
    { detail: { n: [{ "anything-but": 0 }] } },
    ev({ n: "0" }),
    true,
  ],
  [
    "anything-but number list",
    { detail: { n: [{ "anything-but": [100, 200] }] } },
    ev({ n: 200 }),
    false,
  ],
  [
    "anything-but with an event array matches if any element is allowed",
    { detail: { s: [{ "anything-but": "stopped" }] } },
    ev({ s: ["stopped", "running"] }),
    true,
  ],
  [
    "anything-but with an event array of only excluded values",
    { detail: { s: [{ "anything-but": "stopped" }] } },
    ev({ s: ["stopped"] }),
    false,
  ],
  [
    "anything-but prefix excludes matching prefix",
    { detail: { s: [{ "anything-but": { prefix: "init" } }] } },
    ev({ s: "initializing" }),
    false,
  ],
  [
    "anything-but prefix lets others through",
    { detail: { s: [{ "anything-but": { prefix: "init" } }] } },
    ev({ s: "running" }),
    true,
  ],
  [
    "anything-but prefix matches a number (AWS-recorded)",
    { detail: { s: [{ "anything-but": { prefix: "init" } }] } },
    ev({ s: 12 }),
    true,
  ],
  [
    "anything-but prefix list",
    { detail: { s: [{ "anything-but": { prefix: ["a", "b"] } }] } },
    ev({ s: "beta" }),
    false,
  ],
  [
    "anything-but suffix excludes",
    { detail: { f: [{ "anything-but": { suffix: ".txt" } }] } },
    ev({ f: "a.txt" }),
    false,
  ],
  [
    "anything-but suffix lets others through",
    { detail: { f: [{ "anything-but": { suffix: ".txt" } }] } },
    ev({ f: "a.png" }),
    true,
  ],
  [
    "anything-but equals-ignore-case excludes regardless of case",
    { detail: { s: [{ "anything-but": { "equals-ignore-case": "STOPPED" } }] } },
    ev({ s: "Stopped" }),
    false,
  ],
  [
    "anything-but equals-ignore-case list lets others through",
    { detail: { s: [{ "anything-but": { "equals-ignore-case": ["A", "B"] } }] } },
    ev({ s: "c" }),
    true,
  ],
  [
    "anything-but wildcard excludes",
    { detail: { p: [{ "anything-but": { wildcard: "*/lib/*" } }] } },
    ev({ p: "src/lib/x.ts" }),
    false,
  ],
  [
    "anything-but wildcard lets others through",
    { detail: { p: [{ "anything-but": { wildcard: "*/lib/*" } }] } },
    ev({ p: "src/bin/x.ts" }),
    true,
  ],
  [
    "anything-but wildcard list",
    { detail: { p: [{ "anything-but": { wildcard: ["*.md", "*.txt"] } }] } },
    ev({ p: "notes.txt" }),
    false,
  ],

  // --- numeric --------------------------------------------------------------------------------
  [
    "numeric range, inside",
    { detail: { c: [{ numeric: [">", 0, "<=", 5] }] } },
    ev({ c: 5 }),
    true,
  ],
  [
    "numeric range, open bottom excluded",
    { detail: { c: [{ numeric: [">", 0, "<=", 5] }] } },
    ev({ c: 0 }),
    false,
  ],
  [
    "numeric range, above top",
    { detail: { c: [{ numeric: [">", 0, "<=", 5] }] } },
    ev({ c: 5.01 }),
    false,
  ],
  [
    "numeric ignores numeric strings",
    { detail: { c: [{ numeric: [">", 0] }] } },
    ev({ c: "3" }),
    false,
  ],
  ["numeric equals", { detail: { c: [{ numeric: ["=", 3] }] } }, ev({ c: 3 }), true],
  ["numeric equals mismatch", { detail: { c: [{ numeric: ["=", 3] }] } }, ev({ c: 3.5 }), false],
  ["numeric less-than negative", { detail: { c: [{ numeric: ["<", 10] }] } }, ev({ c: -1 }), true],
  ["numeric >= inclusive", { detail: { c: [{ numeric: [">=", 1.5] }] } }, ev({ c: 1.5 }), true],
  ["numeric < exclusive", { detail: { c: [{ numeric: ["<", 10] }] } }, ev({ c: 10 }), false],
  [
    "numeric on an event array",
    { detail: { c: [{ numeric: [">", 10] }] } },
    ev({ c: [1, 20] }),
    true,
  ],

  // --- exists -------------------------------------------------------------------------------
  ["exists true, present", { detail: { k: [{ exists: true }] } }, ev({ k: "v" }), true],
  ["exists true, missing", { detail: { k: [{ exists: true }] } }, ev({}), false],
  ["exists true matches null", { detail: { k: [{ exists: true }] } }, ev({ k: null }), true],
  ["exists false, missing", { detail: { k: [{ exists: false }] } }, ev({}), true],
  ["exists false, present", { detail: { k: [{ exists: false }] } }, ev({ k: 0 }), false],
  [
    "exists true on an object (not a leaf)",
    { detail: { k: [{ exists: true }] } },
    ev({ k: { a: 1 } }),
    false,
  ],
  [
    "exists false on an object (not a leaf)",
    { detail: { k: [{ exists: false }] } },
    ev({ k: { a: 1 } }),
    true,
  ],
  ["exists true on an empty array", { detail: { k: [{ exists: true }] } }, ev({ k: [] }), false],
  ["exists false on an empty array", { detail: { k: [{ exists: false }] } }, ev({ k: [] }), true],
  ["replay exclusion, live event", { "replay-name": [{ exists: false }] }, ev({}), true],
  [
    "replay exclusion, replayed event",
    { "replay-name": [{ exists: false }] },
    ev({}, { "replay-name": "nightly-replay" }),
    false,
  ],
  [
    "exists false below a missing parent, ORed with anything-but (AWS-recorded)",
    {
      dynamodb: {
        NewImage: { homemade: { S: [{ "anything-but": ["roses"] }, { exists: false }] } },
      },
    },
    { dynamodb: { NewImage: { purchased: { N: "789" } } } },
    true,
  ],

  // --- cidr -----------------------------------------------------------------------------------
  [
    "cidr IPv4 inside",
    { detail: { ip: [{ cidr: "10.0.0.0/24" }] } },
    ev({ ip: "10.0.0.17" }),
    true,
  ],
  [
    "cidr IPv4 outside",
    { detail: { ip: [{ cidr: "10.0.0.0/24" }] } },
    ev({ ip: "10.0.1.1" }),
    false,
  ],
  [
    "cidr IPv4 /8 top of range",
    { detail: { ip: [{ cidr: "10.0.0.0/8" }] } },
    ev({ ip: "10.255.255.255" }),
    true,
  ],
  [
    "cidr ignores non-IP strings",
    { detail: { ip: [{ cidr: "10.0.0.0/24" }] } },
    ev({ ip: "host" }),
    false,
  ],
  ["cidr ignores numbers", { detail: { ip: [{ cidr: "10.0.0.0/24" }] } }, ev({ ip: 10 }), false],
  [
    "cidr IPv6 inside",
    { detail: { ip: [{ cidr: "2001:db8::/32" }] } },
    ev({ ip: "2001:db8:0:1::5" }),
    true,
  ],
  [
    "cidr IPv6 outside",
    { detail: { ip: [{ cidr: "2001:db8::/32" }] } },
    ev({ ip: "2001:db9::1" }),
    false,
  ],
  [
    "cidr IPv6 vs IPv4 event",
    { detail: { ip: [{ cidr: "::/1" }] } },
    ev({ ip: "10.0.0.1" }),
    false,
  ],

  // --- wildcard -------------------------------------------------------------------------------
  [
    "wildcard suffix-like",
    { detail: { k: [{ wildcard: "*.png" }] } },
    ev({ k: "dir/photo.png" }),
    true,
  ],
  [
    "wildcard in the middle spans slashes",
    { detail: { k: [{ wildcard: "dir/*/f" }] } },
    ev({ k: "dir/a/b/f" }),
    true,
  ],
  ["wildcard mismatch", { detail: { k: [{ wildcard: "dir/*/f" }] } }, ev({ k: "dir/a/g" }), false],
  [
    "wildcard is case-sensitive",
    { detail: { k: [{ wildcard: "*.PNG" }] } },
    ev({ k: "a.png" }),
    false,
  ],
  [
    "wildcard escaped star is literal",
    { detail: { k: [{ wildcard: "a\\*b" }] } },
    ev({ k: "a*b" }),
    true,
  ],
  [
    "wildcard escaped star is not a wildcard",
    { detail: { k: [{ wildcard: "a\\*b" }] } },
    ev({ k: "axb" }),
    false,
  ],
  [
    "wildcard regex characters are literal",
    { detail: { k: [{ wildcard: "a.c*" }] } },
    ev({ k: "abcd" }),
    false,
  ],
  ["wildcard ignores numbers", { detail: { k: [{ wildcard: "1*" }] } }, ev({ k: 12 }), false],

  // --- $or ------------------------------------------------------------------------------------
  [
    "$or at the top level, second branch",
    { $or: [{ source: ["aws.s3"] }, { "detail-type": [{ prefix: "EC2" }] }] },
    ev({}),
    true,
  ],
  ["$or with no branch matching", { $or: [{ source: ["a"] }, { source: ["b"] }] }, ev({}), false],
  [
    "$or nested inside detail",
    { detail: { $or: [{ c: [{ numeric: [">", 0, "<=", 5] }] }, { d: [{ numeric: ["<", 10] }] }] } },
    ev({ c: 50, d: 3 }),
    true,
  ],
  [
    "$or is ANDed with its sibling fields",
    { source: ["aws.s3"], $or: [{ region: ["us-west-1"] }, { account: ["x"] }] },
    ev({}),
    false,
  ],
  [
    "nested $or inside a $or branch",
    { $or: [{ source: ["x"] }, { $or: [{ region: ["y"] }, { account: ["111122223333"] }] }] },
    ev({}),
    true,
  ],
  // --- dotted field names ---------------------------------------------------------------------
  // event-ruler flattens both the pattern and the event into dot-joined paths before matching,
  // so a dot inside a key is indistinguishable from one level of nesting (AWS-recorded:
  // LocalStack dot_joining_pattern / dot_joining_event).
  [
    "dotted pattern key matches nested event fields",
    { detail: { "state.status": ["running"] } },
    ev({ state: { status: "running" } }),
    true,
  ],
  [
    "nested pattern matches a dotted event key",
    { detail: { state: { status: ["running"] } } },
    ev({ "state.status": "running" }),
    true,
  ],
  [
    "dotted pattern key matches a dotted event key",
    { "detail.state.status": ["running"] },
    ev({ "state.status": "running" }),
    true,
  ],
  [
    "dots split differently in pattern and event still meet",
    { "detail.state": { "status.code": [16] } },
    { detail: { "state.status": { code: 16 } } },
    true,
  ],
  [
    "dotted pattern key does not reach a deeper event path",
    { detail: { "state.status": { status: ["running"] } } },
    ev({ state: { status: "running" } }),
    false,
  ],
  [
    "nested pattern does not reach under a dotted event key",
    { detail: { state: { status: ["running"] } } },
    ev({ "state.status": { status: "running" } }),
    false,
  ],
  [
    "dotted pattern key inside an array of objects",
    { detail: { "items.sku": ["b"] } },
    ev({ items: [{ sku: "a" }, { sku: "b" }] }),
    true,
  ],
  [
    "dotted and nested spellings of one field: the later one wins (JsonRuleCompiler put)",
    { detail: { "a.b": ["x"], a: { b: ["y"] } } },
    ev({ a: { b: "y" } }),
    true,
  ],
  [
    "dotted and nested spellings of one field: the earlier one is dropped",
    { detail: { "a.b": ["x"], a: { b: ["y"] } } },
    ev({ a: { b: "x" } }),
    false,
  ],
  [
    "exists:false sees a dotted event key",
    { detail: { state: { status: [{ exists: false }] } } },
    ev({ "state.status": "running" }),
    false,
  ],

  // --- array consistency (event-ruler ACFinder) -------------------------------------------------
  [
    "exists:false after a matched field only looks at the same array element",
    { detail: { items: { qty: [2], sku: [{ exists: false }] } } },
    ev({ items: [{ qty: 2 }, { sku: "a" }] }),
    true,
  ],
  [
    // Rule fields are visited in sorted name order; an absence checked before any array element
    // has been chosen sees every element (ACFinder.tryMustNotExistMatch with empty membership).
    "exists:false before any matched field sees every array element",
    { detail: { items: { a: [{ exists: false }], b: [2] } } },
    ev({ items: [{ b: 2 }, { a: "x" }] }),
    false,
  ],
  [
    "$or branches are separate rules, each array-consistent",
    { detail: { items: { sku: ["a"] }, $or: [{ items: { qty: [2] } }, { x: [1] }] } },
    ev({
      items: [
        { sku: "a", qty: 1 },
        { sku: "b", qty: 2 },
      ],
    }),
    false,
  ],
];

describe("lib/eventPattern", () => {
  describe("matchesPattern", () => {
    for (const [name, pattern, event, expected] of cases) {
      it(`${expected ? "matches" : "rejects"}: ${name}`, () => {
        expect(matchesPattern(pattern, event)).to.equal(expected);
      });
    }

    it("compilePattern returns a reusable predicate", () => {
      const isRunning = compilePattern({ detail: { state: ["running"] } });
      expect(isRunning(ev({ state: "running" }))).to.equal(true);
      expect(isRunning(ev({ state: "stopped" }))).to.equal(false);
    });

    it("throws for an invalid pattern instead of returning false", () => {
      expect(() => matchesPattern({ source: "aws.ec2" }, ev({}))).to.throw(EventPatternError);
    });
  });

  describe("validatePattern", () => {
    type BadCase = [name: string, pattern: unknown, path: string, message: RegExp];
    const bad: BadCase[] = [
      ["leaf that is a string", { source: "aws.ec2" }, "source", /must be an object or an array/],
      ["leaf that is a number", { detail: { n: 5 } }, "detail.n", /must be an object or an array/],
      ["leaf that is null", { detail: { n: null } }, "detail.n", /must be an object or an array/],
      ["empty array", { resources: [] }, "resources", /Empty arrays are not allowed/],
      ["nested empty object", { detail: {} }, "detail", /Empty objects are not allowed/],
      ["nested array value", { detail: { n: [[1]] } }, "detail.n", /Match value must be/],
      [
        "unknown operator",
        { detail: { s: [{ contains: "a" }] } },
        "detail.s",
        /Unrecognized match type contains/,
      ],
      [
        "operator with two keys",
        { s: [{ prefix: "a", suffix: "b" }] },
        "s",
        /Only one key allowed/,
      ],
      ["empty match expression", { s: [{}] }, "s", /Match expression name not found/],
      [
        "operator names are case-sensitive",
        { s: [{ Prefix: "a" }] },
        "s",
        /Unrecognized match type Prefix/,
      ],
      [
        "prefix that is a number",
        { s: [{ prefix: 1 }] },
        "s",
        /prefix match pattern must be a string/,
      ],
      [
        "prefix with unsupported inner op",
        { s: [{ prefix: { wildcard: "a" } }] },
        "s",
        /Unsupported prefix pattern/,
      ],
      [
        "suffix that is an array",
        { s: [{ suffix: ["a"] }] },
        "s",
        /suffix match pattern must be a string/,
      ],
      [
        "equals-ignore-case with an object (AWS-recorded)",
        { s: [{ "equals-ignore-case": { prefix: "ec2" } }] },
        "s",
        /equals-ignore-case match pattern must be a string/,
      ],
      ["numeric not an array", { c: [{ numeric: ">" }] }, "c", /must be an array/],
      [
        "numeric unknown operator",
        { c: [{ numeric: ["!=", 1] }] },
        "c",
        /Unrecognized numeric range operator: !=/,
      ],
      [
        "numeric with two lower bounds (AWS-recorded)",
        { c: [{ numeric: [">", 0, ">", 0] }] },
        "c",
        /Bad numeric range operator: >/,
      ],
      [
        "numeric upper bound first",
        { c: [{ numeric: ["<", 5, ">", 0] }] },
        "c",
        /Too many elements/,
      ],
      [
        "numeric bottom above top",
        { c: [{ numeric: [">", 5, "<", 3] }] },
        "c",
        /Bottom must be less than top/,
      ],
      [
        "numeric string operand",
        { c: [{ numeric: ["<", "5"] }] },
        "c",
        /Value of < must be numeric/,
      ],
      ["numeric missing operand", { c: [{ numeric: ["="] }] }, "c", /Value of = must be numeric/],
      ["exists not boolean", { k: [{ exists: "yes" }] }, "k", /either true or false/],
      [
        "anything-but null (AWS-recorded)",
        { s: [{ "anything-but": null }] },
        "s",
        /anything-but must be/,
      ],
      [
        "anything-but list with null (AWS-recorded)",
        { s: [{ "anything-but": ["a", null] }] },
        "s",
        /null\|boolean/,
      ],
      ["anything-but boolean", { s: [{ "anything-but": true }] }, "s", /anything-but must be/],
      [
        "anything-but mixed list",
        { s: [{ "anything-but": ["a", 1] }] },
        "s",
        /mixed type is not supported/,
      ],
      ["anything-but empty list", { s: [{ "anything-but": [] }] }, "s", /either all values/],
      [
        "anything-but empty prefix",
        { s: [{ "anything-but": { prefix: "" } }] },
        "s",
        /Null prefix\/suffix/,
      ],
      [
        "anything-but prefix with equals-ignore-case (AWS-recorded)",
        { s: [{ "anything-but": { prefix: { "equals-ignore-case": "file" } } }] },
        "s",
        /Value of anything-but must be an array or single string\/number value\./,
      ],
      [
        "anything-but numeric",
        { s: [{ "anything-but": { numeric: [">", 1] } }] },
        "s",
        /Unsupported anything-but pattern: numeric/,
      ],
      [
        "anything-but wildcard with **",
        { s: [{ "anything-but": { wildcard: "a**" } }] },
        "s",
        /Consecutive wildcard/,
      ],
      [
        // event-ruler parses the quoted value ('"' + value + '"') as UTF-8, so positions are byte
        // offsets one past the value's own index (AWS-recorded: "...:**:..." reports pos 26).
        "wildcard with consecutive stars",
        { s: [{ wildcard: "a**b" }] },
        "s",
        /Consecutive wildcard characters at pos 2$/,
      ],
      [
        "wildcard with consecutive stars after a multi-byte character",
        { s: [{ wildcard: "é**" }] },
        "s",
        /Consecutive wildcard characters at pos 3$/,
      ],
      [
        "wildcard with invalid escape",
        { s: [{ wildcard: "a\\b" }] },
        "s",
        /Invalid escape character at pos 2$/,
      ],
      [
        "cidr with a bad IP (AWS-recorded)",
        { ip: [{ cidr: "10.0.0.300/24" }] },
        "ip",
        /Nonstandard IP address: 10\.0\.0\.300$/,
      ],
      [
        "cidr with a bad mask (AWS-recorded)",
        { ip: [{ cidr: "10.0.0.0/33" }] },
        "ip",
        /IPv4 mask bits must be < 32/,
      ],
      [
        "cidr IPv6 mask too large",
        { ip: [{ cidr: "2001:db8::/128" }] },
        "ip",
        /IPv6 mask bits must be < 128/,
      ],
      ["cidr without a mask", { ip: [{ cidr: "10.0.0.1" }] }, "ip", /one '\/' required/],
      [
        // AWS-recorded: event-ruler reuses the prefix wording for a non-string cidr.
        "cidr that is not a string",
        { ip: [{ cidr: 10 }] },
        "ip",
        /prefix match pattern must be a string/,
      ],
      ["$or with a single branch", { $or: [{ a: ["1"] }] }, "$or", /at least 2 Objects/],
      ["$or that is not an array", { $or: { a: ["1"] } }, "$or", /It must be an Array/],
      [
        "$or with a non-object branch",
        { $or: [{ a: ["1"] }, ["b"]] },
        "$or[1]",
        /Only JSON object/,
      ],
      [
        "$or branch that is empty",
        { detail: { $or: [{ a: ["1"] }, {}] } },
        "detail",
        /Empty objects/,
      ],
      [
        "operator name used as a field inside $or",
        { $or: [{ prefix: ["a"] }, { b: ["c"] }] },
        "prefix",
        /reserved fieldName/,
      ],
      ["pattern that is an array", [{ source: ["a"] }], "", /Filter is not an object/],
      ["pattern that is invalid JSON text", '{"source": [', "", /not valid JSON/],
    ];

    for (const [name, pattern, path, message] of bad) {
      it(`rejects ${name}`, () => {
        let error: unknown;
        try {
          validatePattern(pattern);
        } catch (err) {
          error = err;
        }
        expect(error, "expected validatePattern to throw").to.be.instanceOf(EventPatternError);
        const e = error as EventPatternError;
        expect(e.path).to.equal(path);
        expect(e.message).to.match(message);
        // The message itself names the field so logs are useful without the structured path.
        expect(e.message).to.contain(`"${path || "<root>"}"`);
      });
    }

    const good: Array<[string, unknown]> = [
      ["the empty pattern", {}],
      ["a JSON string", '{"source":["aws.ec2"]}'],
      ["numeric with only a lower bound", { c: [{ numeric: [">=", 0] }] }],
      ["cidr IPv4 /31", { ip: [{ cidr: "10.0.0.0/31" }] }],
      ["anything-but number list", { n: [{ "anything-but": [1, 2.5] }] }],
      ["wildcard with escapes", { s: [{ wildcard: "a\\*\\\\*" }] }],
      ["mixed exact values and operators", { s: ["a", 1, true, null, { prefix: "b" }] }],
    ];
    for (const [name, pattern] of good) {
      it(`accepts ${name}`, () => {
        expect(() => validatePattern(pattern)).not.to.throw();
      });
    }
  });

  describe('wildcard complexity (PutRule\'s "Rule is too complex")', () => {
    const TOO_COMPLEX =
      "Rule is too complex - try using fewer wildcard characters or fewer repeating character " +
      "sequences after a wildcard character";

    // Expected values are event-ruler's own MachineComplexityEvaluatorTest vectors: the most
    // wildcard-pattern prefixes one input value can be in at once.
    const vectors: Array<[string[], number]> = [
      [["*"], 1],
      [["abc"], 1],
      [["*ab"], 2],
      [["*aa"], 3],
      [["a*b"], 2],
      [["aa*"], 2],
      [["a*bb"], 3],
      [["a*bcb"], 3],
      [["a*bbb"], 4],
      [["*ab*ad"], 4],
      [["*aba*"], 4],
      [["a*b*bb"], 5],
      [["a*b*cd"], 3],
      [["ab*c", "x*xx"], 3],
      [["*abc", "*abcde"], 4],
      [["a*aaa", "aa*aa"], 7],
      [["a*aax", "aaa*x"], 5],
      [["abc*", "abcde*"], 3],
      [["ab*cd", "ab*wx", "ab*yz"], 6],
      [["*ab*b*b*"], 7],
      [["*a*a*a*a*a*a*a*a*"], 17],
      [["ab*c", "ab*c"], 2],
      [["F*eatureFeature", "Fe*atureFeature", "Fea*tureFeature"], 10],
      [
        // testEvaluateQuaminaExploder
        ["aahed*", "aal*ii", "aargh*", "aarti*", "a*baca", "*abaci", "a*back", "ab*acs"]
          .concat(["abaf*t", "*abaka", "ab*amp", "a*band", "*abase", "abash*", "abas*k"])
          .concat(["ab*ate", "aba*ya", "abbas*", "abbed*", "ab*bes", "abbey*", "*abbot"])
          .concat(["ab*cee", "abea*m", "abe*ar", "a*bele", "a*bers", "abet*s", "*abhor"])
          .concat(["abi*de", "a*bies", "*abled"]),
        45,
      ],
    ];
    for (const [patterns, expected] of vectors) {
      const label = patterns.length > 3 ? `${patterns.length} patterns` : patterns.join(" + ");
      it(`${label} -> ${expected}`, () => {
        expect(wildcardComplexity(patterns)).to.equal(expected);
      });
    }

    function rejection(pattern: object): EventPatternError | undefined {
      try {
        validatePattern(pattern);
      } catch (err) {
        if (err instanceof EventPatternError) return err;
        throw err;
      }
      return undefined;
    }

    it("rejects a pattern AWS rejected (complexity 11) with AWS's text", () => {
      const err = rejection({ EventBusArn: [{ wildcard: "*:*:*:*:*:event-bus/*" }] });
      expect(err?.reason).to.equal(TOO_COMPLEX);
      expect(err?.path).to.equal("EventBusArn");
    });

    it("accepts a pattern AWS accepted (complexity 7, repeated sequence after a wildcard)", () => {
      expect(rejection({ f: [{ wildcard: "/Users/*/dir/dir/dir/dir/dir/doc.txt" }] })).to.equal(
        undefined,
      );
    });

    it("sums the wildcards of one field: three stack ids pass, four do not (9 vs 12)", () => {
      const ids = (names: string[]) => names.map((n) => ({ wildcard: `*:stack/${n}/*` }));
      const three = ["SharedStack", "TrackerStack", "WorkerStack"];
      expect(rejection({ detail: { "stack-id": ids(three) } })).to.equal(undefined);
      const four = rejection({ detail: { "stack-id": ids([...three, "MonitoringStack"]) } });
      expect(four?.reason).to.equal(TOO_COMPLEX);
      expect(four?.path).to.equal("detail.stack-id");
    });

    it("counts $or branches that share a field's machine together", () => {
      const ids = (names: string[]) => names.map((n) => ({ wildcard: `*:stack/${n}/*` }));
      const pattern = {
        $or: [
          { "stack-id": ids(["SharedStack", "TrackerStack"]) },
          { "stack-id": ids(["WorkerStack", "MonitoringStack"]) },
        ],
      };
      expect(rejection(pattern)?.reason).to.equal(TOO_COMPLEX);
    });

    it("takes the maximum, not the sum, across different fields", () => {
      const ids = (names: string[]) => names.map((n) => ({ wildcard: `*:stack/${n}/*` }));
      const pattern = {
        a: ids(["SharedStack", "TrackerStack", "WorkerStack"]),
        b: ids(["SharedStack", "TrackerStack", "WorkerStack"]),
      };
      expect(rejection(pattern)).to.equal(undefined);
    });

    it("does not count anything-but wildcards (event-ruler counts MatchType.WILDCARD only)", () => {
      const pattern = { f: [{ "anything-but": { wildcard: "*:*:*:*:*:event-bus/*" } }] };
      expect(rejection(pattern)).to.equal(undefined);
    });

    it("compilePattern and matchesPattern refuse a too-complex pattern too", () => {
      const pattern = { f: [{ wildcard: "*:*:*:*:*:event-bus/*" }] };
      expect(() => compilePattern(pattern)).to.throw(EventPatternError, /Rule is too complex/);
      expect(() => matchesPattern(pattern, {})).to.throw(EventPatternError, /Rule is too complex/);
    });
  });

  describe("AWS-recorded corpus (LocalStack event_pattern_templates)", () => {
    interface CorpusCase {
      name: string;
      source: { path: string; commit: string };
      expected: "match" | "no-match" | "invalid";
      awsError?: string;
      event?: object;
      eventText?: string;
      pattern?: object;
      patternText?: string;
    }
    const fixture = join(__dirname, "../fixtures/eventPatterns/localstack-aws-validated.json");
    const corpus = JSON.parse(readFileSync(fixture, "utf8")) as { cases: CorpusCase[] };

    // Cases in the corpus that cannot serve as AWS evidence; each is printed and counted.
    const EXCLUDED: Record<string, string> = {
      "complex_multi_key.json5":
        "historical template, never recorded against AWS (absent from the snapshot) and replaced " +
        "by complex_multi_key_event.json + complex_multi_key_event_pattern.json; its own time " +
        "prefix 2017-10-02 cannot match the event's 2022-07-13, so its 'match' label is wrong",
    };
    // Verdicts are compared for these, but not the message: AWS's text is the Jackson JSON parser's
    // and ours is JavaScript's JSON.parse.
    const MESSAGE_NOT_COMPARED: Record<string, string> = {
      "invalid_json_event_pattern[this is valid json but not a dict]": "JSON syntax error text",
      "invalid_json_event_pattern[{'bad': 'quotation'}]": "JSON syntax error text",
      'invalid_json_event_pattern[{"not": closed mark"]': "JSON syntax error text",
    };

    function verdict(c: CorpusCase): { got: string; reason?: string } {
      const event = c.event ?? (JSON.parse(c.eventText as string) as object);
      try {
        const matched = matchesPattern(c.pattern ?? (c.patternText as string), event);
        return { got: matched ? "match" : "no-match" };
      } catch (err) {
        if (err instanceof EventPatternError) return { got: "invalid", reason: err.reason };
        throw err;
      }
    }

    const results: Array<{ name: string; ok: boolean }> = [];
    after(() => {
      const agreed = results.filter((r) => r.ok).length;
      const excluded = Object.keys(EXCLUDED).length;
      const lines = [
        `  AWS-recorded corpus: ${agreed} of ${results.length} compared cases agree ` +
          `(${corpus.cases.length} in the corpus, ${excluded} excluded):`,
        ...Object.entries(EXCLUDED).map(([name, why]) => `    - ${name}: ${why}`),
        `  messages not compared (${Object.keys(MESSAGE_NOT_COMPARED).length}): ` +
          Object.keys(MESSAGE_NOT_COMPARED).join(", "),
      ];
      console.log(lines.join("\n"));
    });

    it("vendors every case and excludes only cases it holds", () => {
      expect(corpus.cases).to.have.length(171);
      const names = new Set(corpus.cases.map((c) => c.name));
      expect(names.size).to.equal(corpus.cases.length);
      for (const name of [...Object.keys(EXCLUDED), ...Object.keys(MESSAGE_NOT_COMPARED)]) {
        expect(names.has(name), name).to.equal(true);
      }
    });

    for (const c of corpus.cases) {
      if (EXCLUDED[c.name]) {
        it.skip(`${c.name}: excluded (${EXCLUDED[c.name]})`);
        continue;
      }
      it(`${c.name}: ${c.expected}`, () => {
        const { got, reason } = verdict(c);
        const messageChecked = c.awsError !== undefined && !MESSAGE_NOT_COMPARED[c.name];
        results.push({
          name: c.name,
          ok: got === c.expected && (!messageChecked || reason === c.awsError),
        });
        expect(got, `verdict for ${c.source.path}`).to.equal(c.expected);
        if (messageChecked) expect(reason).to.equal(c.awsError);
      });
    }
  });

  describe("parseIp", () => {
    it("parses IPv4", () => {
      expect(Array.from(parseIp("192.168.0.1") ?? [])).to.deep.equal([192, 168, 0, 1]);
    });
    it("parses compressed IPv6 and an embedded IPv4 tail", () => {
      const mapped = Array.from(parseIp("::ffff:1.2.3.4") ?? []);
      expect(mapped).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4]);
      expect(Array.from(parseIp("2001:db8::1") ?? []).slice(0, 2)).to.deep.equal([0x20, 0x01]);
    });
    it("rejects non-addresses", () => {
      const invalid = ["256.0.0.1", "1.2.3", "1::2::3", "host", "1:2:3:4:5:6:7:8:9", "1.2.3.4:80"];
      for (const s of invalid) {
        expect(parseIp(s), s).to.equal(null);
      }
    });
  });
});
