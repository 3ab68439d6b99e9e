/**
 * One HTTP/1.1 POST to an address chosen by the caller, for notification deliveries.
 *
 * `fetch` resolves the host itself, so an address checked a moment before could differ from
 * the one it connects to (DNS rebinding), and `Deno.createHttpClient`'s TCP transport speaks no
 * TLS. Here the socket is opened to the checked address, and TLS (SNI and certificate checks)
 * runs for the URL's host name over it, so what was checked is what is reached. Redirects are
 * never followed: only the status line is read.
 */

/** A POST to `url`, connected to `address` (an IP address the caller has checked). */
export interface PinnedPost {
  url: URL;
  address: string;
  body: string;
  signal: AbortSignal;
  headers?: Record<string, string>;
}

/** Sends one pinned POST and answers the receiver's status code. */
export type PinnedPoster = (req: PinnedPost) => Promise<number>;

/** Options of `createPinnedPoster`; `caCerts` lets tests trust their own receiver. */
export interface PinnedPosterOptions {
  caCerts?: string[];
  /** Largest response head read, in bytes. */
  maxHeadBytes?: number;
}

/**
 * The name TLS checks the certificate for: the URL's host without a trailing dot, and an IPv6
 * literal without its brackets (a certificate names `2001:db8::1`, never `[2001:db8::1]`).
 *
 * @example tlsServerName(new URL("https://[2001:db8::1]/h")) // "2001:db8::1"
 */
export function tlsServerName(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** Reads response heads until a final (non-1xx) status line; answers its code. */
async function readStatus(conn: Deno.Conn, maxBytes: number): Promise<number> {
  let text = "";
  const buf = new Uint8Array(4096);
  while (text.length <= maxBytes) {
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!m) throw new Error("not an HTTP/1.1 response");
      const status = Number(m[1]);
      if (status >= 200) return status;
      text = text.slice(end + 4); // 1xx: an informational head, the real one follows
      continue;
    }
    const n = await conn.read(buf);
    if (n === null) throw new Error("connection closed before a response");
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  throw new Error("response head too large");
}

/**
 * A `PinnedPoster` over Deno's TCP and TLS sockets.
 *
 * @example
 * const post = createPinnedPoster();
 * await post({ url: new URL("https://hooks.slack.com/services/T/B/x"), address: "34.1.2.3", body, signal });
 */
export function createPinnedPoster(options: PinnedPosterOptions = {}): PinnedPoster {
  const maxHead = options.maxHeadBytes ?? 16_384;
  return async ({ url, address, body, signal, headers = {} }) => {
    signal.throwIfAborted();
    const https = url.protocol === "https:";
    const port = Number(url.port) || (https ? 443 : 80);
    let conn: Deno.Conn | undefined;
    const close = () => {
      try {
        conn?.close();
      } catch { /* already closed */ }
    };
    signal.addEventListener("abort", close, { once: true });
    try {
      const tcp = await Deno.connect({ hostname: address, port, signal });
      conn = tcp;
      if (https) {
        // SNI and the certificate are checked for the name, not the address.
        conn = await Deno.startTls(tcp, {
          hostname: tlsServerName(url),
          caCerts: options.caCerts,
        });
      }
      signal.throwIfAborted();
      const payload = encoder.encode(body);
      const head = [
        `POST ${url.pathname}${url.search} HTTP/1.1`,
        `Host: ${url.host}`,
        "Content-Type: application/json",
        `Content-Length: ${payload.length}`,
        "Connection: close",
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        "",
        "",
      ].join("\r\n");
      await writeAll(conn, encoder.encode(head));
      await writeAll(conn, payload);
      return await readStatus(conn, maxHead);
    } catch (err) {
      signal.throwIfAborted();
      throw err;
    } finally {
      signal.removeEventListener("abort", close);
      close();
    }
  };
}
