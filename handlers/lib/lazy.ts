// Cold-start discipline of every Switchyard handler: AWS SDK packages and the clients built from
// them are loaded on first use, not when the function's code is loaded. Loading one SDK client
// package costs a Node process 40-70 ms (bench: `bench-sdk-clients-only`), more than everything
// else a handler loads; a function only pays it on the paths that call AWS, so a misrouted or
// malformed request is answered without it, a forged webhook loads Secrets Manager but not DynamoDB
// or EventBridge, and the receiver's S3 client is loaded only for an oversized payload. This follows AWS's advice for functions with several paths
// (Lambda best practices: load only what a path needs).
//
// Where the execution environment is initialized ahead of traffic (provisioned concurrency, whose
// init is done before any request arrives), every client is built at init instead, so no request
// pays for it: Lambda says which kind of init this is in AWS_LAMBDA_INITIALIZATION_TYPE. A stack can
// ask for that everywhere (`switchyard:lambdaClientInit` = `at-init`): on-demand init is reported to
// run with a full vCPU while a 256 MB handler gets a fraction of one, so on AWS a first request that
// calls the SDK may start sooner with clients built at init. Not measurable here; README says how.
//
// Each memo is created by the handler factory at run time (once per cold start), so tests build
// fresh ones; loaded packages are kept by Node's own module cache.

import type * as DynamoDBSdk from "@aws-sdk/client-dynamodb";
import type * as DynamoDBDocumentSdk from "@aws-sdk/lib-dynamodb";
import type * as EventBridgeSdk from "@aws-sdk/client-eventbridge";
import type * as LambdaSdk from "@aws-sdk/client-lambda";
import type * as S3Sdk from "@aws-sdk/client-s3";
import type * as SecretsManagerSdk from "@aws-sdk/client-secrets-manager";
import type * as SQSSdk from "@aws-sdk/client-sqs";
import { CLIENT_INIT_ENV as CONTRACT_CLIENT_INIT_ENV } from "../../lib/contracts";

/** The `send` of an SDK v3 client: all a handler needs of one. */
export interface SendClient {
  send(command: any): Promise<any>;
}

/** Set to `at-init` by `switchyard:lambdaClientInit` (components/lambda.ts): build every client at init. */
export const CLIENT_INIT_ENV = CONTRACT_CLIENT_INIT_ENV;

/**
 * True where clients are built at init: init happens ahead of traffic (provisioned concurrency), so
 * it costs no request, or the stack asks for it (`switchyard:lambdaClientInit` = `at-init`).
 */
export function buildClientsAtInit(env: Record<string, string | undefined> = process.env): boolean {
  return (
    env.AWS_LAMBDA_INITIALIZATION_TYPE === "provisioned-concurrency" ||
    env[CLIENT_INIT_ENV] === "at-init"
  );
}

/**
 * A value built by `make` on first call and kept for the life of the execution environment; built
 * at once where clients are built at init. A `make` that throws is retried on the next call.
 */
export function lazy<T>(
  make: () => T,
  env: Record<string, string | undefined> = process.env,
): () => T {
  let built = false;
  let value: T;
  const get = (): T => {
    if (!built) {
      value = make();
      built = true;
    }
    return value;
  };
  if (buildClientsAtInit(env)) get();
  return get;
}

/**
 * An SDK client whose package is loaded and whose instance is built on its first `send`:
 * `lazyClient(() => new (require("@aws-sdk/client-sqs").SQSClient)({}))`.
 */
export function lazyClient<C extends SendClient>(
  make: () => C,
  env: Record<string, string | undefined> = process.env,
): SendClient & { readonly client: () => C } {
  const client = lazy(make, env);
  return { send: (command) => client().send(command), client };
}

/**
 * Fails the caller (a handler factory, so Lambda's init) naming a package the runtime does not
 * provide, as a top-level import did: resolving finds the file without loading it, so a missing SDK
 * package is an init error (Errors metric, retries, DLQ), not a handled failure of every request.
 */
export function ensureInstalled(...packages: string[]): void {
  for (const p of packages) require.resolve(p);
}

/** Options of a lazily built client (`lazyS3` and the like). */
export interface ClientOptions {
  /**
   * For a client only a rare path uses (the receiver's S3, for oversized payloads): built on first
   * use even where the others are built at init. Default false.
   */
  readonly rarelyUsed?: boolean;
}

/** A default-configured client of `packages`, built on first send; they must be installed now. */
function sdkClient<C extends SendClient>(
  packages: string[],
  make: () => C,
  options: ClientOptions = {},
) {
  ensureInstalled(...packages);
  return lazyClient(make, options.rarelyUsed ? {} : process.env);
}

// The SDK packages handlers use, each required on its first call (Node's module cache keeps it):
// `new (sdkSqs().SendMessageCommand)({...})`. One export per package, so a function's bundle
// requires only the packages its handler reaches (esbuild drops unused exports).
export const sdkDynamodb = (): typeof DynamoDBSdk => require("@aws-sdk/client-dynamodb");
export const sdkDynamodbDocument = (): typeof DynamoDBDocumentSdk =>
  require("@aws-sdk/lib-dynamodb");
export const sdkEventBridge = (): typeof EventBridgeSdk => require("@aws-sdk/client-eventbridge");
export const sdkLambda = (): typeof LambdaSdk => require("@aws-sdk/client-lambda");
export const sdkS3 = (): typeof S3Sdk => require("@aws-sdk/client-s3");
export const sdkSecretsManager = (): typeof SecretsManagerSdk =>
  require("@aws-sdk/client-secrets-manager");
export const sdkSqs = (): typeof SQSSdk => require("@aws-sdk/client-sqs");

// Clients with the runtime's default configuration (region, credentials, AWS_ENDPOINT_URL), built
// on first send. Creating one (in a handler factory, at init) checks that its package is installed.
export const lazyDynamodb = () =>
  sdkClient(["@aws-sdk/client-dynamodb"], () => new (sdkDynamodb().DynamoDBClient)({}));
/** A DynamoDB document client (marshalling plain objects) over a DynamoDB client of its own. */
export const lazyDynamodbDocument = (translateConfig?: DynamoDBDocumentSdk.TranslateConfig) =>
  sdkClient(["@aws-sdk/lib-dynamodb", "@aws-sdk/client-dynamodb"], () =>
    sdkDynamodbDocument().DynamoDBDocumentClient.from(
      new (sdkDynamodb().DynamoDBClient)({}),
      translateConfig,
    ),
  );
export const lazyEventBridge = () =>
  sdkClient(["@aws-sdk/client-eventbridge"], () => new (sdkEventBridge().EventBridgeClient)({}));
export const lazyLambda = () =>
  sdkClient(["@aws-sdk/client-lambda"], () => new (sdkLambda().LambdaClient)({}));
export const lazyS3 = (options?: ClientOptions) =>
  sdkClient(["@aws-sdk/client-s3"], () => new (sdkS3().S3Client)({}), options);
export const lazySecretsManager = () =>
  sdkClient(
    ["@aws-sdk/client-secrets-manager"],
    () => new (sdkSecretsManager().SecretsManagerClient)({}),
  );
export const lazySqs = (options?: ClientOptions) =>
  sdkClient(["@aws-sdk/client-sqs"], () => new (sdkSqs().SQSClient)({}), options);
