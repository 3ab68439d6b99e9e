import assert from "node:assert/strict";
import { deliverDueNotifications, notificationBody, summaryLine } from "./notify.ts";
import { createPinnedPoster, tlsServerName } from "./pinned_post.ts";
import { receiverCert, receiverKey, testCa } from "./test_tls.ts";
import { createLogger } from "../_shared/log.ts";
import type { NotificationRow } from "./store.ts";

const payload = { event: "rejected", action: "buy", quantity: 3, ticker: "AAPL", reason: "x" };
const row = (channel: NotificationRow["channel"]): NotificationRow => ({
  id: "n1",
  channel,
  url: "http://127.0.0.1/x",
  event: "rejected",
  payload,
  attempts: 1,
});

Deno.test("the summary line names the event, the trade and the reason", () => {
  assert.equal(summaryLine(payload), "rejected: buy 3 AAPL (x)");
  assert.equal(
    summaryLine({ event: "filled", action: "exit", ticker: "MSFT" }),
    "filled: exit MSFT",
  );
});

Deno.test("Discord gets content, Slack gets text, a webhook gets the payload", () => {
  assert.deepEqual(notificationBody(row("discord")), { content: "rejected: buy 3 AAPL (x)" });
  assert.deepEqual(notificationBody(row("slack")), { text: "rejected: buy 3 AAPL (x)" });
  assert.deepEqual(notificationBody(row("webhook")), payload);
});

// ---------------------------------------------------------------------------------------
// Deliveries reach only the public internet: the real deliverer and pinned poster against
// real local receivers, with the DNS answers injected.
// ---------------------------------------------------------------------------------------

interface Attempt {
  id: string;
  ok: boolean;
  status: number | null;
  error: string | null;
}

/** A store holding `rows` once, that keeps every recorded attempt. */
function memoryStore(rows: NotificationRow[]) {
  const attempts: Attempt[] = [];
  let due = rows;
  return {
    attempts,
    claimNotifications: () => {
      const out = due;
      due = [];
      return Promise.resolve(out);
    },
    recordNotificationAttempt: (
      id: string,
      ok: boolean,
      status: number | null,
      error: string | null,
    ) => {
      attempts.push({ id, ok, status, error });
      return Promise.resolve();
    },
  };
}

/**
 * A TCP receiver on 127.0.0.1 that counts every connection it accepts (not only requests),
 * and answers each with `status` (and `headers`).
 */
function tcpReceiver(status = 200, headers = "") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const seen = { connections: 0, heads: [] as string[] };
  const done = (async () => {
    for await (const conn of listener) {
      seen.connections++;
      (async () => {
        const buf = new Uint8Array(8192);
        const n = await conn.read(buf).catch(() => null);
        if (n) seen.heads.push(new TextDecoder().decode(buf.subarray(0, n)));
        await conn.write(
          new TextEncoder().encode(
            `HTTP/1.1 ${status} X\r\n${headers}Content-Length: 0\r\nConnection: close\r\n\r\n`,
          ),
        ).catch(() => {});
        conn.close();
      })();
    }
  })().catch(() => {});
  return {
    port,
    seen,
    close: async () => {
      listener.close();
      await done;
    },
  };
}

const silentLog = createLogger({ fn: "notify-test" }, () => {});

function delivery(id: string, url: string, channel: NotificationRow["channel"] = "webhook") {
  return { ...row(channel), id, url };
}

/** Runs one batch with the given rows, resolver and flag; answers the recorded attempts. */
async function deliver(
  rows: NotificationRow[],
  opts: { allowPrivateHosts: boolean; dns?: Record<string, string[]>; timeoutMs?: number },
) {
  const store = memoryStore(rows);
  const lookups: string[] = [];
  await deliverDueNotifications({
    store,
    resolve: (host) => {
      lookups.push(host);
      const answer = opts.dns?.[host];
      return answer ? Promise.resolve(answer) : Promise.reject(new Error("NXDOMAIN"));
    },
    post: createPinnedPoster({ caCerts: [testCa] }),
    allowPrivateHosts: opts.allowPrivateHosts,
    timeoutMs: opts.timeoutMs ?? 2_000,
    log: silentLog,
  });
  const byId = Object.fromEntries(store.attempts.map((a) => [a.id, a]));
  return { byId, lookups };
}

Deno.test("with NOTIFY_ALLOW_PRIVATE_HOSTS off, no delivery connects to a local receiver, however its URL reaches it", async () => {
  const target = tcpReceiver();
  try {
    const p = target.port;
    const rows = [
      delivery("plain", `http://127.0.0.1:${p}/hook`),
      delivery("https", `https://127.0.0.1:${p}/hook`),
      delivery("hex", `https://0x7f000001:${p}/hook`),
      delivery("short", `https://127.1:${p}/hook`),
      delivery("mapped", `https://[::ffff:127.0.0.1]:${p}/hook`),
      delivery("userinfo", `https://user:pass@127.0.0.1:${p}/hook`),
      delivery("localhost", `https://localhost:${p}/hook`),
      delivery("discord", `https://127.0.0.1:${p}/api/webhooks/1/a`, "discord"),
      // Public names whose DNS answers lead home: every answer is checked, one bad one refuses.
      delivery("rebind", `https://rebind.example.com:${p}/hook`),
      delivery("mixed", `https://mixed.example.com:${p}/hook`),
      delivery("meta", `https://meta.example.com:${p}/hook`),
    ];
    const { byId, lookups } = await deliver(rows, {
      allowPrivateHosts: false,
      dns: {
        "rebind.example.com": ["127.0.0.1"],
        "mixed.example.com": ["93.184.215.14", "10.0.0.7"],
        "meta.example.com": ["::ffff:169.254.169.254"],
      },
    });
    assert.equal(target.seen.connections, 0, "the receiver saw no connection at all");
    for (const r of rows) {
      assert.deepEqual(byId[r.id], {
        id: r.id,
        ok: false,
        status: null,
        error: "address not allowed",
      }, r.id);
    }
    // URLs refused by their text are never even resolved.
    assert.deepEqual(lookups.sort(), [
      "meta.example.com",
      "mixed.example.com",
      "rebind.example.com",
    ]);
  } finally {
    await target.close();
  }
});

Deno.test("a refused connection, a silent receiver and an unknown name record the same coarse error", async () => {
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  try {
    const { byId } = await deliver([
      delivery("refused", `http://127.0.0.1:${closedPort}/hook`),
      delivery("silent", `http://127.0.0.1:${(silent.addr as Deno.NetAddr).port}/hook`),
      delivery("nxdomain", "https://no-such-receiver.example.com/hook"),
      delivery("empty", "https://empty.example.com/hook"),
    ], { allowPrivateHosts: true, timeoutMs: 300, dns: { "empty.example.com": [] } });
    for (const id of ["refused", "silent", "nxdomain", "empty"]) {
      // No "Connection refused (os error 111)" and no timeout told apart from a refusal.
      assert.deepEqual(
        byId[id],
        { id, ok: false, status: null, error: "receiver not reachable" },
        id,
      );
    }
  } finally {
    silent.close();
  }
});

Deno.test("a delivery connects to the address it checked, with TLS for the URL's name, and follows no redirect", async () => {
  const seen: string[] = [];
  const tls = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: receiverCert, key: receiverKey, onListen: () => {} },
    async (req) => {
      seen.push(`${req.headers.get("host")} ${new URL(req.url).pathname} ${await req.text()}`);
      return new Response(null, { status: 204 });
    },
  );
  const elsewhere = tcpReceiver();
  const redirecting = tcpReceiver(302, `Location: http://127.0.0.1:${elsewhere.port}/\r\n`);
  const failing = tcpReceiver(500);
  try {
    const port = tls.addr.port;
    // receiver.test exists in no DNS: only the injected answer can lead to 127.0.0.1.
    const { byId, lookups } = await deliver([
      delivery("pinned", `https://receiver.test:${port}/hook?x=1`),
      delivery("redirect", `http://127.0.0.1:${redirecting.port}/hook`),
      delivery("failing", `http://127.0.0.1:${failing.port}/hook`),
    ], { allowPrivateHosts: true, dns: { "receiver.test": ["127.0.0.1"] } });
    assert.deepEqual(byId.pinned, { id: "pinned", ok: true, status: 204, error: null });
    assert.deepEqual(seen, [`receiver.test:${port} /hook ${JSON.stringify(payload)}`]);
    assert.deepEqual(lookups, ["receiver.test"]);
    assert.deepEqual(byId.redirect, {
      id: "redirect",
      ok: false,
      status: 302,
      error: "receiver answered 302",
    });
    assert.equal(elsewhere.seen.connections, 0, "the redirect was not followed");
    assert.deepEqual(byId.failing, {
      id: "failing",
      ok: false,
      status: 500,
      error: "receiver answered 500",
    });
  } finally {
    await tls.shutdown();
    await elsewhere.close();
    await redirecting.close();
    await failing.close();
  }
});

Deno.test("TLS checks the certificate for the URL's name, an IPv6 literal without brackets", () => {
  assert.equal(tlsServerName(new URL("https://hooks.slack.com/services/T/B/x")), "hooks.slack.com");
  assert.equal(tlsServerName(new URL("https://receiver.test.:8443/h")), "receiver.test");
  assert.equal(tlsServerName(new URL("https://[2001:db8::1]:8443/h")), "2001:db8::1");
  assert.equal(tlsServerName(new URL("https://93.184.215.14/h")), "93.184.215.14");
});
