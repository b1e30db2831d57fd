/**
 * A connection as a pull API at its barest, for the floor servers and clients
 * (echo_server.mjs and client.mjs `pull`): chunks pushed by the runtime wait in
 * a queue (the socket paused past 64 KiB) until the loop takes them; `next()`
 * is one promise. What any promise-per-chunk API costs, tcpkit's included.
 */
export class Pull {
  queue = [];
  queued = 0;
  ended = false;
  waiter = null;
  /** @param pause Called with true to pause the socket, false to resume it. */
  constructor(pause) {
    this.pause = pause;
  }
  push(chunk) {
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) return waiter(chunk);
    this.queue.push(chunk);
    if ((this.queued += chunk.length) >= 65536) this.pause(true);
  }
  end() {
    this.ended = true;
    this.waiter?.(null);
    this.waiter = null;
  }
  next() {
    const chunk = this.queue.shift();
    if (chunk) {
      if ((this.queued -= chunk.length) < 65536) this.pause(false);
      return Promise.resolve(chunk);
    }
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}
