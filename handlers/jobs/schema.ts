// The jobs API's validator is the project's draft-04 subset, shared with the event contracts.
export * from "../../lib/jsonSchema";
