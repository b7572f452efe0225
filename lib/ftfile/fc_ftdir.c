/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The output directory: its writer lock, its left-over files and the names
 * of the files in it (see fc_ftdir.h). The lock is flock(2) on a file of
 * its own: it ends with its descriptor, so a writer killed by SIGKILL or
 * a power loss never leaves a directory locked, and the next run can tell
 * a live writer's .tmp (lock held) from a dead one's (lock free). This
 * module never writes a flowtuple file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fc_ftdir.h"

static void say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* "PID OWNER" of the lock's holder, as it wrote it: at most out's size,
 * control characters shown as '?', "unknown" when it wrote nothing (yet). */
static void holder(int fd, char *out, size_t len)
{
	ssize_t n = pread(fd, out, len - 1, 0);

	if (n <= 0) {
		snprintf(out, len, "unknown");
		return;
	}
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

int fc_ft_dir_lock(const char *dir, const char *owner, char *err,
		   size_t errlen)
{
	char path[PATH_MAX], line[512];
	int fd, wfd, e, n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, FC_FT_LOCK_NAME);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		say(err, errlen, "%s/%s: path longer than PATH_MAX (%d)", dir,
		    FC_FT_LOCK_NAME, PATH_MAX);
		return -ENAMETOOLONG;
	}
	/* Held through a read-only descriptor (flock needs no write
	 * access): a lock file made by another user still locks, and the
	 * file system can be remounted read-only under a running writer. */
	fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		say(err, errlen, "cannot open the lock file %s: %s", path,
		    strerror(e));
		return -e;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		e = errno;
		if (e == EWOULDBLOCK) {
			char *cmd;

			holder(fd, line, sizeof(line));
			cmd = strchr(line, ' ');
			if (cmd != NULL)
				*cmd++ = '\0';
			say(err, errlen, "held by pid %s (%s); lock file %s",
			    line, cmd != NULL && *cmd ? cmd : "command unknown",
			    path);
		} else {
			say(err, errlen, "cannot lock %s: %s", path,
			    strerror(e));
		}
		close(fd);
		return -e;
	}
	n = snprintf(line, sizeof(line), "%ld %s\n", (long)getpid(),
		     owner != NULL ? owner : "");
	if (n > 0 && (size_t)n >= sizeof(line)) {
		n = sizeof(line);
		line[n - 1] = '\n';
	}
	/* Best effort, through a descriptor of its own: the lock holds
	 * whether or not the line is written (another user's lock file is
	 * read-only to us). */
	wfd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (wfd >= 0) {
		ssize_t w = n > 0 ? write(wfd, line, (size_t)n) : 0;

		(void)w;
		close(wfd);
	}
	return fd;
}

void fc_ft_dir_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void note_f(fc_ft_note_fn note, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note_f(fc_ft_note_fn note, void *arg, const char *fmt, ...)
{
	char msg[2 * PATH_MAX + 256];
	va_list ap;

	if (note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note(arg, msg);
}

int fc_ft_dir_leftovers(const char *dir, fc_ft_note_fn note, void *arg)
{
	const size_t sl = strlen(FC_FT_TMP_SUFFIX);
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char from[PATH_MAX], to[PATH_MAX];
		struct stat st;
		int k;

		if (l <= sl || strcmp(e->d_name + l - sl, FC_FT_TMP_SUFFIX) != 0)
			continue;
		k = snprintf(from, sizeof(from), "%s/%s", dir, e->d_name);
		if (k < 0 || (size_t)k >= sizeof(from) || lstat(from, &st) != 0)
			continue;
		if (!S_ISREG(st.st_mode)) {
			note_f(note, arg, "%s is not a regular file; left alone",
			       from);
			continue;
		}
		k = snprintf(to, sizeof(to), "%s/%.*s%s", dir, (int)(l - sl),
			     e->d_name, FC_FT_INCOMPLETE_SUFFIX);
		if (k < 0 || (size_t)k >= sizeof(to)) {
			note_f(note, arg, "%s was left by an interrupted run; "
			       "its .incomplete name would be longer than "
			       "PATH_MAX: left alone", from);
			continue;
		}
		if (renameat2(AT_FDCWD, from, AT_FDCWD, to,
			      RENAME_NOREPLACE) == 0) {
			note_f(note, arg, "%s was left by an interrupted run: "
			       "renamed to %s (read what it holds with "
			       "flowcap-read)", from, to);
			n++;
		} else {
			note_f(note, arg, "%s was left by an interrupted run "
			       "and cannot be renamed: %s", from,
			       strerror(errno));
		}
	}
	closedir(d);
	return n;
}

int fc_ft_name_check(const char *dir, const char *name, char *err,
		     size_t errlen)
{
	size_t l = name != NULL ? strlen(name) : 0;
	long name_max = NAME_MAX;

	if (l == 0) {
		say(err, errlen, "file name is empty");
		return -EINVAL;
	}
	if (name[0] == '.') {
		say(err, errlen, "file name '%s' starts with '.': it would be "
		    "hidden, or name a directory ('.' or '..')", name);
		return -EINVAL;
	}
	for (size_t i = 0; i < l; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch == '/') {
			say(err, errlen, "file name '%s' contains '/': it must "
			    "be one path component", name);
			return -EINVAL;
		}
		if (ch < 0x20 || ch == 0x7f) {
			say(err, errlen, "file name contains a control "
			    "character (byte 0x%02x at offset %zu)", ch, i);
			return -EINVAL;
		}
	}
	if (dir != NULL) {
		long m = pathconf(dir, _PC_NAME_MAX);

		if (m > 0)
			name_max = m;
	}
	if (l + FC_FT_NAME_RESERVE > (size_t)name_max) {
		say(err, errlen, "file name '%.40s...' is %zu bytes: with the "
		    "%d bytes a file name may gain (-999, .incomplete) it "
		    "exceeds the "
		    "file system's limit of %ld bytes per name (NAME_MAX); "
		    "at most %ld", name, l, FC_FT_NAME_RESERVE, name_max,
		    name_max - FC_FT_NAME_RESERVE);
		return -ENAMETOOLONG;
	}
	if (dir != NULL &&
	    strlen(dir) + 1 + l + FC_FT_NAME_RESERVE + 1 > PATH_MAX) {
		say(err, errlen, "path '%.40s.../%.40s...' is %zu bytes: with "
		    "the %d bytes a file name may gain it exceeds PATH_MAX "
		    "(%d bytes); "
		    "use a shorter directory or name", dir, name,
		    strlen(dir) + 1 + l, FC_FT_NAME_RESERVE, PATH_MAX);
		return -ENAMETOOLONG;
	}
	return 0;
}

int fc_ft_monitor_check(const char *monitor, char *err, size_t errlen)
{
	size_t l = monitor != NULL ? strlen(monitor) : 0;

	if (l == 0 || l > 255) {
		say(err, errlen, "the monitor name must be 1 to 255 bytes "
		    "(it has %zu)", l);
		return -EINVAL;
	}
	for (size_t i = 0; i < l; i++) {
		unsigned char ch = (unsigned char)monitor[i];

		if (ch <= 0x20 || ch == 0x7f || ch == '/' || ch == '=') {
			say(err, errlen, "the monitor name may not contain %s "
			    "(byte 0x%02x at offset %zu): it is one word in "
			    "file names and in key=value output",
			    ch == ' ' ? "a space" : ch == '/' ? "'/'" :
			    ch == '=' ? "'='" : "a control character",
			    ch, i);
			return -EINVAL;
		}
	}
	return 0;
}

int fc_ft_path_dup(char *buf, size_t len, const char *dir, const char *name,
		   unsigned dup)
{
	static const char ext[] = ".ft.zst";
	size_t l = strlen(name), el = sizeof(ext) - 1;
	int n;

	if (dup >= FC_FT_DUP_MAX)
		return -EINVAL;
	if (dup == 0)
		n = snprintf(buf, len, "%s/%s", dir, name);
	else if (l > el && strcmp(name + l - el, ext) == 0)
		n = snprintf(buf, len, "%s/%.*s-%u%s", dir, (int)(l - el), name,
			     dup, ext);
	else
		n = snprintf(buf, len, "%s/%s-%u", dir, name, dup);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
