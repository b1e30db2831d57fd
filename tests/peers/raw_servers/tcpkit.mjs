// A tcpkit echo server on the runtime running it: mod.ts on Deno and Bun, the
// npm build (npm/esm/mod.js) on Node. Each connection echoes chunk by chunk.
import { report } from "./_report.mjs";

const native = "Deno" in globalThis || "Bun" in globalThis;
const { serve } = await import(native ? "../../../mod.ts" : "../../../npm/esm/mod.js");
let open = 0;
const server = await serve({
  port: 0,
  maxConnections: 100_000,
  handler: async (conn) => {
    for await (const chunk of conn) await conn.write(chunk);
  },
  onConnection: () => void open++,
  onClose: () => void open--,
});
report(server.addr.port, () => open);
