// Fault injection for test/faults.test.ts, loaded with LD_PRELOAD into a child process:
// every other recvmmsg, recvmsg, sendmsg, sendmmsg and connect on a datagram socket fails
// with EINTR before reaching the kernel, as a signal arriving mid-call makes it fail
// (ABYSS_FAULT_ERRNO=n: with errno n instead, an error that is not retried). At exit it
// writes how many calls it saw and failed to the file named by ABYSS_EINTR_REPORT.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

enum { RECVMMSG, RECVMSG, SENDMSG, SENDMMSG, CONNECT, CALLS };
static const char* const names[CALLS] = {"recvmmsg", "recvmsg", "sendmsg", "sendmmsg", "connect"};
static unsigned long seen[CALLS];
static unsigned long interrupted[CALLS];

static void* real(int call) {
  void* function = dlsym(RTLD_NEXT, names[call]);
  if (function == NULL) abort();
  return function;
}

// Only datagram sockets: Node's own pipes and the like are left alone.
static int interrupt(int call, int fd) {
  int type = 0;
  socklen_t size = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || type != SOCK_DGRAM) return 0;
  if (seen[call]++ % 2 != 0) return 0;
  interrupted[call]++;
  const char* fault = getenv("ABYSS_FAULT_ERRNO");
  errno = fault ? atoi(fault) : EINTR;
  return 1;
}

int recvmmsg(int fd, struct mmsghdr* messages, unsigned int count, int flags, struct timespec* timeout) {
  if (interrupt(RECVMMSG, fd)) return -1;
  return ((int (*)(int, struct mmsghdr*, unsigned int, int, struct timespec*))real(RECVMMSG))(fd, messages, count, flags, timeout);
}

ssize_t recvmsg(int fd, struct msghdr* message, int flags) {
  if (interrupt(RECVMSG, fd)) return -1;
  return ((ssize_t (*)(int, struct msghdr*, int))real(RECVMSG))(fd, message, flags);
}

ssize_t sendmsg(int fd, const struct msghdr* message, int flags) {
  if (interrupt(SENDMSG, fd)) return -1;
  return ((ssize_t (*)(int, const struct msghdr*, int))real(SENDMSG))(fd, message, flags);
}

int sendmmsg(int fd, struct mmsghdr* messages, unsigned int count, int flags) {
  if (interrupt(SENDMMSG, fd)) return -1;
  return ((int (*)(int, struct mmsghdr*, unsigned int, int))real(SENDMMSG))(fd, messages, count, flags);
}

int connect(int fd, const struct sockaddr* address, socklen_t length) {
  if (interrupt(CONNECT, fd)) return -1;
  return ((int (*)(int, const struct sockaddr*, socklen_t))real(CONNECT))(fd, address, length);
}

__attribute__((destructor)) static void report(void) {
  const char* path = getenv("ABYSS_EINTR_REPORT");
  FILE* file = path ? fopen(path, "w") : NULL;
  if (file == NULL) return;
  fprintf(file, "{");
  for (int call = 0; call < CALLS; call++) {
    fprintf(file, "%s\"%s\":{\"seen\":%lu,\"interrupted\":%lu}", call ? "," : "", names[call], seen[call], interrupted[call]);
  }
  fprintf(file, "}\n");
  fclose(file);
}
