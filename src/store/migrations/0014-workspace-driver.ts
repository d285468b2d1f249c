// The isolation a workspace runs in (a sandbox driver's name: bubblewrap, gvisor, microvm), chosen
// when it is made and kept for its whole life: a restart finds its box with the driver that made
// it. Workspaces made before run on the server's default (null). Never edit after it lands.
export const sql = `
ALTER TABLE workspaces ADD COLUMN sandbox_driver text;
`;
