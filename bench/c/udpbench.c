// The C side of `npm run bench`: the kernel path without a runtime, as the physical limit,
// and the load generators. Loopback (127.0.0.1) only; every loop is bounded.
//   udpbench flood PORT SECONDS SIZE COUNT    sendmmsg (connected) until COUNT sent or SECONDS passed
//   udpbench pace PORT SECONDS SIZE PPS       like flood, at PPS datagrams a second (spinning on the clock
//                                             between sends, so the receiver's wakeups are what is measured)
//   udpbench send PORT SECONDS SIZE           sendmmsg with a destination per message, measuring its CPU
//   udpbench sink IDLE [gro]                  recvmmsg on 127.0.0.1 (prints its port first) until
//                                             IDLE seconds pass without a datagram (after the first one:
//                                             1 s); counts UDP_GRO segments as datagrams
//   udpbench poll IDLE PERIOD_MS              like sink, but reads on a clock while busy: it drains the
//                                             socket, and when that brought more than one datagram,
//                                             sleeps PERIOD_MS instead of waiting for readiness
//   udpbench hold IDLE USECS                  like sink, but coalesces as the `coalesce` option does: a
//                                             readiness after the queue was emptied starts a hold of
//                                             USECS (a timerfd), then it drains the socket
//   udpbench echo                             answers every datagram (prints its port first), until killed
//   udpbench ping PORT COUNT SIZE             COUNT round trips to an echo after COUNT/10 warm-up ones
//   udpbench gso PORT SECONDS SEGMENT         UDP_SEGMENT sends of as many SEGMENT-byte segments as fit in 64 KiB
//   udpbench sendgso PORT SECONDS SIZE        like gso, at most 64 segments per send: what UDP.sendBatch does
//                                             with 64 equal messages to one destination
// Each prints one JSON line when done (sink and echo print {"port"} first). CPU is getrusage(SELF);
// receivers count CPU, datagrams and latency from WARMUP_S after their first datagram (as
// bench/cases.js's do, whose JIT is still compiling then), and every datagram in "total".
// The flood and pace senders write CLOCK_MONOTONIC nanoseconds into the first 8 bytes of each
// datagram (little-endian, when SIZE >= 8); receivers report one-way latency percentiles from it
// (p50/p99/p999, µs): the time from the send to the read that returned the datagram.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

enum { BATCH = 64, SLOT = 65536 };
static const double WARMUP_S = 0.25;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// One-way latency histogram, the same buckets as bench/cases.js: 1 µs up to 10 ms, then 100 µs
// up to 1 s, then one bucket for the rest.
enum { FINE_BUCKETS = 10000, COARSE_BUCKETS = 9900, COARSE_US = 100 };
static unsigned long latency[FINE_BUCKETS + COARSE_BUCKETS + 1];
static unsigned long latency_count;

static void record_latency(uint64_t stamp, uint64_t now) {
  uint64_t us = now > stamp ? (now - stamp) / 1000 : 0;
  size_t bucket = us < FINE_BUCKETS ? us : FINE_BUCKETS + (us - FINE_BUCKETS) / COARSE_US;
  if (bucket > FINE_BUCKETS + COARSE_BUCKETS) bucket = FINE_BUCKETS + COARSE_BUCKETS;
  latency[bucket]++;
  latency_count++;
}

// The lower edge of the bucket holding the q-quantile, in µs; -1 with no samples.
static double latency_quantile(double q) {
  if (latency_count == 0) return -1;
  unsigned long rank = (unsigned long)(q * (latency_count - 1)), seen = 0;
  for (size_t bucket = 0; bucket <= FINE_BUCKETS + COARSE_BUCKETS; bucket++) {
    seen += latency[bucket];
    if (seen > rank) return bucket < FINE_BUCKETS ? (double)bucket : FINE_BUCKETS + (double)(bucket - FINE_BUCKETS) * COARSE_US;
  }
  return -1;
}

static double cpu_seconds(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

// The part of cpu_seconds() spent in the kernel.
static double system_seconds(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static void fail(const char* what) {
  printf("{\"error\":\"%s: %s\"}\n", what, strerror(errno));
  fflush(stdout);
  exit(1);
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  return address;
}

static int bound_socket(int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) fail("socket");
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_in address = loopback(port);
  if (bind(fd, (struct sockaddr*)&address, sizeof address) != 0) fail("bind");
  return fd;
}

static int port_of(int fd) {
  struct sockaddr_in address;
  socklen_t length = sizeof address;
  getsockname(fd, (struct sockaddr*)&address, &length);
  return ntohs(address.sin_port);
}

// sendmmsg as fast as the kernel takes it. The flood connects (the cheapest send the kernel has,
// so the receiver is what gives); the measured sender does not, as the Node senders give a
// destination per message. rate > 0: paced at that many datagrams a second, one per tick,
// catching up in one sendmmsg when it fell behind.
static int flood(int port, double seconds, int size, long count, int measure, double rate) {
  int fd = bound_socket(0);
  struct sockaddr_in to = loopback(port);
  if (!measure && connect(fd, (struct sockaddr*)&to, sizeof to) != 0) fail("connect");
  static char payload[SLOT];
  memset(payload, 'x', sizeof payload);
  struct mmsghdr messages[BATCH];
  struct iovec iov[BATCH];
  for (int i = 0; i < BATCH; i++) {
    iov[i] = (struct iovec){payload, (size_t)size};
    messages[i].msg_hdr = (struct msghdr){.msg_name = measure ? &to : NULL, .msg_namelen = measure ? sizeof to : 0,
                                          .msg_iov = &iov[i], .msg_iovlen = 1};
  }
  double start = now(), cpu = cpu_seconds();
  long sent = 0, errors = 0;
  for (double elapsed = 0; sent < count && elapsed < seconds; elapsed = now() - start) {
    long left = count - sent;
    if (rate > 0) {
      long due = (long)(elapsed * rate) + 1 - sent;
      if (due <= 0) continue;
      if (due < left) left = due;
    }
    if (size >= 8) {
      uint64_t stamp = now_ns();
      memcpy(payload, &stamp, sizeof stamp);
    }
    int n = sendmmsg(fd, messages, left < BATCH ? (unsigned)left : BATCH, 0);
    if (n > 0) sent += n;
    else errors++;
  }
  double elapsed = now() - start;
  printf("{\"sent\":%ld,\"bytes\":%ld,\"seconds\":%.6f,\"cpu\":%.6f,\"errors\":%ld}\n", sent, sent * (long)size, elapsed,
         cpu_seconds() - cpu, errors);
  return 0;
}

// period > 0: while reads bring more than one datagram, read every `period` seconds instead of
// waiting for each readiness (examples/polled-receiver.js). hold_us > 0: a readiness that finds
// the queue emptied by the last read is held for hold_us on a timerfd (the `coalesce` option).
static int sink(double idle, int gro, double period, long hold_us) {
  int fd = bound_socket(0);
  if (gro) {
    int on = 1;
    if (setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof on) != 0) fail("setsockopt UDP_GRO");
  }
  int timer = -1;
  if (hold_us > 0 && (timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)) < 0) fail("timerfd_create");
  printf("{\"port\":%d}\n", port_of(fd));
  fflush(stdout);
  static char buffers[BATCH][SLOT];
  static char control[BATCH][64];
  // Every receiver it is compared with reports the sender, so it asks the kernel for it too.
  static struct sockaddr_storage senders[BATCH];
  struct mmsghdr messages[BATCH];
  struct iovec iov[BATCH];
  long datagrams = 0, total = 0, bytes = 0, total_bytes = 0, calls = 0, wakeups = 0;
  double started = 0, first = 0, last = 0, cpu = 0, system = 0;
  int drained = 1;
  long gathered = 0;  // datagrams read since the last wait
  for (;;) {
    if (period == 0 || drained) {
      if (period > 0 && gathered > 1) {
        struct timespec pause = {(time_t)period, (long)((period - (time_t)period) * 1e9)};
        nanosleep(&pause, NULL);
      } else {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, started == 0 ? (int)(idle * 1000) : 1000) <= 0) break;
        if (timer >= 0 && drained) {
          struct itimerspec when = {.it_value = {hold_us / 1000000, (hold_us % 1000000) * 1000}};
          uint64_t expirations;
          timerfd_settime(timer, 0, &when, NULL);
          if (read(timer, &expirations, sizeof expirations) < 0) fail("read timerfd");
        }
      }
      wakeups++;
      gathered = 0;
    }
    for (int i = 0; i < BATCH; i++) {
      iov[i] = (struct iovec){buffers[i], SLOT};
      messages[i].msg_hdr = (struct msghdr){.msg_name = &senders[i], .msg_namelen = sizeof senders[i], .msg_iov = &iov[i],
                                            .msg_iovlen = 1, .msg_control = control[i], .msg_controllen = 64};
    }
    int n = recvmmsg(fd, messages, BATCH, MSG_DONTWAIT, NULL);
    drained = n < BATCH;
    if (n <= 0) continue;
    gathered += n;
    last = now();
    if (started == 0) started = last;
    int measuring = first != 0;
    if (!measuring && last - started >= WARMUP_S) {
      first = last;
      cpu = cpu_seconds();
      system = system_seconds();
    }
    if (measuring) calls++;
    uint64_t read_at = now_ns();
    for (int i = 0; i < n; i++) {
      int segment = 0;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&messages[i].msg_hdr); c; c = CMSG_NXTHDR(&messages[i].msg_hdr, c)) {
        if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) memcpy(&segment, CMSG_DATA(c), sizeof segment);
      }
      long count = segment > 0 ? (messages[i].msg_len + segment - 1) / segment : 1;
      total += count;
      total_bytes += messages[i].msg_len;
      if (!measuring) continue;
      datagrams += count;
      bytes += messages[i].msg_len;
      if (!gro && messages[i].msg_len >= 8) {
        uint64_t stamp;
        memcpy(&stamp, buffers[i], sizeof stamp);
        record_latency(stamp, read_at);
      }
    }
  }
  printf("{\"received\":%ld,\"total\":%ld,\"bytes\":%ld,\"totalBytes\":%ld,\"seconds\":%.6f,\"cpu\":%.6f,\"system\":%.6f,"
         "\"calls\":%ld,\"wakeups\":%ld,\"p50\":%.0f,\"p99\":%.0f,\"p999\":%.0f}\n",
         datagrams, total, bytes, total_bytes, first == 0 ? 0 : last - first, first == 0 ? 0 : cpu_seconds() - cpu,
         first == 0 ? 0 : system_seconds() - system, calls, wakeups, latency_quantile(0.5),
         latency_quantile(0.99), latency_quantile(0.999));
  return 0;
}

static void echo(void) __attribute__((noreturn));
static void echo(void) {
  int fd = bound_socket(0);
  printf("{\"port\":%d}\n", port_of(fd));
  fflush(stdout);
  static char buffer[SLOT];
  for (;;) {
    struct sockaddr_in from;
    socklen_t length = sizeof from;
    ssize_t n = recvfrom(fd, buffer, sizeof buffer, 0, (struct sockaddr*)&from, &length);
    if (n >= 0) sendto(fd, buffer, n, 0, (struct sockaddr*)&from, length);
  }
}

static int compare(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static int ping(int port, int count, int size) {
  int fd = bound_socket(0);
  struct timeval limit = {.tv_sec = 2};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  struct sockaddr_in to = loopback(port);
  static char buffer[SLOT];
  memset(buffer, 'p', size);
  int warmup = count / 10;
  double* samples = malloc(sizeof(double) * count);
  for (int i = -warmup; i < count; i++) {
    double start = now();
    if (sendto(fd, buffer, size, 0, (struct sockaddr*)&to, sizeof to) < 0) fail("sendto");
    if (recv(fd, buffer, sizeof buffer, 0) < 0) fail("recv");
    if (i >= 0) samples[i] = (now() - start) * 1e6;
  }
  qsort(samples, count, sizeof(double), compare);
  printf("{\"count\":%d,\"p50\":%.3f,\"p99\":%.3f}\n", count, samples[count / 2], samples[count * 99 / 100]);
  return 0;
}

static int gso(int port, double seconds, int segment, int most) {
  int fd = bound_socket(0);
  if (setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &segment, sizeof segment) != 0) fail("setsockopt UDP_SEGMENT");
  static char payload[SLOT];
  memset(payload, 'g', sizeof payload);
  int segments = 65000 / segment;
  if (segments > most) segments = most;
  int size = segments * segment;
  struct sockaddr_in to = loopback(port);
  double start = now(), cpu = cpu_seconds();
  long bytes = 0, sends = 0;
  while (now() - start < seconds) {
    ssize_t n = sendto(fd, payload, size, 0, (struct sockaddr*)&to, sizeof to);
    if (n > 0) bytes += n, sends++;
  }
  double elapsed = now() - start;
  printf("{\"bytes\":%ld,\"sends\":%ld,\"sent\":%ld,\"seconds\":%.6f,\"cpu\":%.6f}\n", bytes, sends, sends * segments, elapsed,
         cpu_seconds() - cpu);
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 6 && !strcmp(argv[1], "flood")) return flood(atoi(argv[2]), atof(argv[3]), atoi(argv[4]), atol(argv[5]), 0, 0);
  if (argc >= 6 && !strcmp(argv[1], "pace")) return flood(atoi(argv[2]), atof(argv[3]), atoi(argv[4]), 1L << 62, 0, atof(argv[5]));
  if (argc >= 5 && !strcmp(argv[1], "send")) return flood(atoi(argv[2]), atof(argv[3]), atoi(argv[4]), 1L << 62, 1, 0);
  if (argc >= 3 && !strcmp(argv[1], "sink")) return sink(atof(argv[2]), argc >= 4 && !strcmp(argv[3], "gro"), 0, 0);
  if (argc >= 4 && !strcmp(argv[1], "poll")) return sink(atof(argv[2]), 0, atof(argv[3]) / 1000, 0);
  if (argc >= 4 && !strcmp(argv[1], "hold")) return sink(atof(argv[2]), 0, 0, atol(argv[3]));
  if (argc >= 2 && !strcmp(argv[1], "echo")) echo();
  if (argc >= 5 && !strcmp(argv[1], "ping")) return ping(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
  if (argc >= 5 && !strcmp(argv[1], "gso")) return gso(atoi(argv[2]), atof(argv[3]), atoi(argv[4]), 1 << 30);
  if (argc >= 5 && !strcmp(argv[1], "sendgso")) return gso(atoi(argv[2]), atof(argv[3]), atoi(argv[4]), BATCH);
  fprintf(stderr, "usage: see the comment at the top of udpbench.c\n");
  return 2;
}
