// Every sign-in session gets an id that the workspace tokens it asks for carry, so signing out
// ends them too. The session's token stays known only by its sha256. Never edit after it lands.
export const sql = `
ALTER TABLE auth_sessions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX auth_sessions_id_idx ON auth_sessions (id);
`;
