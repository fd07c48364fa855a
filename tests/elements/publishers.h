/* onair — test helpers: publisher processes (ffmpeg) that die with the test
 * and are killed in teardown, and free loopback ports.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Include after gst/check/gstcheck.h (uses fail_unless); call
 * kill_children() in each test's teardown.
 */
#pragma once

#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

struct Child {
  pid_t pid = -1;
  std::string log_path;
  int status = -1; /* wait status once it exited */
};

static std::vector<Child *> children;
static gchar *work_dir = nullptr;

/* Kills `child` (as a crashed or unplugged encoder goes) and waits for it. */
static inline void kill_child(Child *child) {
  if (child->pid <= 0) return;
  kill(child->pid, SIGKILL);
  waitpid(child->pid, nullptr, 0);
  child->pid = -1;
}

static inline void kill_children(void) {
  for (Child *child : children) {
    kill_child(child);
    if (!child->log_path.empty()) g_unlink(child->log_path.c_str());
    delete child;
  }
  children.clear();
  if (work_dir) {
    g_rmdir(work_dir);
    g_free(work_dir);
    work_dir = nullptr;
  }
}

/* Starts a program with its output in a log file; it dies with this process
 * (PR_SET_PDEATHSIG) and is killed in teardown. */
static inline Child *start_child(const std::string &line) {
  if (!work_dir) work_dir = g_dir_make_tmp("onair-test-XXXXXX", nullptr);
  fail_unless(work_dir != nullptr);
  Child *child = new Child();
  children.push_back(child);
  child->log_path = std::string(work_dir) + "/client" + std::to_string(children.size()) + ".log";
  gchar **argv = g_strsplit(line.c_str(), " ", -1);
  int log_fd = open(child->log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  fail_unless(log_fd >= 0);
  pid_t parent = getpid();
  pid_t pid = fork();
  fail_unless(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  close(log_fd);
  g_strfreev(argv);
  child->pid = pid;
  return child;
}

static inline bool child_exited(Child *child) {
  if (child->pid <= 0) return true;
  int status;
  if (waitpid(child->pid, &status, WNOHANG) == child->pid) {
    child->pid = -1;
    child->status = status;
    return true;
  }
  return false;
}

static inline std::string child_log(Child *child) {
  gchar *text = nullptr;
  if (!g_file_get_contents(child->log_path.c_str(), &text, nullptr, nullptr)) return "";
  std::string out(text);
  g_free(text);
  return out.size() > 3000 ? out.substr(out.size() - 3000) : out;
}

static inline bool exited_ok(Child *child) {
  return child->pid == -1 && WIFEXITED(child->status) && WEXITSTATUS(child->status) == 0;
}

static inline bool exited_with_error(Child *child) {
  return child->pid == -1 && child->status != -1 &&
         !(WIFEXITED(child->status) && WEXITSTATUS(child->status) == 0);
}

static inline bool have_program(const char *name) {
  gchar *path = g_find_program_in_path(name);
  g_free(path);
  return path != nullptr;
}

static inline bool ffmpeg_can_publish() {
  if (!have_program("ffmpeg")) return false;
  gchar *encoders = nullptr;
  gboolean ran =
      g_spawn_command_line_sync("ffmpeg -hide_banner -encoders", &encoders, nullptr, nullptr, nullptr);
  bool ok = ran && encoders && strstr(encoders, "libx264") && strstr(encoders, " aac ");
  g_free(encoders);
  return ok;
}

#define SKIP_WITHOUT_FFMPEG()                                                \
  do {                                                                       \
    if (!ffmpeg_can_publish()) {                                             \
      g_print("SKIP %s: ffmpeg with libx264 and aac not found\n", __func__); \
      return;                                                                \
    }                                                                        \
  } while (0)

/* `seconds` of 25 fps H.264 (a keyframe a second) and AAC, paced in real
 * time as a live encoder sends it (unless not `paced`: as fast as it is
 * encoded), in `format` to `url`. */
static inline Child *ffmpeg_publish_to(const std::string &url, const std::string &format, int seconds,
                                       const std::string &size = "320x180", bool paced = true) {
  return start_child(
      std::string("ffmpeg -hide_banner -nostdin -loglevel warning ") + (paced ? "-re " : "") +
      "-f lavfi -i testsrc=size=" + size + ":rate=25 -f lavfi -i sine -t " + std::to_string(seconds) +
      " -c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p -c:a aac -f " + format + " " + url);
}

/* `seconds` of 320x180 25 fps H.264 (a keyframe a second) and AAC, paced in
 * real time as a live encoder sends it (see ffmpeg_publish_to). */
static inline Child *ffmpeg_publish(uint16_t port, const std::string &key, int seconds,
                                    const std::string &size = "320x180", bool paced = true) {
  return ffmpeg_publish_to("-rw_timeout 20000000 rtmp://127.0.0.1:" + std::to_string(port) + "/live/" + key,
                           "flv", seconds, size, paced);
}

/* The same media in MPEG-TS to an SRT listener on loopback, as an SRT
 * caller (OBS, an encoder) sends it; linger: its last packets are delivered
 * before it hangs up. */
static inline Child *ffmpeg_publish_srt(uint16_t port, int seconds) {
  return ffmpeg_publish_to("srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&linger=2", "mpegts",
                           seconds);
}

static inline bool ffmpeg_has_srt() {
  gchar *protocols = nullptr;
  gboolean ran =
      g_spawn_command_line_sync("ffmpeg -hide_banner -protocols", &protocols, nullptr, nullptr, nullptr);
  bool ok = ran && protocols && strstr(protocols, "\n  srt\n");
  g_free(protocols);
  return ok;
}

/* A TCP (or, with SOCK_DGRAM, UDP) port free on loopback right now. */
static inline uint16_t free_port(int type = SOCK_STREAM) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  fail_unless(fd >= 0);
  struct sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fail_unless(bind(fd, reinterpret_cast<struct sockaddr *>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  fail_unless(getsockname(fd, reinterpret_cast<struct sockaddr *>(&address), &length) == 0);
  close(fd);
  return ntohs(address.sin_port);
}
