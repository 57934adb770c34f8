// Step Functions: the declared state machines executed with aws-local-stepfunctions; HTTP Tasks
// call the records API with their connection's key.
import { arnFor } from "../mocks";
import { AwsError, LocalServices } from "../awsEndpoint";
import { LocalStepFunctions } from "../stateMachines";
import { eventOfInput } from "../journalFacts";
import { nameOf, Runtime } from "./context";

export class StepFunctionsService {
  public sfn!: LocalStepFunctions;

  constructor(private readonly rt: Runtime) {}

  build(): void {
    const rt = this.rt;
    const defs = new Map<string, { arn: string; name: string; definition: any }>();
    for (const s of rt.of("aws:sfn/stateMachine:StateMachine")) {
      const arn = arnFor(s.type, s.name, s.inputs);
      defs.set(arn, { arn, name: nameOf(s), definition: JSON.parse(s.inputs.definition) });
    }
    this.sfn = new LocalStepFunctions(defs, {
      connections: rt.services.eventBridge.connections,
      rewriteUrl: (u) => rt.services.records.rewriteUrl(u),
      snsPublish: async (a) => rt.services.sns.publish(a),
      invokeLambda: (n, p) => rt.services.lambda.lambdas.invoke(n, p),
      putEvents: async (entries) => rt.services.eventBridge.bus.putEvents(entries),
      log: (l) => rt.log(l),
      onExecution: (exec, step, state) =>
        rt.services.eventBridge.journal.note({
          kind: "execution",
          stateMachine: exec.stateMachineArn.split(":").pop()!,
          executionArn: exec.executionArn,
          name: exec.name,
          status: exec.status,
          step,
          ...(state ? { state } : {}),
          path: [...exec.path],
          ...(exec.error ? { error: `${exec.error}: ${exec.cause ?? ""}`.slice(0, 500) } : {}),
          ...eventOfInput(exec.input),
        }),
      speed: rt.speed,
    });
  }

  private readonly createdAt = Date.now() / 1000;

  /** ListStateMachines: every declared state machine (one page). */
  listStateMachines() {
    return {
      stateMachines: [...this.sfn.definitions.values()].map((d) => ({
        stateMachineArn: d.arn,
        name: d.name,
        type: "STANDARD",
        creationDate: this.createdAt,
      })),
    };
  }

  /** ListExecutions: a state machine's executions, newest first, optionally of one status. */
  listExecutions(request: Record<string, unknown>) {
    const arn = request.stateMachineArn;
    if (typeof arn !== "string")
      throw new AwsError("ValidationException", "Must provide a StateMachine ARN or MapRun ARN");
    if (!this.sfn.definitions.has(arn))
      throw new AwsError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`);
    const status = request.statusFilter;
    const max =
      request.maxResults === undefined || request.maxResults === 0
        ? 100
        : Number(request.maxResults);
    if (!Number.isInteger(max) || max < 0 || max > 1000)
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${String(request.maxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
      );
    const all = [...this.sfn.executions.values()]
      .filter((e) => e.stateMachineArn === arn && (status === undefined || e.status === status))
      .reverse();
    const start = request.nextToken === undefined ? 0 : Number(request.nextToken);
    const page = all.slice(start, start + max);
    return {
      executions: page.map((e) => ({
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        ...(e.stopDate !== undefined ? { stopDate: e.stopDate } : {}),
      })),
      ...(start + max < all.length ? { nextToken: String(start + max) } : {}),
    };
  }

  endpoint(): Pick<LocalServices, "startExecution" | "listStateMachines" | "listExecutions"> {
    return {
      listStateMachines: async () => this.listStateMachines(),
      listExecutions: async (request) => this.listExecutions(request),
      startExecution: async (a) => {
        let input: unknown;
        try {
          input = a.input ? JSON.parse(a.input) : {};
        } catch {
          throw new AwsError("InvalidExecutionInput", "Invalid execution input: not JSON");
        }
        if (!this.sfn.definitions.has(a.stateMachineArn))
          throw new AwsError(
            "StateMachineDoesNotExist",
            `State Machine Does Not Exist: '${a.stateMachineArn}'`,
          );
        const ex = this.sfn.startExecution(a.stateMachineArn, input, a.name);
        return { executionArn: ex.executionArn, startDate: Date.now() / 1000 };
      },
    };
  }
}
