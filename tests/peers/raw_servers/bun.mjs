// A raw Bun echo server: Bun.listen, echoing each chunk from the data handler.
import { report } from "./_report.mjs";

let open = 0;
const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open: () => void open++,
    data: (socket, chunk) => void socket.write(chunk),
    close: () => void open--,
    error: () => {},
  },
});
report(server.port, () => open);
