// A raw Node echo server: node:net, echoing each chunk from the data event.
import * as net from "node:net";
import { report } from "./_report.mjs";

let open = 0;
const server = net.createServer((socket) => {
  open++;
  socket.on("data", (chunk) => socket.write(chunk));
  socket.on("error", () => {});
  socket.on("close", () => void open--);
});
server.listen(0, "127.0.0.1", () => report(server.address().port, () => open));
