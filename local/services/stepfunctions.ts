// Step Functions: the declared state machines executed with aws-local-stepfunctions; HTTP Tasks
// call the records API with their connection's key.
import { arnFor } from "../mocks";
import { AwsError, LocalServices } from "../awsEndpoint";
import { type Execution, LocalStepFunctions } from "../stateMachines";
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
      executions: page.map((e) => executionSummary(e)),
      ...(start + max < all.length ? { nextToken: String(start + max) } : {}),
    };
  }

  private execution(request: Record<string, unknown>) {
    const arn = String(request.executionArn);
    const e = this.sfn.executions.get(arn);
    if (!e) throw new AwsError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
    return e;
  }

  /** DescribeExecution: an execution the engine ran or is running, with its input and output. */
  describeExecution(request: Record<string, unknown>) {
    const e = this.execution(request);
    return {
      ...executionSummary(e),
      input: JSON.stringify(e.input ?? {}),
      inputDetails: { included: true },
      ...(e.output !== undefined
        ? { output: JSON.stringify(e.output), outputDetails: { included: true } }
        : {}),
      ...(e.error !== undefined ? { error: e.error, cause: e.cause ?? "" } : {}),
    };
  }

  /**
   * GetExecutionHistory: ExecutionStarted, a <Type>StateEntered event per state the execution
   * entered (the engine records no more than their names), and how it ended, oldest first.
   */
  getExecutionHistory(request: Record<string, unknown>) {
    const e = this.execution(request);
    const definition = this.sfn.definitions.get(e.stateMachineArn)?.definition;
    const typeOf = (name: string): string => {
      const find = (states: Record<string, any> | undefined): string | undefined => {
        for (const [n, s] of Object.entries(states ?? {})) {
          if (n === name) return s.Type;
          for (const b of s.Branches ?? []) {
            const t = find(b.States);
            if (t) return t;
          }
          const t = find((s.ItemProcessor ?? s.Iterator)?.States);
          if (t) return t;
        }
        return undefined;
      };
      return find(definition?.States) ?? "Task";
    };
    const events: Array<Record<string, unknown>> = [
      {
        timestamp: e.startDate,
        type: "ExecutionStarted",
        executionStartedEventDetails: { input: JSON.stringify(e.input ?? {}) },
      },
      ...e.path.map((name) => ({
        timestamp: e.startDate,
        type: `${typeOf(name)}StateEntered`,
        stateEnteredEventDetails: { name },
      })),
    ];
    if (e.status === "SUCCEEDED")
      events.push({
        timestamp: e.stopDate,
        type: "ExecutionSucceeded",
        executionSucceededEventDetails: { output: JSON.stringify(e.output ?? null) },
      });
    else if (e.status === "FAILED")
      events.push({
        timestamp: e.stopDate,
        type: "ExecutionFailed",
        executionFailedEventDetails: { error: e.error ?? "", cause: e.cause ?? "" },
      });
    else if (e.status === "ABORTED")
      events.push({ timestamp: e.stopDate, type: "ExecutionAborted" });
    return {
      events: events.map((x, i) => ({ id: i + 1, previousEventId: i, ...x })),
    };
  }

  endpoint(): Pick<
    LocalServices,
    "startExecution" | "listExecutions" | "describeExecution" | "getExecutionHistory"
  > {
    return {
      listExecutions: async (request) => this.listExecutions(request),
      describeExecution: async (request) => this.describeExecution(request),
      getExecutionHistory: async (request) => this.getExecutionHistory(request),
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

/** What ListExecutions lists of an execution, and DescribeExecution starts with. */
function executionSummary(e: Execution) {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: e.startDate,
    ...(e.stopDate !== undefined ? { stopDate: e.stopDate } : {}),
  };
}
