// The unprivileged host user the sandbox test suites (conformance, command groups, benchmarks) run
// their sandboxes as: apart from the uids workspaces get (workspace-user.ts), so a test never shares
// an identity with a workspace of a server running beside it.
export const TEST_SANDBOX_USER = { uid: 1_500_000_000, gid: 1_500_000_000 } as const;
