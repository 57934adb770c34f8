/**
 * Waits for every promise, then throws the first rejection in their order, if any: unlike
 * Promise.all, no work is left running when the caller reports a failure (the deploy rehearsal's
 * calls to moto_server, the program's registrations).
 */
export async function allOrFirstFailure(promises: Iterable<unknown>): Promise<void> {
  for (const outcome of await Promise.allSettled(promises))
    if (outcome.status === "rejected") throw outcome.reason;
}
