import { expect } from "chai";
import { assertSupported, validate, JsonSchema } from "../../../handlers/jobs/schema";
import { checksum, JOB_TYPES, submitRequestSchema } from "../../../handlers/jobs/jobTypes";
import { submitModelSchema } from "../../../components/jobs/jobSchema";

describe("handlers/jobs/schema (the draft-04 subset)", () => {
  it("checks types, required, additionalProperties, enum, lengths (in code points), ranges, items", () => {
    const s: JsonSchema = {
      type: "object",
      required: ["name", "n"],
      additionalProperties: false,
      properties: {
        name: { type: "string", minLength: 2, maxLength: 3, pattern: "^[a-zé]+$" },
        n: { type: "integer", minimum: 1, maximum: 5 },
        ratio: { type: "number" },
        tags: {
          type: "array",
          minItems: 1,
          maxItems: 2,
          items: { type: "string", enum: ["a", "b"] },
        },
      },
    };
    expect(validate(s, { name: "éé", n: 3, ratio: 1 })).to.deep.equal([]);
    expect(validate(s, { name: "😀😀😀", n: 3 })).to.deep.equal(["$.name: must match ^[a-zé]+$"]);
    expect(validate(s, { name: "a", n: 0, x: 1, tags: ["c", "a", "b"] })).to.deep.equal([
      "$.name: must have at least 2 characters",
      "$.n: must be >= 1",
      "$.x: is not allowed",
      "$.tags: must have at most 2 items",
      '$.tags[0]: must be one of "a", "b"',
    ]);
    expect(validate(s, { n: 2.5, name: "abcd", ratio: "1" })).to.deep.equal([
      "$.n: must be an integer, got number",
      "$.name: must have at most 3 characters, got 4",
      "$.ratio: must be a number, got string",
    ]);
    expect(validate(s, null)).to.deep.equal(["$: must be an object, got null"]);
  });

  it("requires exactly one oneOf branch", () => {
    const s: JsonSchema = { oneOf: [{ type: "string" }, { type: "string", maxLength: 1 }] };
    expect(validate(s, "ab")).to.deep.equal([]);
    expect(validate(s, "a")).to.deep.equal(["$: must match exactly one of 2 schemas, matched 2"]);
    expect(validate(s, 1)).to.deep.equal(["$: must match exactly one of 2 schemas, matched 0"]);
  });

  it("refuses keywords and formats it does not implement, at any depth", () => {
    expect(() =>
      assertSupported({ type: "object", properties: { a: { $ref: "#/definitions/A" } as any } }),
    ).to.throw('schema #/properties/a: keyword "$ref" is not supported by lib/jsonSchema.ts');
    expect(() =>
      assertSupported({ type: "object", properties: { a: { format: "uuid" } as any } }),
    ).to.throw('schema #/properties/a: format "uuid" is not supported (only date-time)');
    expect(() =>
      assertSupported({ additionalProperties: { type: "string", minimum: "1" } as any }),
    ).not.to.throw();
    expect(() => assertSupported({ additionalProperties: { items: { x: 1 } } as any })).to.throw(
      'schema #/additionalProperties/items: keyword "x" is not supported by lib/jsonSchema.ts',
    );
  });

  it("checks type lists with null, date-time formats and additionalProperties schemas", () => {
    const s: JsonSchema = {
      type: "object",
      properties: {
        code: { type: ["integer", "null"] },
        at: { type: "string", format: "date-time" },
      },
      additionalProperties: { type: "string" },
    };
    expect(validate(s, { code: null, at: "2026-11-21T10:00:00.123Z", h: "v" })).to.deep.equal([]);
    expect(validate(s, { code: 200, at: "2026-11-21T10:00:00+01:00" })).to.deep.equal([]);
    expect(validate(s, { code: "200", at: "2026-11-21 10:00", h: 1 })).to.deep.equal([
      "$.code: must be an integer or null, got string",
      "$.at: must be an RFC 3339 date-time",
      "$.h: must be a string, got integer",
    ]);
  });
});

describe("the job type registry and the POST /jobs schema", () => {
  it("computes checksums of the UTF-8 bytes (FIPS 180-2 vectors)", async () => {
    expect(await checksum.run({ text: "abc" })).to.deep.equal({
      algorithm: "sha256",
      digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      bytes: 3,
    });
    expect(await checksum.run({ text: "abc", algorithm: "sha512" })).to.deep.equal({
      algorithm: "sha512",
      digest:
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
      bytes: 3,
    });
    expect((await checksum.run({ text: "é" })).bytes).to.equal(2);
  });

  it("builds the draft-04 model schema from the registry, one oneOf branch per type", () => {
    expect(JSON.parse(submitModelSchema())).to.deep.equal({
      $schema: "http://json-schema.org/draft-04/schema#",
      title: "SubmitJob",
      description:
        "A job: checksum (Hex digest (sha256 by default, or sha512) of the UTF-8 bytes of a text)",
      type: "object",
      required: ["type", "input"],
      additionalProperties: false,
      properties: { type: { type: "string", enum: ["checksum"] }, input: { type: "object" } },
      oneOf: [
        {
          properties: {
            type: { enum: ["checksum"] },
            input: {
              type: "object",
              required: ["text"],
              additionalProperties: false,
              properties: {
                text: { type: "string", maxLength: 32768 },
                algorithm: { type: "string", enum: ["sha256", "sha512"] },
              },
            },
          },
        },
      ],
    });
    expect(() => submitModelSchema({})).to.throw(
      "the job registry must hold at least one job type",
    );
  });

  it("accepts exactly the bodies the handler's two-step validation accepts (two job types)", () => {
    const registry = {
      ...JOB_TYPES,
      echo: {
        description: "echo",
        inputSchema: { type: "object", required: ["n"], properties: { n: { type: "integer" } } },
        run: async (i: unknown) => i,
      },
    } as any;
    const full = submitRequestSchema(registry);
    const topLevel = { ...full, oneOf: undefined };
    const handlerAccepts = (b: any) =>
      validate(topLevel, b).length === 0 &&
      validate(registry[b.type].inputSchema, b.input, "$.input").length === 0;
    const bodies = [
      { type: "checksum", input: { text: "a" } },
      { type: "checksum", input: { n: 1 } },
      { type: "echo", input: { n: 1 } },
      { type: "echo", input: { text: "a" } },
      { type: "echo", input: { n: 1, text: "a" } },
      { type: "checksum", input: { text: "a", n: 1 } },
      { type: "other", input: {} },
      { type: "echo" },
      { type: "checksum", input: { text: "a" }, extra: 1 },
    ];
    const verdicts = bodies.map((b) => [validate(full, b).length === 0, handlerAccepts(b)]);
    expect(verdicts.map(([f]) => f)).to.deep.equal([
      true,
      false,
      true,
      false,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(verdicts.map(([f, h]) => f === h)).to.deep.equal(Array(bodies.length).fill(true));
  });
});
