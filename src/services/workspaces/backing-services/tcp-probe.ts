// Readiness for servers without a client of their own on the host: a TCP connect from inside the
// sandbox (its loopback is the service's), with bash's /dev/tcp so no extra tool is needed.

export function tcpProbe(port: number): string[] {
  return ['bash', '-c', 'exec 3<>"/dev/tcp/127.0.0.1/$0"', String(port)];
}
