// Server-side request forgery guard of outbound deliveries: an endpoint's host is resolved when the
// message is delivered (DNS can change after the subscription was configured), every answer must be
// a public unicast address, and the connection then goes to the address that was checked (the
// socket's lookup returns it), so a second resolution cannot swap in an internal one.
import * as dns from "dns";
import * as net from "net";
import { HandlerError } from "../lib/errors";

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has (dns.lookup's answer; tests inject their own). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Why an address may not be delivered to, or undefined when it is a public unicast address. */
export type AddressClass =
  "loopback" | "private" | "link-local" | "metadata" | "reserved" | "multicast" | "unspecified";

const V4: Array<[string, number, AddressClass]> = [
  ["169.254.169.254", 32, "metadata"],
  ["169.254.170.2", 32, "metadata"],
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "private"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "reserved"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];
const V6: Array<[string, number, AddressClass]> = [
  ["fd00:ec2::254", 128, "metadata"],
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["fe80::", 10, "link-local"],
  ["fc00::", 7, "private"],
  ["ff00::", 8, "multicast"],
  ["100::", 64, "reserved"],
  ["2001:db8::", 32, "reserved"],
];

const lists = new Map<AddressClass, net.BlockList>();
for (const [family, ranges] of [
  ["ipv4", V4],
  ["ipv6", V6],
] as const) {
  for (const [net0, prefix, cls] of ranges) {
    if (!lists.has(cls)) lists.set(cls, new net.BlockList());
    lists.get(cls)!.addSubnet(net0, prefix, family);
  }
}
const ORDER: AddressClass[] = [
  "metadata",
  "unspecified",
  "loopback",
  "link-local",
  "private",
  "multicast",
  "reserved",
];

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any. */
function embeddedV4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = lower.match(/^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) return dotted[1];
  const words = expandV6(lower);
  if (!words) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  // ::ffff:a.b.c.d, ::a.b.c.d and 64:ff9b::a.b.c.d written in hex
  if (words.slice(0, 5).every((w) => w === 0) && (words[5] === 0xffff || words[5] === 0))
    return words[6] === 0 && words[7] <= 1 ? undefined : v4(words[6], words[7]);
  if (words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0))
    return v4(words[6], words[7]);
  // 6to4: 2002:AABB:CCDD::/48
  if (words[0] === 0x2002) return v4(words[1], words[2]);
  return undefined;
}

function expandV6(address: string): number[] | undefined {
  if (!net.isIPv6(address)) return undefined;
  let a = address.split("%")[0];
  const dotted = a.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const p = dotted[1].split(".").map(Number);
    a =
      a.slice(0, -dotted[1].length) +
      `${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const [head, tail] = a.includes("::") ? a.split("::") : [a, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined ? (tail ? tail.split(":") : []) : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const words = [...h, ...Array(fill).fill("0"), ...t].map((w) => parseInt(w, 16));
  return words.length === 8 ? words : undefined;
}

/** The class of a non-public address, or undefined for a public unicast one. */
export function classifyAddress(address: string): AddressClass | undefined {
  const family = net.isIPv4(address) ? "ipv4" : net.isIPv6(address) ? "ipv6" : undefined;
  if (!family) return "reserved";
  if (family === "ipv6") {
    const v4 = embeddedV4(address);
    if (v4 !== undefined) return classifyAddress(v4);
  }
  for (const cls of ORDER) if (lists.get(cls)!.check(address, family)) return cls;
  return undefined;
}

export class BlockedAddressError extends HandlerError {
  constructor(
    message: string,
    public readonly addressClass: AddressClass,
  ) {
    super("BlockedAddressError", message);
  }
}

/**
 * The address to connect to for `hostname`: resolved now, every answer checked (a name with one
 * internal answer among public ones is refused: which one a client picks is not ours to say).
 * `allowLoopback` (the local run) admits loopback addresses only.
 */
export async function resolvePublicAddress(
  hostname: string,
  resolve: Resolver,
  allowLoopback = false,
): Promise<ResolvedAddress> {
  const host = hostname.replace(/^\[|\]$/g, "");
  const answers = net.isIP(host)
    ? [{ address: host, family: net.isIPv6(host) ? 6 : 4 } as ResolvedAddress]
    : await resolve(host);
  if (answers.length === 0) throw new Error(`${hostname} has no address`);
  for (const a of answers) {
    const cls = classifyAddress(a.address);
    if (cls && !(allowLoopback && cls === "loopback")) {
      throw new BlockedAddressError(
        `${hostname} resolves to ${a.address}, a ${cls} address: deliveries go to public addresses only`,
        cls,
      );
    }
  }
  return answers[0];
}
