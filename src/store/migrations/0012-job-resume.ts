// A job the workspace agent runs outlives the server: when the server stops, it notes where the
// job's output stood in each of the agent's streams, so the next server continues from there with
// nothing twice and no gap. Never edit after it lands.
export const sql = `
ALTER TABLE jobs ADD COLUMN resume jsonb;
`;
