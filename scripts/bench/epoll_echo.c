/*
 * The floor: a single-threaded epoll echo server in C, compiled at bench time.
 *
 * Listens on 127.0.0.1 (port from argv[1], 0 = any), prints "port N" on
 * stdout, and echoes every connection: read into one shared 64 KiB buffer,
 * write it back; a partial write keeps the rest in a per-connection buffer
 * and stops reading that connection until the rest is written. An idle
 * connection holds no user-space memory besides its epoll registration.
 * A half-close from the peer is answered with close once everything is echoed
 * (pending bytes go out first: the end of stream is read only after them).
 * Exits on SIGTERM/SIGINT or when stdin ends.
 *
 * Build: cc -O2 -o epoll_echo epoll_echo.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF (64 * 1024)
#define MAX_EVENTS 256

/* Only connections with unsent bytes have one of these. */
struct pending {
  char *bytes;
  size_t len, off;
};

static struct pending **pendings; /* indexed by fd */
static int npendings;

static void drop(int ep, int fd) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  if (fd < npendings && pendings[fd]) {
    free(pendings[fd]->bytes);
    free(pendings[fd]);
    pendings[fd] = NULL;
  }
  close(fd);
}

static struct pending *pending_for(int fd) {
  if (fd >= npendings) {
    int n = npendings ? npendings : 1024;
    while (n <= fd) n *= 2;
    pendings = realloc(pendings, n * sizeof *pendings);
    memset(pendings + npendings, 0, (n - npendings) * sizeof *pendings);
    npendings = n;
  }
  if (!pendings[fd]) pendings[fd] = calloc(1, sizeof **pendings);
  return pendings[fd];
}

/* Writes what is pending; returns 1 when all is out, 0 when the socket is full, -1 on error. */
static int flush(int fd, struct pending *p) {
  while (p->off < p->len) {
    ssize_t n = write(fd, p->bytes + p->off, p->len - p->off);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    p->off += n;
  }
  return 1;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  int port = argc > 1 ? atoi(argv[1]) : 0;
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr *)&addr, sizeof addr) || listen(ls, 4096)) {
    perror("listen");
    return 1;
  }
  socklen_t alen = sizeof addr;
  getsockname(ls, (struct sockaddr *)&addr, &alen);
  printf("port %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  ev.data.fd = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev); /* stdin: its end stops the server */

  static char buf[BUF];
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, events, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == 0) {
        if (read(0, buf, sizeof buf) <= 0) return 0;
        continue;
      }
      if (fd == ls) {
        for (;;) {
          int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
          if (c < 0) break;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      struct pending *p = fd < npendings ? pendings[fd] : NULL;
      if (p) { /* writable again */
        int r = flush(fd, p);
        if (r < 0) {
          drop(ep, fd);
          continue;
        }
        if (r == 0) continue;
        free(p->bytes);
        free(p);
        pendings[fd] = NULL;
        struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
        continue;
      }
      ssize_t got = read(fd, buf, sizeof buf);
      if (got == 0 || (got < 0 && errno != EAGAIN)) {
        drop(ep, fd);
        continue;
      }
      if (got < 0) continue;
      ssize_t off = 0;
      while (off < got) {
        ssize_t w = write(fd, buf + off, got - off);
        if (w < 0) break;
        off += w;
      }
      if (off < got) {
        if (errno != EAGAIN) {
          drop(ep, fd);
          continue;
        }
        p = pending_for(fd);
        p->len = got - off;
        p->off = 0;
        p->bytes = malloc(p->len);
        memcpy(p->bytes, buf + off, p->len);
        struct epoll_event cev = {.events = EPOLLOUT, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
      }
    }
  }
}
