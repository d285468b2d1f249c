// Repository URLs are no longer accepted with credentials in them; ones stored before are kept
// without the user:password part, so no view or share link can show it. Never edit after it lands.
export const sql = `
UPDATE workspaces
SET repo_url = regexp_replace(repo_url, '^([a-z][a-z0-9+.-]*://)[^/@]*@', '\\1', 'i')
WHERE repo_url ~* '^[a-z][a-z0-9+.-]*://[^/@]*@';
`;
