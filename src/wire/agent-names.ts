// The agent protocol's names and bounds (src/wire/agent.ts has its messages). Apart, so that the
// agent can greet before it has loaded the schemas.

export const AGENT_PROTOCOL = 1;

/** The largest JSON body either side reads. */
export const AGENT_MAX_JSON_BYTES = 256 * 1024;

/** Where an output stream's bytes start: the agent may have dropped older ones. */
export const AGENT_OFFSET_HEADER = 'nixspace-offset';

/** Environment variable telling the agent how to reach the server (`unix:<path>`). */
export const AGENT_TRANSPORT_ENV = 'NIXSPACE_AGENT_TRANSPORT';

/** Environment variable naming the cgroup directories the agent may make groups in (`:`-separated). */
export const AGENT_CGROUPS_ENV = 'NIXSPACE_AGENT_CGROUPS';
