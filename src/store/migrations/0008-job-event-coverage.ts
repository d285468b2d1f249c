// An error event stands for output that could not be stored: `covers` is how many bytes of the
// job's output it stands for (its own text is a message of another length). Never edit after it lands.
export const sql = `
ALTER TABLE job_events ADD COLUMN covers bigint CHECK (covers IS NULL OR covers >= 0);
`;
