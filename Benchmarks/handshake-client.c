/*
 * Client of Benchmarks/compare: one new TLS connection per request, for a fixed time.
 *
 *   handshake-client HOST PORT SECONDS CONNECTIONS full|resumed PATH [HEADER ...]
 *
 * CONNECTIONS threads each loop: connect, TLS handshake, send `GET PATH HTTP/1.1` with the
 * HEADERs ("Name: value") and `Connection: close`, read the answer to EOF (the server closes
 * first, so TIME_WAIT stays on its side), close. `full`: no session is ever offered, so every
 * handshake is a full one. `resumed`: each connection offers the session (TLS 1.3 ticket) the
 * thread's previous connection received. No ALPN (HTTP/1.1), no certificate verification (the
 * client's own cost is not measured). Wrk and h2load resume sessions on reconnect, hence this.
 *
 * Prints one line: requests (answered 2xx), failed (errors and other statuses), resumed (how many
 * handshakes the server resumed), seconds, per_second, p50_ms, p99_ms (connect to EOF).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in server;
static SSL_CTX *context;
static char request[8192];
static int resume;
static double deadline;

struct worker {
  pthread_t thread;
  long requests, failed, resumed, count, capacity;
  double *latencies; /* seconds, of the 2xx answers */
};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* One request on a new connection; 1 when answered 2xx. *session: offered, then replaced. */
static int exchange(SSL_SESSION **session, long *resumed) {
  int ok = 0, fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct timeval timeout = {10, 0};
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (connect(fd, (struct sockaddr *)&server, sizeof server) != 0) {
    close(fd);
    return 0;
  }
  SSL *ssl = SSL_new(context);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  if (resume && *session) SSL_set_session(ssl, *session);
  if (SSL_connect(ssl) == 1 && SSL_write(ssl, request, (int)strlen(request)) > 0) {
    char buffer[16384], head[13] = {0};
    int n, got = 0;
    while ((n = SSL_read(ssl, buffer, sizeof buffer)) > 0) {
      if (got < 12) memcpy(head + got, buffer, (size_t)(n < 12 - got ? n : 12 - got));
      got += n;
    }
    /* EOF, with or without close_notify, after a whole head: the server closed as asked. */
    ok = got >= 12 && strncmp(head, "HTTP/1.1 2", 10) == 0;
    if (SSL_session_reused(ssl)) (*resumed)++;
    /* Shut down as far as OpenSSL is concerned (nothing is sent: the server has closed), or
       SSL_free would mark the session not resumable. */
    if (ok) SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    if (resume && ok) {
      SSL_SESSION *received = SSL_get1_session(ssl);
      if (received && SSL_SESSION_is_resumable(received)) {
        if (*session) SSL_SESSION_free(*session);
        *session = received;
      } else if (received) {
        SSL_SESSION_free(received);
      }
    }
  }
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
  return ok;
}

static void *run(void *argument) {
  struct worker *w = argument;
  SSL_SESSION *session = NULL;
  while (now() < deadline) {
    double start = now();
    if (!exchange(&session, &w->resumed)) {
      w->failed++;
      continue;
    }
    if (w->count == w->capacity) {
      w->capacity = w->capacity ? w->capacity * 2 : 4096;
      w->latencies = realloc(w->latencies, (size_t)w->capacity * sizeof(double));
    }
    w->latencies[w->count++] = now() - start;
    w->requests++;
  }
  if (session) SSL_SESSION_free(session);
  return NULL;
}

static int ascending(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 7 || (strcmp(argv[5], "full") && strcmp(argv[5], "resumed"))) {
    fprintf(stderr, "usage: %s HOST PORT SECONDS CONNECTIONS full|resumed PATH [HEADER ...]\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN); /* a write to a connection the server has closed fails instead */
  server.sin_family = AF_INET;
  server.sin_port = htons((unsigned short)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
    fprintf(stderr, "HOST must be an IPv4 address\n");
    return 2;
  }
  double seconds = atof(argv[3]);
  int threads = atoi(argv[4]);
  resume = strcmp(argv[5], "resumed") == 0;
  int length = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: localhost\r\n", argv[6]);
  for (int i = 7; i < argc; i++) length += snprintf(request + length, sizeof request - length, "%s\r\n", argv[i]);
  snprintf(request + length, sizeof request - length, "Connection: close\r\n\r\n");

  context = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_verify(context, SSL_VERIFY_NONE, NULL);
  /* Sessions are kept by hand (resumed) or never (full), not in OpenSSL's client cache. */
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);

  struct worker *workers = calloc((size_t)threads, sizeof *workers);
  double start = now();
  deadline = start + seconds;
  for (int i = 0; i < threads; i++) pthread_create(&workers[i].thread, NULL, run, &workers[i]);
  long requests = 0, failed = 0, resumed = 0, count = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(workers[i].thread, NULL);
    requests += workers[i].requests;
    failed += workers[i].failed;
    resumed += workers[i].resumed;
  }
  double elapsed = now() - start;
  double *all = malloc((size_t)(requests ? requests : 1) * sizeof(double));
  for (int i = 0; i < threads; i++) {
    memcpy(all + count, workers[i].latencies, (size_t)workers[i].count * sizeof(double));
    count += workers[i].count;
  }
  qsort(all, (size_t)count, sizeof(double), ascending);
  double p50 = count ? all[(count - 1) / 2] : 0, p99 = count ? all[(long)((count - 1) * 0.99)] : 0;
  printf("requests=%ld failed=%ld resumed=%ld seconds=%.2f per_second=%.0f p50_ms=%.3f p99_ms=%.3f\n",
         requests, failed, resumed, elapsed, requests / elapsed, p50 * 1e3, p99 * 1e3);
  return 0;
}
