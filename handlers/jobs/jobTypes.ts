// The job type registry: what POST /jobs accepts (`type` and the schema of its `input`) and what the
// processing function runs. Add a type here and both the API Gateway model and the handlers follow.
import { createHash } from "crypto";
import { DRAFT_04, JsonSchema } from "./schema";

export interface JobType<I = any, R = any> {
  /** One line, shown in the API model's description. */
  readonly description: string;
  /** Schema of the job's `input` (the subset handlers/jobs/schema.ts validates). */
  readonly inputSchema: JsonSchema;
  /** Runs the job; a thrown error fails the attempt (Lambda retries, then the error handler). */
  run(input: I): Promise<R>;
}

export type JobRegistry = Record<string, JobType>;

/** Longest text a checksum job takes: 32768 characters keep the job item far below 400 KB. */
export const CHECKSUM_MAX_CHARS = 32768;

export interface ChecksumInput {
  text: string;
  algorithm?: "sha256" | "sha512";
}

export interface ChecksumResult {
  algorithm: "sha256" | "sha512";
  /** Lowercase hex digest of the UTF-8 bytes of `text`. */
  digest: string;
  /** Number of UTF-8 bytes hashed. */
  bytes: number;
}

export const checksum: JobType<ChecksumInput, ChecksumResult> = {
  description: "Hex digest (sha256 by default, or sha512) of the UTF-8 bytes of a text",
  inputSchema: {
    type: "object",
    required: ["text"],
    additionalProperties: false,
    properties: {
      text: { type: "string", maxLength: CHECKSUM_MAX_CHARS },
      algorithm: { type: "string", enum: ["sha256", "sha512"] },
    },
  },
  async run(input) {
    const algorithm = input.algorithm ?? "sha256";
    const bytes = Buffer.from(input.text, "utf8");
    return {
      algorithm,
      digest: createHash(algorithm).update(bytes).digest("hex"),
      bytes: bytes.length,
    };
  },
};

/** The job types this deployment runs. */
export const JOB_TYPES: JobRegistry = { checksum };

/**
 * The schema of a POST /jobs body: `type` names a registered job type and `input` matches that
 * type's schema (one `oneOf` branch per type). Draft-04, as API Gateway models require.
 */
export function submitRequestSchema(registry: JobRegistry = JOB_TYPES): JsonSchema {
  const names = Object.keys(registry).sort();
  if (names.length === 0) throw new Error("the job registry must hold at least one job type");
  return {
    $schema: DRAFT_04,
    title: "SubmitJob",
    description: `A job: ${names.map((n) => `${n} (${registry[n].description})`).join("; ")}`,
    type: "object",
    required: ["type", "input"],
    additionalProperties: false,
    properties: {
      type: { type: "string", enum: names },
      input: { type: "object" },
    },
    oneOf: names.map((n) => ({
      properties: { type: { enum: [n] }, input: registry[n].inputSchema },
    })),
  };
}
