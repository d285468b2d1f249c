// Whether a workspace's environment can be rebuilt exactly: Nix can, host tools cannot, and
// releases pinned from the npm registry can for the tools they cover.
import type { Environment } from '../api/types';
import { reproducibility } from '../lib/environment';
import { StatusIcon } from './status-icon';

const titles: Record<string, string> = {
  reproducible: 'Built from a pinned environment: the same hash gives the same tools',
  pinned:
    'Node (and pnpm or yarn) are the exact releases the project pins, from the npm registry; other tools are the server’s own',
  none: 'Uses the tools installed on the server: versions can differ from what the project asks for',
};

export function ReproducibleBadge(props: { environment: Environment; testId?: string }) {
  const presented = () => reproducibility(props.environment);
  return (
    <span
      class="badge env-badge"
      data-reproducible={String(props.environment.reproducible)}
      data-reproducibility={props.environment.reproducibility}
      data-testid={props.testId}
      title={titles[props.environment.reproducibility] ?? titles.none}
    >
      <StatusIcon shape={presented().shape} />
      <span>{presented().label}</span>
    </span>
  );
}
