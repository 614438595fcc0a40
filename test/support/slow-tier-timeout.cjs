// Integration and end-to-end tests talk to a real broker, database and services: a hook or test
// may take seconds (a consumer group join, a job run). Their waits have their own deadlines; this
// is only the outer bound.
jest.setTimeout(120_000);
