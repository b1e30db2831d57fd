// Shared by the echo servers of the memory test: prints `port N` once, then
// `open N` whenever the number of open connections changes, and exits when
// stdin ends (the test closes it, or dies).
import process from "node:process";

export function report(port, countOpen) {
  process.stdout.write(`port ${port}\n`);
  let last = -1;
  setInterval(() => {
    const open = countOpen();
    if (open !== last) process.stdout.write(`open ${open}\n`);
    last = open;
  }, 100);
  process.stdin.on("data", () => {});
  process.stdin.on("end", () => process.exit(0));
}
