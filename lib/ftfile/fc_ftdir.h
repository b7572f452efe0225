/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The output directory of flowtuple files: one writer per directory (a
 * lock naming its holder), what a killed writer left there (.tmp files,
 * set aside as .incomplete), and the names files get (checked before a run
 * starts, made unique when one exists already). It does not write files:
 * fc_ftfile.h does, with the names chosen here. It does not print either:
 * messages go to the caller's buffer or callback.
 */
#ifndef FC_FTDIR_H
#define FC_FTDIR_H

#include <stddef.h>

/** The lock file every writer of a directory holds while it runs. */
#define FC_FT_LOCK_NAME ".flowcap.lock"

/** Suffix of an unfinished file (fc_ft_writer_open creates NAME.tmp). */
#define FC_FT_TMP_SUFFIX ".tmp"

/** Suffix a left-over NAME.tmp is renamed to by fc_ft_dir_leftovers. */
#define FC_FT_INCOMPLETE_SUFFIX ".incomplete"

/** Attempts fc_ft_path_dup names: NAME, then NAME-1 .. NAME-999. */
#define FC_FT_DUP_MAX 1000

/**
 * Bytes a file's name may grow by on disk: "-999" (fc_ft_path_dup) and
 * ".incomplete" (the longer of the two suffixes).
 */
#define FC_FT_NAME_RESERVE 15

/**
 * Take the directory's writer lock: create or open DIR/.flowcap.lock,
 * lock it (flock, exclusive, non-blocking) and write "PID OWNER" into it
 * for the next one who finds it held. The lock lasts until the returned
 * descriptor is closed (fc_ft_dir_unlock) or the process ends, however it
 * ends; the file itself stays (removing a lock file races with the next
 * taker).
 *
 * @param dir    the output directory
 * @param owner  what to tell a second writer about this one (a command
 *               line); may be NULL
 * @param err    on failure, a message: who holds the lock, or what failed
 * @return the lock's descriptor (>= 0); -EWOULDBLOCK when another process
 *         holds it; another -errno when the lock file cannot be made.
 * Thread safety: call once per directory, from one thread (the lock is
 * the process's: a second thread would find it free through another
 * descriptor but block nothing). Not hot path.
 */
int fc_ft_dir_lock(const char *dir, const char *owner, char *err,
		   size_t errlen);

/**
 * Release a lock taken by fc_ft_dir_lock (a negative fd is a no-op).
 * Thread safety: the thread that took the lock, once. Not hot path.
 */
void fc_ft_dir_unlock(int fd);

/** Receives one message of fc_ft_dir_leftovers (no trailing newline). */
typedef void (*fc_ft_note_fn)(void *arg, const char *msg);

/**
 * Set aside what an interrupted writer left: every regular NAME.tmp in dir
 * is renamed to NAME.incomplete (never replacing a file), out of every
 * loader's *.ft.zst pattern. Call it only while holding the directory's
 * lock: a .tmp is left over only when no live writer owns it. Anything
 * else ending in .tmp (a symbolic link, a directory) is reported, not
 * touched.
 *
 * @param note  called once per file set aside or left alone; may be NULL
 * @return the number of files set aside, or -errno if dir cannot be read.
 * Thread safety: one thread per directory, the lock's holder (note runs
 * on the calling thread). Not hot path.
 */
int fc_ft_dir_leftovers(const char *dir, fc_ft_note_fn note, void *arg);

/**
 * Check a file name before any file is written under it: one path
 * component, not empty, not hidden ('.' first, so neither "." nor ".."),
 * no control character, and short enough with its suffixes
 * (FC_FT_NAME_RESERVE) for the file system's name limit (pathconf
 * _PC_NAME_MAX of dir, NAME_MAX without dir) and, joined to dir, for
 * PATH_MAX.
 *
 * @param dir   the directory the file goes to, or NULL to check the name only
 * @return 0, -EINVAL or -ENAMETOOLONG, with a message naming the limit.
 * Thread safety: any thread; writes only err. Not hot path.
 */
int fc_ft_name_check(const char *dir, const char *name, char *err,
		     size_t errlen);

/**
 * Check a monitor name (stored in every file header, printed by readers as
 * one word of a key=value line): 1 to 255 bytes, none of them a control
 * character, a space, '/' or '='.
 *
 * @return 0 or -EINVAL with a message.
 * Thread safety: any thread; pure function (writes only err).
 */
int fc_ft_monitor_check(const char *monitor, char *err, size_t errlen);

/**
 * Path of attempt dup at a free name: dup 0 is DIR/NAME; dup k >= 1 is
 * DIR/STEM-k.ft.zst when NAME is STEM.ft.zst, else DIR/NAME-k.
 *
 * @return 0, -EINVAL (dup >= FC_FT_DUP_MAX) or -ENAMETOOLONG (buf too
 *         small).
 * Thread safety: any thread; pure function (writes only buf).
 */
int fc_ft_path_dup(char *buf, size_t len, const char *dir, const char *name,
		   unsigned dup);

#endif /* FC_FTDIR_H */
