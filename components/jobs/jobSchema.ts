// The API Gateway model of POST /jobs: the draft-04 JSON schema the submit handler also validates
// (handlers/jobs/jobTypes.ts builds it from the job type registry, so the two cannot drift).
import { JOB_TYPES, JobRegistry, submitRequestSchema } from "../../handlers/jobs/jobTypes";
import { assertSupported, DRAFT_04 } from "../../handlers/jobs/schema";

/** Model names are alphanumeric. */
export const SUBMIT_MODEL_NAME = "SubmitJob";

/** The model's schema text; throws when it uses a keyword the handler's validator does not know. */
export function submitModelSchema(registry: JobRegistry = JOB_TYPES): string {
  const schema = submitRequestSchema(registry);
  if (schema.$schema !== DRAFT_04)
    throw new Error("API Gateway models must be JSON schema draft-04");
  assertSupported(schema);
  return JSON.stringify(schema);
}
