// IPv4 arithmetic for Docker networks. Upstream computed the gateway with a regex that only worked
// for A.B.0.0/NN; this works for any IPv4 CIDR: the first host address.

export function parseCidr(cidr: string): { base: number; prefix: number } {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(match?.[5]);
  if (!match || octets.some((o) => o > 255) || prefix > 30)
    throw new TypeError(`"${cidr}" is not an IPv4 CIDR with room for hosts (prefix ≤ 30)`);
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: address - (address % size), prefix };
}

const toIp = (n: number): string =>
  [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

/** The gateway Docker gets for a subnet: its first host address (10.101.0.0/16 → 10.101.0.1). */
export function gatewayOf(cidr: string): string {
  return toIp(parseCidr(cidr).base + 1);
}
