/**
 * Where an address or host name leads, so notifications reach only the public internet
 * (docs/interface.md section 9). Pure: no DNS, no sockets. webhook-configs checks a URL's host
 * with it when the URL is saved; process-order checks the host again, and every address it
 * resolves to, before a delivery connects.
 */

/** What an address (or a host name, by its name alone) is. Only `public` is on the internet. */
export type AddressKind =
  | "public"
  | "loopback"
  | "private"
  | "link_local"
  | "shared"
  | "multicast"
  | "unspecified"
  | "broadcast"
  | "metadata"
  | "reserved";

/** The kinds `NOTIFY_ALLOW_PRIVATE_HOSTS=true` lets through, for receivers on the local machine or LAN. */
export const localKinds: readonly AddressKind[] = ["loopback", "private", "link_local", "shared"];

/**
 * Whether a delivery may connect to an address or host of this kind. Metadata, multicast,
 * broadcast, unspecified and reserved addresses are never allowed, even on the local stack.
 */
export function kindAllowed(kind: AddressKind, allowPrivateHosts: boolean): boolean {
  return kind === "public" || (allowPrivateHosts && localKinds.includes(kind));
}

/** The bytes of an IPv4 address in canonical dotted-decimal form ("10.0.0.1"), or null. */
export function parseIpv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    // Canonical decimal only: the URL parser has already turned 0x7f000001, 2130706433,
    // 0177.0.0.1 and 127.1 into 127.0.0.1, and a resolver answers in this form.
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null;
    bytes.push(Number(part));
  }
  return bytes;
}

/**
 * The 16 bytes of an IPv6 address ("::1", "2001:db8::ffff:1.2.3.4", with or without the
 * brackets a URL host has), or null. A zone ("fe80::1%eth0") is not an address we connect to.
 */
export function parseIpv6(text: string): number[] | null {
  let s = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (!s.includes(":") || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (!v4) return null;
    tail = v4;
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string) => half === "" ? [] : half.split(":");
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  const bytes: number[] = [];
  for (const group of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    const n = parseInt(group, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

function inV4(b: number[], prefix: [number, number, number, number], bits: number): boolean {
  for (let i = 0; i < 4; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
    if ((b[i] & mask) !== (prefix[i] & mask)) return false;
  }
  return true;
}

/** IPv4 special-purpose ranges (IANA registry), first match wins. */
const v4Ranges: [[number, number, number, number], number, AddressKind][] = [
  [[169, 254, 169, 254], 32, "metadata"], // AWS, GCP, Azure, OpenStack instance metadata
  [[100, 100, 100, 200], 32, "metadata"], // Alibaba Cloud instance metadata
  [[0, 0, 0, 0], 32, "unspecified"],
  [[0, 0, 0, 0], 8, "reserved"], // "this network"
  [[127, 0, 0, 0], 8, "loopback"],
  [[10, 0, 0, 0], 8, "private"],
  [[172, 16, 0, 0], 12, "private"],
  [[192, 168, 0, 0], 16, "private"],
  [[100, 64, 0, 0], 10, "shared"], // carrier-grade NAT
  [[169, 254, 0, 0], 16, "link_local"],
  [[192, 0, 0, 0], 24, "reserved"], // IETF protocol assignments
  [[192, 0, 2, 0], 24, "reserved"], // documentation
  [[198, 51, 100, 0], 24, "reserved"], // documentation
  [[203, 0, 113, 0], 24, "reserved"], // documentation
  [[192, 88, 99, 0], 24, "reserved"], // 6to4 relay anycast
  [[198, 18, 0, 0], 15, "reserved"], // benchmarking
  [[224, 0, 0, 0], 4, "multicast"],
  [[255, 255, 255, 255], 32, "broadcast"],
  [[240, 0, 0, 0], 4, "reserved"],
];

function classifyV4(b: number[]): AddressKind {
  for (const [prefix, bits, kind] of v4Ranges) if (inV4(b, prefix, bits)) return kind;
  return "public";
}

function startsWith(b: number[], prefix: number[]): boolean {
  return prefix.every((byte, i) => b[i] === byte);
}

function classifyV6(b: number[]): AddressKind {
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zero(0, 16)) return "unspecified";
  if (zero(0, 15) && b[15] === 1) return "loopback";
  // fd00:ec2::254, AWS instance metadata over IPv6.
  if (startsWith(b, [0xfd, 0x00, 0x0e, 0xc2]) && zero(4, 14) && b[14] === 0x02 && b[15] === 0x54) {
    return "metadata";
  }
  // IPv4 inside IPv6 leads where the IPv4 address does: mapped (::ffff:a.b.c.d), SIIT
  // (::ffff:0:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return classifyV4(b.slice(12));
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return classifyV4(b.slice(12));
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b]) && zero(4, 12)) return classifyV4(b.slice(12));
  if (b[0] === 0x20 && b[1] === 0x02) return classifyV4(b.slice(2, 6));
  if (zero(0, 12)) return "reserved"; // IPv4-compatible, deprecated
  if (b[0] === 0xff) return "multicast";
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return "link_local";
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0xc0) return "private"; // site-local, deprecated
  if ((b[0] & 0xfe) === 0xfc) return "private"; // unique local fc00::/7
  if ((b[0] & 0xe0) !== 0x20) return "reserved"; // outside global unicast 2000::/3
  if (startsWith(b, [0x20, 0x01, 0x0d, 0xb8])) return "reserved"; // documentation
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] < 0x02) return "reserved"; // 2001::/23, Teredo too
  return "public";
}

/**
 * The kind of an IP address in text form, or null when the text is not an IP address.
 *
 * @example classifyIp("127.0.0.1") // "loopback"
 * @example classifyIp("[::ffff:7f00:1]") // "loopback"
 * @example classifyIp("example.com") // null
 */
export function classifyIp(text: string): AddressKind | null {
  const v4 = parseIpv4(text);
  if (v4) return classifyV4(v4);
  const v6 = parseIpv6(text);
  return v6 ? classifyV6(v6) : null;
}

/** Names that lead inside a cloud or a LAN whatever public DNS says. */
const metadataNames = ["metadata.google.internal", "metadata.goog", "metadata", "instance-data"];
const loopbackSuffixes = ["localhost"];
const privateSuffixes = ["internal", "local", "localdomain", "lan", "home.arpa", "intranet"];

/**
 * The kind of a URL's host (`URL.hostname`): an IP literal by its address, a name by the name
 * alone. A name that is `public` here still has to resolve to public addresses before a
 * delivery connects. Single-label names (`http://metadata/`, `http://router/`) resolve
 * through search domains inside a network, so they count as private; a trailing dot changes
 * nothing (`localhost.` is `localhost`).
 */
export function classifyHost(hostname: string): { kind: AddressKind; literal: boolean } {
  const ip = classifyIp(hostname);
  if (ip) return { kind: ip, literal: true };
  const name = hostname.toLowerCase().replace(/\.$/, "");
  const within = (suffix: string) => name === suffix || name.endsWith(`.${suffix}`);
  if (name === "" || name.split(".").some((label) => label === "")) {
    return { kind: "reserved", literal: false };
  }
  if (metadataNames.includes(name)) {
    return { kind: "metadata", literal: false };
  }
  if (loopbackSuffixes.some(within)) return { kind: "loopback", literal: false };
  if (!name.includes(".") || privateSuffixes.some(within)) {
    return { kind: "private", literal: false };
  }
  return { kind: "public", literal: false };
}
