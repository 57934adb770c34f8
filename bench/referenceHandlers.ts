// The bench's reference handler that the program evaluation bench declares as a SwitchyardFunction
// (bench/evalProgram.ts): a program of one function whose own code is nothing.

/** A handler that does nothing. */
export function createEmpty() {
  return async () => ({ ok: true });
}
