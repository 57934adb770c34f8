// Tests use the same mocks module as the local runtime (local/mocks.ts).
export * from "../local/mocks";
