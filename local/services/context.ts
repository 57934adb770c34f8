// What every service module of the local runtime is given: the declared program, the run's speed
// and log, a way to listen on the next port, and the other services (a bus target is a queue, a
// topic subscription a function). SwitchyardLocal implements it and composes the modules.
import * as http from "http";
import type { Recorded } from "../mocks";
import type { DeclaredProgram } from "../program";
import type { ErrorStyle } from "../httpEvents";
import type { DynamoDbService } from "./dynamodb";
import type { EventBridgeService } from "./eventbridge";
import type { FunctionUrlsService } from "./functionUrls";
import type { LambdaService } from "./lambda";
import type { MotoService } from "./moto";
import type { RecordsApiService } from "./records";
import type { RestApisService } from "./restApis";
import type { S3Service } from "./s3";
import type { SecretsManagerService } from "./secretsmanager";
import type { SnsService } from "./sns";
import type { SqsService } from "./sqs";
import type { StepFunctionsService } from "./stepfunctions";
import type { SubscriberService } from "./subscriber";

/** The service modules one run is made of. */
export interface Services {
  moto: MotoService;
  dynamodb: DynamoDbService;
  sqs: SqsService;
  sns: SnsService;
  s3: S3Service;
  secretsManager: SecretsManagerService;
  eventBridge: EventBridgeService;
  stepFunctions: StepFunctionsService;
  lambda: LambdaService;
  functionUrls: FunctionUrlsService;
  restApis: RestApisService;
  records: RecordsApiService;
  subscriber: SubscriberService;
}

export interface Runtime {
  readonly program: DeclaredProgram;
  /** Multiplies waits, retry backoffs and the anchoring window: 1 = real time. */
  readonly speed: number;
  /** The local AWS endpoint's URL (AWS_ENDPOINT_URL of every function). */
  readonly awsUrl: string;
  readonly services: Services;
  /** The declared resources of one type. */
  of(type: string): Recorded[];
  log(line: string): void;
  /** Every line log() printed: one per hop of each event. */
  readonly logLines: string[];
  /** Shows a line on the terminal only (a function's own log line): not one of the run's hops. */
  print(line: string): void;
  /** Listens on the next port, behind guardServer's limits; returns the server's URL. */
  listen(
    server: http.Server,
    name: string,
    maxBodyBytes: number,
    errorStyle: ErrorStyle,
  ): Promise<string>;
  /** Binds on the next port, skipping one something else holds. */
  onNextPort<T>(bind: (port: number) => Promise<T>): Promise<T>;
}

/** A resource's physical name: its declared `name` input, else its Pulumi name. */
export function nameOf(r: Recorded): string {
  return r.inputs.name ?? r.name;
}

/** Pulumi's mocks hand secrets over wrapped in a signature object: take the value out. */
export function unsecret<T = any>(v: any): T {
  if (
    v &&
    typeof v === "object" &&
    v["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270"
  ) {
    return unsecret(v.value);
  }
  if (Array.isArray(v)) return v.map(unsecret) as any;
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unsecret(x)])) as any;
  return v;
}
