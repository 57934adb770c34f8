// Source-address allowlists of the webhook receivers: CIDR blocks a provider publishes for its
// senders (GitHub's `hooks` in https://api.github.com/meta, Stripe's webhook IPs), checked against
// the Function URL's `requestContext.http.sourceIp` before any other work. The list comes from
// stack config; nothing is fetched at run time. Node's net.BlockList does the matching.
import * as net from "net";

/** A CIDR block ("192.30.252.0/22", "2a0a:a440::/29") or a single address; throws naming the fault. */
export function parseCidr(cidr: string): {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
} {
  const [address, prefixText, extra] = cidr.trim().split("/");
  const version = net.isIP(address ?? "");
  if (version === 0 || extra !== undefined) {
    throw new Error(`"${cidr}" is not a CIDR block such as 192.30.252.0/22 or 2a0a:a440::/29`);
  }
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? String(max)) || prefix > max) {
    throw new Error(`"${cidr}" has a prefix length outside 0-${max}`);
  }
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/** Whether an address is inside one of the blocks; an unparsable address is not. */
export function makeSourceAllowlist(
  cidrs: readonly string[],
): (sourceIp: string | undefined) => boolean {
  const list = new net.BlockList();
  for (const c of cidrs) {
    const { address, prefix, family } = parseCidr(c);
    list.addSubnet(address, prefix, family);
  }
  return (ip) => {
    const version = net.isIP(ip ?? "");
    return version !== 0 && list.check(ip!, version === 4 ? "ipv4" : "ipv6");
  };
}
