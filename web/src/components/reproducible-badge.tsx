// Whether a workspace's environment can be rebuilt exactly: Nix can, host tools cannot.
import type { Environment } from '../api/types';
import { reproducibility } from '../lib/environment';
import { StatusIcon } from './status-icon';

export function ReproducibleBadge(props: { environment: Environment; testId?: string }) {
  const presented = () => reproducibility(props.environment);
  return (
    <span
      class="badge env-badge"
      data-reproducible={String(props.environment.reproducible)}
      data-testid={props.testId}
      title={
        props.environment.reproducible
          ? 'Built from a pinned environment: the same hash gives the same tools'
          : 'Uses the tools installed on the server: versions can differ from what the project asks for'
      }
    >
      <StatusIcon shape={presented().shape} />
      <span>{presented().label}</span>
    </span>
  );
}
