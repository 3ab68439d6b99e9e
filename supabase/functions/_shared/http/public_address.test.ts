import assert from "node:assert/strict";
import {
  type AddressKind,
  classifyHost,
  classifyIp,
  kindAllowed,
  parseIpv6,
} from "./public_address.ts";

Deno.test("classifyIp: every special-purpose range, IPv4 and IPv6, and the public rest", () => {
  const cases: [string, AddressKind | null][] = [
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["162.159.128.233", "public"], // discord.com
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", "public"],
    ["172.15.255.255", "public"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["100.128.0.1", "public"],
    ["169.254.1.1", "link_local"],
    ["169.254.169.254", "metadata"],
    ["100.100.100.200", "metadata"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "reserved"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["192.0.0.8", "reserved"],
    ["2606:4700::6810:84e5", "public"],
    ["2a00:1450:4001:80b::200e", "public"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["::", "unspecified"],
    ["[::]", "unspecified"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["fd00:ec2::254", "metadata"],
    ["fe80::1", "link_local"],
    ["febf::1", "link_local"],
    ["fec0::1", "private"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["[::ffff:7f00:1]", "loopback"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:8.8.8.8", "public"],
    ["::ffff:0:127.0.0.1", "loopback"],
    ["64:ff9b::127.0.0.1", "loopback"],
    ["64:ff9b::808:808", "public"],
    ["2002:7f00:1::", "loopback"],
    ["2002:0808:0808::1", "public"],
    ["::127.0.0.1", "reserved"],
    ["2001:db8::1", "reserved"],
    ["2001::1", "reserved"],
    ["100::1", "reserved"],
    ["4000::1", "reserved"],
    ["example.com", null],
    ["127.0.0.1.", null],
    ["0x7f000001", null], // the URL parser canonicalises this spelling first
    ["1.2.3", null],
    ["256.0.0.1", null],
    ["01.2.3.4", null],
    ["fe80::1%eth0", null],
    ["1::2::3", null],
    ["1:2:3:4:5:6:7:8:9", null],
    ["", null],
  ];
  for (const [ip, kind] of cases) assert.equal(classifyIp(ip), kind, ip);
});

Deno.test("parseIpv6 expands :: and an embedded IPv4 address", () => {
  assert.deepEqual(parseIpv6("::1"), [...Array(15).fill(0), 1]);
  assert.deepEqual(parseIpv6("::ffff:1.2.3.4"), [...Array(10).fill(0), 255, 255, 1, 2, 3, 4]);
  assert.deepEqual(parseIpv6("1:2:3:4:5:6:7:8")?.slice(0, 4), [0, 1, 0, 2]);
  assert.equal(parseIpv6("1:2:3:4:5:6:7::8"), null); // :: must stand for at least one group
});

Deno.test("classifyHost: the odd spellings of loopback, as the URL parser leaves them", () => {
  const cases: [string, AddressKind][] = [
    ["http://0x7f000001/", "loopback"],
    ["http://2130706433/", "loopback"],
    ["http://0177.0.0.1/", "loopback"],
    ["http://127.1/", "loopback"],
    ["http://[::1]/", "loopback"],
    ["http://[::ffff:127.0.0.1]/", "loopback"],
    ["http://user:pass@127.0.0.1/", "loopback"],
    ["http://127.0.0.1./", "loopback"],
    ["http://0/", "unspecified"],
    ["http://[0:0::0]/", "unspecified"],
    ["http://0xa9fea9fe/", "metadata"],
    ["http://localhost/", "loopback"],
    ["http://LOCALHOST./", "loopback"],
    ["http://api.localhost/", "loopback"],
    ["http://metadata.google.internal/", "metadata"],
    ["http://metadata/", "metadata"],
    ["http://host.docker.internal/", "private"],
    ["http://printer.local/", "private"],
    ["http://router/", "private"],
    ["http://nas.home.arpa/", "private"],
    ["https://example.com/", "public"],
    ["https://example.com./", "public"],
    ["https://metadata.example.com/", "public"],
    ["https://localhost.example.com/", "public"],
  ];
  for (const [url, kind] of cases) {
    assert.equal(classifyHost(new URL(url).hostname).kind, kind, url);
  }
  assert.equal(classifyHost("127.0.0.1").literal, true);
  assert.equal(classifyHost("example.com").literal, false);
  assert.equal(classifyHost("a..b").kind, "reserved");
});

Deno.test("kindAllowed: only public, unless the local flag lets local receivers through", () => {
  const kinds: AddressKind[] = [
    "public",
    "loopback",
    "private",
    "link_local",
    "shared",
    "multicast",
    "unspecified",
    "broadcast",
    "metadata",
    "reserved",
  ];
  assert.deepEqual(kinds.filter((k) => kindAllowed(k, false)), ["public"]);
  assert.deepEqual(kinds.filter((k) => kindAllowed(k, true)), [
    "public",
    "loopback",
    "private",
    "link_local",
    "shared",
  ]);
});
