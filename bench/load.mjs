// Drives receive-webhook with autocannon (from npm), each request a distinct valid alert, and
// prints one JSON line: throughput, latency percentiles and status counts.
// Usage: node bench/load.mjs <url> <connections> <requests> [distinct-symbols]
// A fixed number of requests (not a duration), so every request sent is answered and counted.
import autocannon from "autocannon";

const [url, connections, amount, distinct] = process.argv.slice(2);
let n = 0;
const run = process.pid.toString(36);
const result = await autocannon({
  url,
  method: "POST",
  connections: Number(connections),
  amount: Number(amount),
  headers: { "content-type": "application/json" },
  requests: [{
    setupRequest(req) {
      n++;
      req.body = JSON.stringify({
        // With distinct symbols every alert opens a new position, so none is ignored as
        // "already long".
        ticker: distinct ? `B${n}` : "NASDAQ:AAPL",
        action: "buy",
        quantity: 1,
        price: 190.5,
        id: `bench-${run}-${connections}-${n}`,
      });
      return req;
    },
  }],
});
console.log(JSON.stringify({
  connections: Number(connections),
  requests: result.requests.total,
  throughput: result.requests.total /
    ((new Date(result.finish).getTime() - new Date(result.start).getTime()) / 1000),
  p50: result.latency.p50,
  p99: result.latency.p99,
  ok2xx: result["2xx"],
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
}));
