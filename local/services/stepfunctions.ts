// Step Functions: the declared state machines executed with aws-local-stepfunctions; HTTP Tasks
// call the records API with their connection's key.
import { arnFor } from "../mocks";
import { AwsError, LocalServices } from "../awsEndpoint";
import { LocalStepFunctions } from "../stateMachines";
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
      speed: rt.speed,
    });
  }

  endpoint(): Pick<LocalServices, "startExecution"> {
    return {
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
