// A raw Deno echo server: Deno.listen and a read loop with a 64 KiB buffer per connection.
import { report } from "./_report.mjs";

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
let open = 0;
report(listener.addr.port, () => open);
for await (const conn of listener) {
  open++;
  (async () => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
        for (let off = 0; off < n;) off += await conn.write(buffer.subarray(off, n));
      }
    } catch { /* reset */ }
    open--;
    try {
      conn.close();
    } catch { /* closed */ }
  })();
}
