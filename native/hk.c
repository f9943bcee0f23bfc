/*
 * hk's native client: the `hk` command without Python's start when a command server runs.
 *
 * `hk watch start` runs a warm command server for an archive (hk/warm/server.py). The Python
 * client (hk/warm/client.py) hands a command to it, but only after Python itself has started,
 * which takes longer than the command then does. This program is the same client in C, in the
 * way Mercurial's chg is for hg's command server: it finds the archive as hk does, and if the
 * archive's server socket is there it sends the command line, environment, working folder,
 * umask and its three standard streams (SCM_RIGHTS), waits for the serving child's "A<pid>",
 * answers "G", forwards its signals to that child and exits with the child's "X<code>".
 *
 * Anything else runs hk in Python, exactly as the Python `hk` script does: no server, a
 * refusal, no answer in time, a command that owns the terminal (tui, demo, edit, watch), help,
 * or an archive whose socket path is too long for .git/hk (the Python client finds those).
 * Built by scripts/build-client with the venv's Python and hk package compiled in:
 *
 *     cc -O2 -DHK_PYTHON='"/…/.venv/bin/python"' -DHK_PACKAGE='"/…/hk"' -o hk native/hk.c
 *
 * The request format is hk.warm.server.parse's: NUL-separated fields, length first.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef HK_PYTHON
#error "build with -DHK_PYTHON='\"/path/to/python\"' (scripts/build-client does)"
#endif
#ifndef HK_PACKAGE
#error "build with -DHK_PACKAGE='\"/path/to/hk\"' (scripts/build-client does)"
#endif

#define MAGIC "hk-request-2"
#define MAX_SOCKET_PATH 107 /* sun_path holds 108 bytes with the final NUL */
#define CONNECT_MS 50
#define ACCEPT_MS 2000

extern char **environ;

static const char *const NOT_SERVED[] = {"tui", "demo", "edit", "watch", NULL};
static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static volatile pid_t serving = 0;

/* Run the command in Python, as the `hk` script would; `tried` tells it not to ask the
 * server again. Never returns. */
static void run_in_python(int argc, char **argv, int tried) {
    char **args = calloc((size_t)argc + 6, sizeof(char *));
    if (args == NULL) {
        perror("hk");
        exit(1);
    }
    int n = 0;
    args[n++] = HK_PYTHON;
    args[n++] = "-P"; /* as the script: the working folder is not where hk is imported from */
    args[n++] = "-c";
    args[n++] = "from hk.__main__ import from_native; from_native()";
    args[n++] = tried ? "1" : "0";
    for (int i = 0; i < argc; i++) args[n++] = argv[i];
    args[n] = NULL;
    execv(HK_PYTHON, args);
    fprintf(stderr, "hk: cannot run %s: %s\n", HK_PYTHON, strerror(errno));
    exit(127);
}

/* A growing byte buffer for the request. */
struct buffer {
    char *data;
    size_t size, cap;
};

static int add_bytes(struct buffer *b, const char *data, size_t len) {
    if (b->size + len > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096);
        while (cap < b->size + len) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL) return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->size, data, len);
    b->size += len;
    return 0;
}

/* A field, after a NUL that ends the one before when `separate`. */
static int add(struct buffer *b, const char *field, int separate) {
    if (separate && add_bytes(b, "", 1) != 0) return -1;
    return add_bytes(b, field, strlen(field));
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *home(void) {
    const char *h = getenv("HOME");
    if (h != NULL && *h) return h;
    struct passwd *pw = getpwuid(getuid());
    return pw != NULL ? pw->pw_dir : NULL;
}

/* `~` and `~/…` as Python's expanduser reads them; NULL for `~user` (the Python client then
 * finds it). The result is in `out`. */
static const char *expand(const char *path, char *out, size_t size) {
    if (path[0] != '~') return path;
    if (path[1] != '\0' && path[1] != '/') return NULL;
    const char *h = home();
    if (h == NULL || (size_t)snprintf(out, size, "%s%s", h, path + 1) >= size) return NULL;
    return out;
}

/* The archive's root, found as hk.store.discover.find_root finds it; 0 if it cannot be
 * resolved here (the Python client then tries). */
static int find_root(const char *explicit, char *root) {
    char expanded[PATH_MAX];
    const char *named = explicit;
    if (named == NULL || !*named) {
        named = getenv("HK_ARCHIVE");
        if (named != NULL && !*named) named = NULL;
    }
    if (named != NULL) {
        const char *path = expand(named, expanded, sizeof expanded);
        return path != NULL && realpath(path, root) != NULL;
    }
    char folder[PATH_MAX], probe[PATH_MAX + 16];
    if (getcwd(folder, sizeof folder) == NULL || realpath(folder, root) == NULL) return 0;
    strcpy(folder, root);
    for (;;) {
        snprintf(probe, sizeof probe, "%s%shk.toml", folder, strcmp(folder, "/") ? "/" : "");
        if (is_file(probe)) {
            strcpy(root, folder);
            return 1;
        }
        char *slash = strrchr(folder, '/');
        if (slash == NULL || strcmp(folder, "/") == 0) break;
        if (slash == folder) slash[1] = '\0';
        else *slash = '\0';
    }
    const char *data = getenv("XDG_DATA_HOME");
    if (data != NULL && *data) {
        snprintf(folder, sizeof folder, "%s/hk/archive", data);
    } else {
        const char *h = home();
        if (h == NULL) return 0;
        snprintf(folder, sizeof folder, "%s/.local/share/hk/archive", h);
    }
    return realpath(folder, root) != NULL;
}

/* Whether the command may run in the server (hk.warm.client.served). */
static int served(int argc, char **argv, const char **explicit) {
    int i = 1;
    *explicit = NULL;
    if (argc > 2 && (!strcmp(argv[1], "--archive") || !strcmp(argv[1], "-C"))) {
        *explicit = argv[2];
        i = 3;
    } else if (argc > 1 && !strncmp(argv[1], "--archive=", 10)) {
        *explicit = argv[1] + 10;
        i = 2;
    }
    if (i >= argc || argv[i][0] == '-') return 0;
    for (const char *const *name = NOT_SERVED; *name; name++)
        if (!strcmp(argv[i], *name)) return 0;
    return 1;
}

static void set_timeout(int sock, int option, int ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(sock, SOL_SOCKET, option, &tv, sizeof tv);
}

/* One line from the server, without its newline; -1 if none came whole. */
static int read_line(int sock, char *line, size_t size) {
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t got = read(sock, line + n, 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        if (line[n] == '\n') {
            line[n] = '\0';
            return 0;
        }
        n++;
    }
    return -1;
}

static int parse_int(const char *text, long *value) {
    char *end;
    if (*text == '\0') return 0;
    errno = 0;
    *value = strtol(text, &end, 10);
    return errno == 0 && *end == '\0';
}

static void forward(int signum) {
    if (serving > 0) kill(serving, signum);
}

/* The request of hk.warm.server.parse; 0 if it could not be built. */
static int build_request(int argc, char **argv, struct buffer *b) {
    char cwd[PATH_MAX], number[32];
    if (getcwd(cwd, sizeof cwd) == NULL) return 0;
    mode_t mask = umask(022);
    umask(mask);
    int ok = add_bytes(b, "\0\0\0\0", 4) == 0; /* the length, filled in below */
    ok = ok && add(b, MAGIC, 0) == 0 && add(b, HK_PYTHON, 1) == 0 && add(b, HK_PACKAGE, 1) == 0;
    ok = ok && add(b, cwd, 1) == 0;
    snprintf(number, sizeof number, "%u", (unsigned)mask);
    ok = ok && add(b, number, 1) == 0 && add(b, "", 1) == 0; /* streams: the server works
                                                                them out from the environment */
    snprintf(number, sizeof number, "%d", argc);
    ok = ok && add(b, number, 1) == 0;
    for (int i = 0; ok && i < argc; i++) ok = add(b, argv[i], 1) == 0;
    for (char **env = environ; ok && *env; env++) ok = add(b, *env, 1) == 0;
    if (!ok) return 0;
    uint32_t size = (uint32_t)(b->size - 4);
    unsigned char *head = (unsigned char *)b->data;
    head[0] = size >> 24, head[1] = size >> 16, head[2] = size >> 8, head[3] = size;
    return 1;
}

/* Send the request with our standard streams; the serving child's pid, or 0. */
static pid_t hand_over(int sock, const char *path, int argc, char **argv) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, path);
    set_timeout(sock, SO_SNDTIMEO, CONNECT_MS);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) return 0;
    set_timeout(sock, SO_SNDTIMEO, ACCEPT_MS);
    set_timeout(sock, SO_RCVTIMEO, ACCEPT_MS);
    struct buffer b = {0};
    if (!build_request(argc, argv, &b)) return 0;
    int fds[3] = {0, 1, 2};
    char control[CMSG_SPACE(sizeof fds)];
    memset(control, 0, sizeof control);
    struct iovec iov = {b.data, b.size};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = sizeof control};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
    ssize_t sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (sent < 0) return 0;
    size_t done = (size_t)sent;
    while (done < b.size) { /* the rest of a long environment, without the descriptors */
        ssize_t more = send(sock, b.data + done, b.size - done, MSG_NOSIGNAL);
        if (more <= 0) return 0;
        done += (size_t)more;
    }
    free(b.data);
    char line[64];
    long pid;
    if (read_line(sock, line, sizeof line) != 0 || line[0] != 'A' || !parse_int(line + 1, &pid)
        || pid <= 0)
        return 0; /* refused, or no answer in time: the child gives up when we close */
    if (send(sock, "G", 1, MSG_NOSIGNAL) != 1) return 0;
    return (pid_t)pid;
}

int main(int argc, char **argv) {
    const char *explicit;
    const char *off = getenv("HK_NO_SERVER");
    if ((off != NULL && *off) || !served(argc, argv, &explicit))
        run_in_python(argc, argv, 1);
    char root[PATH_MAX], path[PATH_MAX + 32];
    if (!find_root(explicit, root)) run_in_python(argc, argv, 0);
    int length = snprintf(path, sizeof path, "%s/.git/hk/serve.sock", root);
    if (length > MAX_SOCKET_PATH) run_in_python(argc, argv, 0); /* a hashed path: Python's */
    struct stat st;
    if (stat(path, &st) != 0) run_in_python(argc, argv, 1);
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0) run_in_python(argc, argv, 1); /* a closed stream */
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) run_in_python(argc, argv, 1);
    pid_t pid = hand_over(sock, path, argc, argv);
    if (pid == 0) {
        close(sock);
        run_in_python(argc, argv, 1);
    }
    /* The command is the child's now: pass it our signals, and exit as it does. */
    serving = pid;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = forward;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++)
        sigaction(FORWARDED[i], &action, NULL);
    set_timeout(sock, SO_RCVTIMEO, 0);
    char line[64];
    long code;
    if (read_line(sock, line, sizeof line) != 0 || line[0] != 'X' || !parse_int(line + 1, &code)) {
        fprintf(stderr, "hk: the command server's process ended without an exit status; "
                        "see .git/hk/serve.log in the archive\n");
        return 1;
    }
    return (int)(code & 0xFF);
}
