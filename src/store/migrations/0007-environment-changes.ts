// Changes a branch makes to its environment (toolchain and service versions, added packages),
// applied over what detection finds at every build. Never edit after it lands.
export const sql = `
ALTER TABLE workspaces ADD COLUMN environment_changes jsonb;
`;
