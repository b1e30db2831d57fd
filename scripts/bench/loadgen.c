/*
 * The load generator of the benchmark harness: one single-threaded epoll
 * program in C, the same for every server, so that every figure is measured
 * the same way and the generator is never the bottleneck.
 *
 *   loadgen bulk     --port P [--bytes N]             one connection echoes N bytes
 *   loadgen pingpong --port P [--conns C] [--size B]  C connections, B-byte round trips
 *   loadgen connrate --port P [--conns C] [--size B]  C at a time: connect, echo, close
 *   loadgen idle     --port P [--conns C] --pid PID   C idle connections: server RSS
 *   loadgen pipeline --port P [--conns C] [--depth D] [--size B]
 *                    C connections, each sending D B-byte lines per round trip
 *                    and waiting for D answers of "+OK\n"
 *
 * Common options: --host (127.0.0.1), --duration S (measured window), --warmup S
 * (before it), --timeout S (hard limit), --pid PID (the server: its CPU time over
 * the window from the schedstat of each of its threads, its resident memory from
 * /proc/PID/status).
 * Prints one JSON object on stdout; exit code 1 when nothing could be measured.
 *
 * Bulk sends a non-periodic pseudo-random stream (a 1 MiB + 4093 pattern,
 * cycled) in 128 KiB writes while reading the echo, compares every byte read
 * with what was sent (memcmp), half-closes at the end and waits for the
 * server's end of stream. Ping-pong messages are B-1 printable bytes and a
 * newline, so line-framed servers echo them too; each reply is compared.
 * Connection rate: connect, send B bytes, read them back, half-close, read the
 * server's end of stream, then close with SO_LINGER 0 (no TIME_WAIT to run out
 * of ports; the server has already closed its side). Pipelined: the D lines go
out in one write, every answer byte is checked against "+OK\n", and a round trip
ends with the D-th answer; requests/s counts lines. Latencies go into a
 * log-linear histogram (128 sub-buckets per power of two: under 1% error).
 *
 * Build: cc -O2 -o loadgen loadgen.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATTERN (1024 * 1024 + 4093)
#define CHUNK (128 * 1024)
#define RBUF (256 * 1024)
#define SUB 128
#define NBUCKETS (SUB * 48)

static struct {
  const char *mode, *host;
  int port, conns, size, pid, depth;
  long long bytes;
  double duration, warmup, timeout, settle;
} opt = {NULL, "127.0.0.1", 0, 0, 64, 0, 16, 256LL << 20, 2, 0.5, 60, 2};

static struct sockaddr_in target;
static uint64_t hist[NBUCKETS];
static uint64_t hist_n, hist_max;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

static int bucket_of(uint64_t v) {
  if (v < SUB) return (int)v;
  int msb = 63 - __builtin_clzll(v);
  int shift = msb - 7; /* log2(SUB) */
  int i = (shift + 1) * SUB + (int)((v >> shift) & (SUB - 1));
  return i < NBUCKETS ? i : NBUCKETS - 1;
}

static double value_of(int i) {
  if (i < SUB) return i;
  int shift = i / SUB - 1;
  return (double)((uint64_t)(SUB + i % SUB) << shift) + ((1u << shift) / 2.0);
}

static void record(uint64_t ns) {
  hist[bucket_of(ns)]++;
  hist_n++;
  if (ns > hist_max) hist_max = ns;
}

/* The latency under which a fraction q of the samples fall, in microseconds. */
static double percentile_us(double q) {
  if (!hist_n) return 0;
  uint64_t rank = (uint64_t)(q * hist_n);
  if (rank >= hist_n) rank = hist_n - 1;
  uint64_t seen = 0;
  for (int i = 0; i < NBUCKETS; i++) {
    seen += hist[i];
    if (seen > rank) return value_of(i) / 1000.0;
  }
  return hist_max / 1000.0;
}

/*
 * CPU seconds a process has run, every live thread included, from the
 * scheduler's nanosecond counters (/proc/PID/task/TID/schedstat): /proc/PID/stat
 * counts in 10 ms ticks, too coarse for windows of a fraction of a second.
 */
static double cpu_seconds(int pid) {
  if (!pid) return 0;
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *dir = opendir(path);
  if (!dir) return 0;
  unsigned long long total = 0;
  struct dirent *entry;
  while ((entry = readdir(dir))) {
    if (entry->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/%d/task/%.16s/schedstat", pid, entry->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    unsigned long long ns = 0;
    if (fscanf(f, "%llu", &ns) == 1) total += ns;
    fclose(f);
  }
  closedir(dir);
  return total / 1e9;
}

/* Resident bytes of a process (VmRSS). */
static long long rss_bytes(int pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long long kb = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %lld kB", &kb) == 1) break;
  fclose(f);
  return kb * 1024;
}

static void fail(const char *what) {
  printf("{\"mode\":\"%s\",\"error\":\"%s: %s\"}\n", opt.mode, what, strerror(errno));
  exit(1);
}

static int open_socket(int nonblocking) {
  int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* A blocking connect, then the socket is made non-blocking. */
static int connect_now(void) {
  int fd = open_socket(0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&target, sizeof target)) fail("connect");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static void close_reset(int fd) {
  struct linger l = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

static void ep_set(int ep, int op, int fd, uint32_t events, uint32_t id) {
  struct epoll_event ev = {.events = events, .data.u32 = id};
  epoll_ctl(ep, op, fd, &ev);
}

static char *message(void) {
  char *m = malloc(opt.size);
  for (int i = 0; i < opt.size - 1; i++) m[i] = 'a' + i % 26;
  m[opt.size - 1] = '\n';
  return m;
}

static void print_latency(void) {
  printf(",\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f", percentile_us(0.5),
         percentile_us(0.9), percentile_us(0.99), hist_max / 1000.0);
}

static int bulk(void) {
  unsigned char *pattern = malloc(PATTERN + RBUF);
  uint32_t x = 2463534242u;
  for (int i = 0; i < PATTERN; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    pattern[i] = x >> 24;
  }
  memcpy(pattern + PATTERN, pattern, RBUF); /* so that any read compares in one memcmp */
  unsigned char *rbuf = malloc(RBUF);
  int fd = connect_now();
  int ep = epoll_create1(0);
  ep_set(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT, 0);
  long long sent = 0, recvd = 0, total = opt.bytes;
  int eof = 0, mismatch = 0, reset = 0;
  uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(opt.timeout * 1e9);
  double cpu0 = cpu_seconds(opt.pid);
  struct epoll_event evs[4];
  while (!eof && !mismatch && !reset && now_ns() < deadline) {
    int n = epoll_wait(ep, evs, 4, 100);
    for (int i = 0; i < n; i++) {
      if ((evs[i].events & EPOLLOUT) && sent < total) {
        while (sent < total) {
          long long want = total - sent < CHUNK ? total - sent : CHUNK;
          ssize_t w = send(fd, pattern + sent % PATTERN, want, MSG_NOSIGNAL);
          if (w < 0) {
            if (errno != EAGAIN) reset = 1;
            break;
          }
          sent += w;
        }
        if (sent == total) {
          shutdown(fd, SHUT_WR);
          ep_set(ep, EPOLL_CTL_MOD, fd, EPOLLIN, 0);
        }
      }
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        for (;;) {
          ssize_t r = read(fd, rbuf, RBUF);
          if (r == 0) eof = 1;
          if (r < 0 && errno != EAGAIN) reset = 1;
          if (r <= 0) break;
          if (recvd + r > total || memcmp(rbuf, pattern + recvd % PATTERN, r)) mismatch = 1;
          recvd += r;
        }
      }
    }
  }
  double secs = (now_ns() - t0) / 1e9, cpu = cpu_seconds(opt.pid) - cpu0;
  int ok = eof && !mismatch && !reset && recvd == total;
  printf("{\"mode\":\"bulk\",\"ok\":%s,\"bytes\":%lld,\"sent\":%lld,\"received\":%lld,"
         "\"seconds\":%.4f,\"gbps\":%.4f,\"server_cpu_s\":%.3f,\"verified\":%s,\"error\":%s}\n",
         ok ? "true" : "false", total, sent, recvd, secs, recvd / secs / 1e9, cpu,
         mismatch ? "false" : "true",
         ok ? "null"
            : mismatch ? "\"echoed bytes differ from the bytes sent\""
            : reset ? "\"connection reset\""
            : eof ? "\"the server closed early\"" : "\"timed out\"");
  close(fd);
  return ok ? 0 : 1;
}

/* The measured window: after the warm-up, for the duration, never past the timeout. */
struct window {
  uint64_t start, end, hard, m0;
  int measuring;
  double cpu0;
};

static struct window window_open(void) {
  uint64_t now = now_ns();
  struct window w = {0};
  w.start = now + (uint64_t)(opt.warmup * 1e9);
  w.end = w.start + (uint64_t)(opt.duration * 1e9);
  w.hard = now + (uint64_t)(opt.timeout * 1e9);
  return w;
}

/* Starts measuring once the warm-up is over; tells whether the window has ended. */
static int window_over(struct window *w, uint64_t now) {
  if (!w->measuring && now >= w->start) {
    w->measuring = 1;
    w->m0 = now;
    w->cpu0 = cpu_seconds(opt.pid);
  }
  return now >= w->end || now >= w->hard;
}

/* The seconds measured; *cpu gets the server's CPU seconds in them. */
static double window_close(struct window *w, double *cpu) {
  uint64_t end = now_ns();
  *cpu = cpu_seconds(opt.pid) - w->cpu0;
  return w->measuring ? (end - w->m0) / 1e9 : 0;
}

/* A connection that failed: counted, and no longer watched. */
static void drop(int ep, int fd, long long *errors, long long *live) {
  ++*errors, --*live;
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
}

struct pp {
  int fd, got;
  uint64_t t0;
  char *buf;
};

static int pingpong(void) {
  char *msg = message();
  struct pp *c = calloc(opt.conns, sizeof *c);
  int ep = epoll_create1(0);
  for (int i = 0; i < opt.conns; i++) {
    c[i].fd = connect_now();
    c[i].buf = malloc(opt.size);
    ep_set(ep, EPOLL_CTL_ADD, c[i].fd, EPOLLIN, i);
  }
  struct window w = window_open();
  for (int i = 0; i < opt.conns; i++) {
    c[i].t0 = now_ns();
    if (write(c[i].fd, msg, opt.size) != opt.size) fail("write");
  }
  long long count = 0, errors = 0, live = opt.conns;
  struct epoll_event evs[512];
  while (live > 0) {
    int n = epoll_wait(ep, evs, 512, 100);
    if (window_over(&w, now_ns())) break;
    for (int i = 0; i < n; i++) {
      struct pp *p = &c[evs[i].data.u32];
      ssize_t r = read(p->fd, p->buf + p->got, opt.size - p->got);
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0 || (p->got + r == opt.size && memcmp(p->buf, msg, opt.size))) {
        drop(ep, p->fd, &errors, &live);
        continue;
      }
      p->got += r;
      if (p->got < opt.size) continue;
      uint64_t t = now_ns();
      if (w.measuring) {
        count++;
        record(t - p->t0);
      }
      p->got = 0;
      p->t0 = t;
      if (write(p->fd, msg, opt.size) != opt.size) {
        drop(ep, p->fd, &errors, &live);
      }
    }
  }
  double cpu, secs = window_close(&w, &cpu);
  printf("{\"mode\":\"pingpong\",\"ok\":%s,\"conns\":%d,\"size\":%d,\"messages\":%lld,"
         "\"seconds\":%.4f,\"msgps\":%.1f,\"errors\":%lld,\"server_cpu_s\":%.3f,"
         "\"server_cpu_us_per_msg\":%.3f",
         count > 0 && errors == 0 ? "true" : "false", opt.conns, opt.size, count, secs,
         secs ? count / secs : 0, errors, cpu, count ? cpu * 1e6 / count : 0);
  print_latency();
  printf("}\n");
  for (int i = 0; i < opt.conns; i++) close_reset(c[i].fd);
  return count > 0 ? 0 : 1;
}

enum { CONNECTING, ECHOING, CLOSING };
struct slot {
  int fd, state, got;
  uint64_t t0;
};

static long long cr_errors;

static void slot_start(int ep, struct slot *s, uint32_t id, const char *msg) {
  for (;;) {
    s->fd = open_socket(1);
    s->got = 0;
    s->t0 = now_ns();
    if (s->fd < 0) fail("socket");
    if (connect(s->fd, (struct sockaddr *)&target, sizeof target) == 0) {
      if (write(s->fd, msg, opt.size) == opt.size) {
        s->state = ECHOING;
        ep_set(ep, EPOLL_CTL_ADD, s->fd, EPOLLIN | EPOLLRDHUP, id);
        return;
      }
    } else if (errno == EINPROGRESS) {
      s->state = CONNECTING;
      ep_set(ep, EPOLL_CTL_ADD, s->fd, EPOLLOUT, id);
      return;
    }
    cr_errors++;
    close_reset(s->fd);
    if (cr_errors > 1000) fail("connect");
  }
}

static int connrate(void) {
  char *msg = message();
  char buf[4096];
  struct slot *slots = calloc(opt.conns, sizeof *slots);
  int ep = epoll_create1(0);
  uint64_t start = now_ns();
  uint64_t wstart = start + (uint64_t)(opt.warmup * 1e9);
  uint64_t wend = wstart + (uint64_t)(opt.duration * 1e9);
  for (int i = 0; i < opt.conns; i++) slot_start(ep, &slots[i], i, msg);
  long long count = 0;
  int measuring = 0;
  double cpu0 = 0;
  uint64_t m0 = 0;
  struct epoll_event evs[512];
  for (;;) {
    int n = epoll_wait(ep, evs, 512, 100);
    uint64_t now = now_ns();
    if (!measuring && now >= wstart) {
      measuring = 1;
      m0 = now;
      cpu0 = cpu_seconds(opt.pid);
    }
    if (now >= wend) break;
    for (int i = 0; i < n; i++) {
      uint32_t id = evs[i].data.u32;
      struct slot *s = &slots[id];
      int failed = 0, done = 0;
      if (s->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || write(s->fd, msg, opt.size) != opt.size) failed = 1;
        else {
          s->state = ECHOING;
          ep_set(ep, EPOLL_CTL_MOD, s->fd, EPOLLIN | EPOLLRDHUP, id);
        }
      } else {
        for (;;) {
          ssize_t r = read(s->fd, buf, sizeof buf);
          if (r < 0 && errno == EAGAIN) break;
          if (r < 0) {
            failed = 1;
            break;
          }
          if (r == 0) {
            if (s->state == CLOSING) done = 1;
            else failed = 1;
            break;
          }
          if (s->state == CLOSING || s->got + r > opt.size) {
            failed = 1;
            break;
          }
          s->got += r;
          if (s->got == opt.size) {
            s->state = CLOSING;
            shutdown(s->fd, SHUT_WR);
          }
        }
      }
      if (failed || done) {
        if (failed) cr_errors++;
        else if (measuring) {
          count++;
          record(now_ns() - s->t0);
        }
        epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
        close_reset(s->fd);
        if (cr_errors > 1000) fail("too many failed connections");
        slot_start(ep, s, id, msg);
      }
    }
  }
  double secs = (now_ns() - m0) / 1e9, cpu = cpu_seconds(opt.pid) - cpu0;
  printf("{\"mode\":\"connrate\",\"ok\":%s,\"conns\":%d,\"connections\":%lld,\"seconds\":%.4f,"
         "\"connps\":%.1f,\"errors\":%lld,\"server_cpu_s\":%.3f",
         count > 0 && cr_errors == 0 ? "true" : "false", opt.conns, count, secs,
         count / secs, cr_errors, cpu);
  print_latency();
  printf("}\n");
  for (int i = 0; i < opt.conns; i++) close_reset(slots[i].fd);
  return count > 0 ? 0 : 1;
}

/* Opens n connections, 100 at a time, each echoing one message; returns how many succeeded. */
static int open_idle(int ep, int *fds, int n, const char *msg) {
  char buf[4096];
  int *got = calloc(n, sizeof *got);
  int next = 0, done = 0, opened = 0, inflight = 0;
  uint64_t deadline = now_ns() + (uint64_t)(opt.timeout * 1e9);
  struct epoll_event evs[256];
  while (done < n && now_ns() < deadline) {
    while (next < n && inflight < 100) {
      int fd = open_socket(0);
      if (fd < 0 || connect(fd, (struct sockaddr *)&target, sizeof target) ||
          write(fd, msg, opt.size) != opt.size) {
        if (fd >= 0) close(fd);
        fds[next++] = -1;
        done++;
        continue;
      }
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      fds[next] = fd;
      ep_set(ep, EPOLL_CTL_ADD, fd, EPOLLIN, next);
      next++, inflight++;
    }
    int k = epoll_wait(ep, evs, 256, 100);
    for (int i = 0; i < k; i++) {
      int id = evs[i].data.u32;
      ssize_t r = read(fds[id], buf, sizeof buf);
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0 || (got[id] += r) >= opt.size) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fds[id], NULL);
        inflight--, done++;
        if (r > 0 && got[id] == opt.size) opened++;
        else close(fds[id]), fds[id] = -1;
      }
    }
  }
  free(got);
  return opened;
}

static int idle(void) {
  char *msg = message();
  int warm = 500, ep = epoll_create1(0);
  int *fds = calloc(opt.conns + warm, sizeof *fds);
  /* Warm the server's code paths first, so that the baseline includes them. */
  int warmed = open_idle(ep, fds, warm, msg);
  for (int i = 0; i < warm; i++)
    if (fds[i] >= 0) close(fds[i]);
  usleep((useconds_t)(opt.settle * 1e6));
  long long before = rss_bytes(opt.pid);
  uint64_t t0 = now_ns();
  /* In two halves: the second half's growth is the marginal cost of a connection,
     free of one-off growth (heap reservations, JIT code) that the first half may cause. */
  int half = opt.conns / 2;
  int opened = open_idle(ep, fds, half, msg);
  usleep((useconds_t)(opt.settle * 1e6));
  long long mid = rss_bytes(opt.pid);
  opened += open_idle(ep, fds + half, opt.conns - half, msg);
  double secs = (now_ns() - t0) / 1e9;
  usleep((useconds_t)(opt.settle * 1e6));
  long long after = rss_bytes(opt.pid);
  /* Connections the server closed meanwhile do not count as idle. */
  int alive = 0, alive2 = 0;
  for (int i = 0; i < opt.conns; i++) {
    if (fds[i] < 0) continue;
    char b;
    ssize_t r = recv(fds[i], &b, 1, MSG_DONTWAIT | MSG_PEEK);
    if (r < 0 && errno == EAGAIN) alive++, alive2 += i >= half;
  }
  printf("{\"mode\":\"idle\",\"ok\":%s,\"conns\":%d,\"warm\":%d,\"opened\":%d,\"alive\":%d,"
         "\"open_seconds\":%.3f,\"rss_before\":%lld,\"rss_mid\":%lld,\"rss_after\":%lld,"
         "\"bytes_per_conn\":%.1f,\"marginal_bytes_per_conn\":%.1f}\n",
         alive == opt.conns && before > 0 ? "true" : "false", opt.conns, warmed, opened, alive,
         secs, before, mid, after, alive ? (double)(after - before) / alive : 0,
         alive2 ? (double)(after - mid) / alive2 : 0);
  for (int i = 0; i < opt.conns; i++)
    if (fds[i] >= 0) close_reset(fds[i]);
  return alive > 0 ? 0 : 1;
}

struct pl {
  int fd, answered, at; /* answers complete, position in "+OK\n" */
  uint64_t t0;
};

static int pipeline(void) {
  static const char ok[] = "+OK\n";
  char *msg = message();
  int batch = opt.size * opt.depth;
  char *requests = malloc(batch), rbuf[4096];
  for (int i = 0; i < opt.depth; i++) memcpy(requests + i * opt.size, msg, opt.size);
  struct pl *c = calloc(opt.conns, sizeof *c);
  int ep = epoll_create1(0);
  for (int i = 0; i < opt.conns; i++) {
    c[i].fd = connect_now();
    ep_set(ep, EPOLL_CTL_ADD, c[i].fd, EPOLLIN, i);
  }
  struct window w = window_open();
  for (int i = 0; i < opt.conns; i++) {
    c[i].t0 = now_ns();
    if (write(c[i].fd, requests, batch) != batch) fail("write");
  }
  long long count = 0, errors = 0, live = opt.conns;
  struct epoll_event evs[512];
  while (live > 0) {
    int n = epoll_wait(ep, evs, 512, 100);
    if (window_over(&w, now_ns())) break;
    for (int i = 0; i < n; i++) {
      struct pl *p = &c[evs[i].data.u32];
      ssize_t r = read(p->fd, rbuf, sizeof rbuf);
      if (r < 0 && errno == EAGAIN) continue;
      int bad = r <= 0;
      for (ssize_t k = 0; k < r && !bad; k++) {
        if (rbuf[k] != ok[p->at]) bad = 1;
        else if (++p->at == 4) p->at = 0, p->answered++;
      }
      if (bad || p->answered > opt.depth) {
        drop(ep, p->fd, &errors, &live);
        continue;
      }
      if (p->answered < opt.depth) continue;
      uint64_t t = now_ns();
      if (w.measuring) {
        count += opt.depth;
        record(t - p->t0);
      }
      p->answered = 0;
      p->t0 = t;
      if (write(p->fd, requests, batch) != batch) {
        drop(ep, p->fd, &errors, &live);
      }
    }
  }
  double cpu, secs = window_close(&w, &cpu);
  printf("{\"mode\":\"pipeline\",\"ok\":%s,\"conns\":%d,\"depth\":%d,\"size\":%d,"
         "\"requests\":%lld,\"seconds\":%.4f,\"reqps\":%.1f,\"errors\":%lld,"
         "\"server_cpu_s\":%.3f,\"server_cpu_us_per_req\":%.3f",
         count > 0 && errors == 0 ? "true" : "false", opt.conns, opt.depth, opt.size, count,
         secs, secs ? count / secs : 0, errors, cpu, count ? cpu * 1e6 / count : 0);
  print_latency();
  printf("}\n");
  for (int i = 0; i < opt.conns; i++) close_reset(c[i].fd);
  return count > 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (argc < 2) {
    fprintf(stderr, "usage: loadgen bulk|pingpong|connrate|idle|pipeline --port P [options]\n");
    return 2;
  }
  opt.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--host")) opt.host = v;
    else if (!strcmp(k, "--port")) opt.port = atoi(v);
    else if (!strcmp(k, "--conns")) opt.conns = atoi(v);
    else if (!strcmp(k, "--size")) opt.size = atoi(v);
    else if (!strcmp(k, "--bytes")) opt.bytes = atoll(v);
    else if (!strcmp(k, "--duration")) opt.duration = atof(v);
    else if (!strcmp(k, "--warmup")) opt.warmup = atof(v);
    else if (!strcmp(k, "--timeout")) opt.timeout = atof(v);
    else if (!strcmp(k, "--settle")) opt.settle = atof(v);
    else if (!strcmp(k, "--pid")) opt.pid = atoi(v);
    else if (!strcmp(k, "--depth")) opt.depth = atoi(v);
    else {
      fprintf(stderr, "loadgen: unknown option %s\n", k);
      return 2;
    }
  }
  if (opt.size < 1 || opt.size > 4096) {
    fprintf(stderr, "loadgen: --size must be 1 to 4096\n");
    return 2;
  }
  target.sin_family = AF_INET;
  target.sin_port = htons(opt.port);
  if (inet_pton(AF_INET, opt.host, &target.sin_addr) != 1) {
    fprintf(stderr, "loadgen: --host must be an IPv4 address\n");
    return 2;
  }
  if (!strcmp(opt.mode, "bulk")) return bulk();
  if (!opt.conns) opt.conns = !strcmp(opt.mode, "idle") ? 10000 : !strcmp(opt.mode, "connrate") ? 32 : 1;
  if (!strcmp(opt.mode, "pingpong")) return pingpong();
  if (!strcmp(opt.mode, "connrate")) return connrate();
  if (!strcmp(opt.mode, "idle")) return idle();
  if (!strcmp(opt.mode, "pipeline")) {
    if (opt.depth < 1 || opt.depth * opt.size > 1 << 20) {
      fprintf(stderr, "loadgen: --depth must be 1 or more, depth x size at most 1 MiB\n");
      return 2;
    }
    return pipeline();
  }
  fprintf(stderr, "loadgen: unknown mode %s\n", opt.mode);
  return 2;
}
