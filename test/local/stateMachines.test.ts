import { expect } from "chai";
import { definitionsValidated, localStateMachine } from "../../local/stateMachines";

describe("local/stateMachines: each definition validated once per process", () => {
  const definition = (result: string) => ({
    StartAt: "Answer",
    States: { Answer: { Type: "Pass", Result: { said: result }, End: true } },
  });

  it("validates a definition at its first execution only, and runs every one", async () => {
    const before = definitionsValidated();
    const outputs = [];
    for (let i = 0; i < 3; i++)
      outputs.push(await localStateMachine(definition("once")).run({}).result);
    expect(outputs).to.deep.equal([{ said: "once" }, { said: "once" }, { said: "once" }]);
    expect(definitionsValidated() - before).to.equal(1);
    // Another definition, or the same one under other validation options, is validated anew.
    await localStateMachine(definition("other")).run({}).result;
    await localStateMachine(definition("once"), { checkArn: false }).run({}).result;
    expect(definitionsValidated() - before).to.equal(3);
  });

  it("fails an invalid definition with the validator's reason, at every execution", () => {
    const invalid = { StartAt: "Missing", States: { Answer: { Type: "Pass", End: true } } };
    const before = definitionsValidated();
    for (let i = 0; i < 2; i++)
      expect(() => localStateMachine(invalid)).to.throw(/State machine definition is invalid/);
    expect(definitionsValidated()).to.equal(before);
  });
});
