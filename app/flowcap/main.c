/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap: capture packets from DPDK ports (or read pcap traces) and write
 * per-interval flowtuple aggregates to zstd-compressed files.
 *
 * Roles: the main lcore does control (signals, the stats line, the end of
 * a trace, the shared clock) and, with --read, reads the traces; the next
 * lcore is the collector; every other lcore is a worker. This file holds
 * start-up (output directory, privileges, workers and tables), the control
 * loop and the shutdown order; options are in fc_options.c, the stats line
 * and the exit summary in fc_stats.c.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "fc_app.h"
#include "fc_count.h"
#include "fc_ftdir.h"
#include "fc_trace.h"

struct fc_app fc_app;
static volatile sig_atomic_t sig_count;
/* SIGHUPs received (the handler's count) and reported (the control
 * thread's): one log line per signal, never from the handler. */
static volatile sig_atomic_t sighup_count;
static sig_atomic_t sighup_told;

uint64_t fc_wall_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* write(2) of a string: async-signal-safe, unlike stdio. */
static void sig_say(const char *s)
{
	ssize_t rc = write(STDERR_FILENO, s, strlen(s));

	(void)rc; /* nothing to do about a lost message here */
}

/* v in decimal, async-signal-safe (no printf in a handler). */
static void sig_say_u64(uint64_t v)
{
	char b[21];
	size_t i = sizeof(b);

	b[--i] = '\0';
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	sig_say(b + i);
}

/*
 * Second SIGINT or SIGTERM while stopping: exit at once, without waiting
 * for the collector. Files are renamed to their final name only when
 * complete, so what is abandoned is at most a NAME.tmp (set aside at the
 * next start) and the packets not yet in a completed file, which are
 * counted here: received by the workers minus settled by the collector
 * (relaxed loads of lock-free atomics are async-signal-safe; a burst in
 * flight may be missed).
 */
static void abandon(int sig)
{
	uint64_t rx = 0, done;

	for (unsigned i = 0; fc_app.workers != NULL && i < fc_app.n_workers;
	     i++)
		rx += atomic_load_explicit(&fc_app.workers[i].pub_rx,
					   memory_order_relaxed);
	done = atomic_load_explicit(&fc_app.pkts_settled,
				    memory_order_relaxed);
	sig_say("flowcap: second signal: exiting at once; abandoned ");
	sig_say_u64(rx > done ? rx - done : 0);
	sig_say(" packet(s) received but not yet in a completed file (");
	sig_say_u64(atomic_load_explicit(&fc_app.intervals_written,
					 memory_order_relaxed));
	sig_say(" interval(s) were written); an unfinished .tmp file is set "
		"aside at the next start\n");
	_exit(128 + sig);
}

static void on_signal(int sig)
{
	/* Only flags and write(2) here. A second signal ends the process
	 * at once. */
	if (sig_count++ > 0)
		abandon(sig);
	atomic_store(&fc_app.stop, 2);
	sig_say("flowcap: stopping: writing the partial interval; signal "
		"again to exit at once and abandon what is not written\n");
}

/*
 * SIGHUP asks a daemon to reload its configuration; a closed terminal or
 * SSH session sends it too. Its default action would end the capture at
 * once and lose the current interval, so it only counts here; the
 * control thread says what it did (note_sighup).
 */
static void on_sighup(int sig)
{
	(void)sig;
	sighup_count++;
	atomic_fetch_add_explicit(&fc_reload_req, 1, memory_order_relaxed);
}

/*
 * Reloads asked for through telemetry (/flowcap/reload): a ticket taken by
 * the telemetry thread, done by the control thread as SIGHUP's are, so
 * that two reloads never run at once. reload_done and reload_rc are
 * stored (release) by the control thread; partner: the acquire load in
 * tel_reload.
 */
static _Atomic uint64_t reload_asked, reload_done;
static _Atomic int reload_rc;

/* Reloads asked for, by either way (see fc_app.h). Lock-free, so the
 * signal handler may add to it. */
_Atomic uint64_t fc_reload_req;

/* One reload per SIGHUP and per telemetry request since the last call
 * (fc_reload: rules and filter files read again; without any, a line
 * saying so). */
static void note_sighup(void)
{
	uint64_t asked;

	while (sighup_told != sighup_count) {
		sighup_told++;
		fc_reload(&fc_app);
	}
	asked = atomic_load_explicit(&reload_asked, memory_order_acquire);
	while (atomic_load_explicit(&reload_done, memory_order_relaxed) <
	       asked) {
		atomic_store_explicit(&reload_rc, fc_reload(&fc_app),
				      memory_order_relaxed);
		atomic_fetch_add_explicit(&reload_done, 1,
					  memory_order_release);
	}
}

void fc_control_reloads(void)
{
	note_sighup();
}

/*
 * fc_app.reload for /flowcap/reload: ask the control thread, which
 * polls every 10 ms while capturing (a trace run's feeder: before every
 * packet), and wait up to 10 s for its answer.
 * Thread safety: the telemetry thread.
 */
static int tel_reload(struct fc_app *app, char *msg, size_t len)
{
	uint64_t t = atomic_fetch_add_explicit(&reload_asked, 1,
					       memory_order_release) + 1;
	const struct timespec nap = {.tv_sec = 0, .tv_nsec = 10000000};

	atomic_fetch_add_explicit(&fc_reload_req, 1, memory_order_relaxed);

	(void)app;
	for (int i = 0; i < 1000; i++) {
		if (atomic_load_explicit(&reload_done, memory_order_acquire) >=
		    t) {
			int rc = atomic_load_explicit(&reload_rc,
						      memory_order_relaxed);

			snprintf(msg, len, "%s", rc == 0 ?
				 "new rules and filter in force" :
				 "reload failed, the rules in force stay "
				 "(flowcap's log says why)");
			return rc == 0 ? 0 : -EINVAL;
		}
		nanosleep(&nap, NULL);
	}
	snprintf(msg, len, "asked; the control thread has not answered in "
		 "10 s (with --read from a pipe that is quiet, it reloads "
		 "before the next packet)");
	return -EBUSY;
}

/* One line of fc_ft_dir_leftovers on stderr. */
static void note_leftover(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "flowcap: %s\n", msg);
}

/*
 * A .tmp file left in the output directory is what a run killed in the
 * middle of a write leaves (SIGKILL, power loss). Its complete blocks are
 * readable (flowcap-read warns at the cut), but it must never be taken for
 * a finished file: it is renamed to NAME.incomplete, out of every loader's
 * *.ft.zst pattern. Only under the directory's lock (lock_out_dir): a live
 * writer's .tmp is not a left-over.
 */
static void handle_leftovers(const char *dir)
{
	int n = fc_ft_dir_leftovers(dir, note_leftover, NULL);

	if (n > 0)
		fprintf(stderr, "flowcap: %d incomplete file(s) from an earlier "
			"run set aside\n", n);
}

/*
 * One output directory has one writer: two runs writing into it would take
 * each other's .tmp files for left-overs and each other's names for
 * collisions. The lock is held until the process ends, however it ends.
 */
static int lock_out_dir(const struct fc_cfg *cfg, int argc, char **argv)
{
	char owner[400], err[1024];
	size_t o = 0;
	int fd;

	owner[0] = '\0';
	for (int i = 0; i < argc && o + 1 < sizeof(owner); i++) {
		int n = snprintf(owner + o, sizeof(owner) - o, "%s%s",
				 i ? " " : "", argv[i]);

		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (o >= sizeof(owner))
		o = sizeof(owner) - 1;
	fd = fc_ft_dir_lock(cfg->out_dir, owner, err, sizeof(err));
	if (fd == -EWOULDBLOCK) {
		fprintf(stderr, "flowcap: output directory '%s' is in use by "
			"another flowcap: %s; one directory has one writer: "
			"stop that run or pass another --out\n",
			cfg->out_dir, err);
		return -1;
	}
	if (fd < 0) {
		fprintf(stderr, "flowcap: --out '%s': %s; fix the directory's "
			"permissions or pass another --out\n",
			cfg->out_dir, err);
		return -1;
	}
	/* Kept open (close-on-exec) until the process ends. */
	return 0;
}

/*
 * --user: drop root for good once the EAL and the ports are set up. Every
 * input that needs root is open by then (the --read traces, standard
 * input, the --driver-config file); the output directory must be
 * writable by the user, checked here.
 */
static int drop_privileges(const struct fc_cfg *cfg)
{
	struct passwd *pw = getpwnam(cfg->user);

	if (pw == NULL || initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "flowcap: --user %s: cannot switch to it: %s\n",
			cfg->user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		fprintf(stderr, "flowcap: --user %s: root could be regained; "
			"refusing to run\n", cfg->user);
		return -1;
	}
	if (access(cfg->out_dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "flowcap: --user %s cannot write to '%s': %s; "
			"chown or chmod the directory\n",
			cfg->user, cfg->out_dir, strerror(errno));
		return -1;
	}
	printf("flowcap: running as user %s (uid %u)\n", pw->pw_name,
	       (unsigned)pw->pw_uid);
	return 0;
}

/* IPv6 keys per table: --table-keys6, or an eighth of the IPv4 keys. */
static uint64_t table_keys6(const struct fc_cfg *cfg, uint64_t keys4)
{
	return cfg->table_keys6 ? cfg->table_keys6 :
				  fc_flowtable_keys6_for(keys4);
}

static int setup_workers(struct fc_app *app)
{
	unsigned lc, i = 0;
	unsigned n_lcores = rte_lcore_count();
	uint64_t k6;

	if (n_lcores < 3) {
		fprintf(stderr,
			"flowcap: needs at least 3 lcores (1 control, 1 "
			"collector, 1 or more workers), got %u; e.g. -l 0-2, or "
			"--lcores '(0-2)@(0-1)' on a machine with fewer CPUs\n",
			n_lcores);
		return -1;
	}
	app->n_workers = n_lcores - 2;
	if (app->n_workers > FC_MAX_WORKERS)
		app->n_workers = FC_MAX_WORKERS;
	/* --workers with EAL options of one's own: that many of the worker
	 * lcores they give; the rest stay idle. More than they give cannot
	 * be honoured. */
	if (app->cfg.workers_req > app->n_workers) {
		fprintf(stderr,
			"flowcap: --workers %u needs %u lcores (control, "
			"collector, workers), the EAL options give %u; give "
			"more lcores (e.g. --lcores '(0-%u)@(0-%ld)') or fewer "
			"--workers\n",
			app->cfg.workers_req, app->cfg.workers_req + 2, n_lcores,
			app->cfg.workers_req + 1,
			sysconf(_SC_NPROCESSORS_ONLN) - 1);
		return -EINVAL;
	}
	if (app->cfg.workers_req != 0 &&
	    app->cfg.workers_req < app->n_workers) {
		printf("flowcap: --workers %u: using %u of the %u worker "
		       "lcores the EAL options give; the other %u stay idle\n",
		       app->cfg.workers_req, app->cfg.workers_req,
		       app->n_workers, app->n_workers - app->cfg.workers_req);
		app->n_workers = app->cfg.workers_req;
	}
	/* On a trace the feeder runs worker 0 on its own thread (no ring
	 * hop; the bytes it just read are still in its cache); the others,
	 * if any, take the bursts their rings have room for. */
	app->inline_worker = app->trace_mode;
	app->workers = rte_zmalloc("fc_workers",
				   sizeof(struct fc_worker) * app->n_workers,
				   RTE_CACHE_LINE_SIZE);
	if (app->workers == NULL)
		return -1;
	if (app->cfg.table_keys == 0) {
		/* Default: 1M IPv4 keys (and --table-keys6, or an eighth
		 * of them, IPv6 keys) per table, less when all tables of all
		 * workers would take more than a quarter of the memory
		 * (fc_flowtable_mem_size_parts counts both parts and their
		 * indexes). */
		uint64_t mem = (uint64_t)sysconf(_SC_PHYS_PAGES) *
			       (uint64_t)sysconf(_SC_PAGESIZE);
		uint64_t per = mem / 4 /
			       (app->n_workers * app->cfg.tables_per_worker);
		uint64_t keys = 1u << 20;

		while (keys > 4096 &&
		       fc_flowtable_mem_size_parts(keys, table_keys6(&app->cfg,
								keys)) > per)
			keys >>= 1;
		app->cfg.table_keys = keys;
	}
	k6 = table_keys6(&app->cfg, app->cfg.table_keys);
	app->collector_lcore = rte_get_next_lcore(-1, 1, 0);
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (lc == app->collector_lcore)
			continue;
		if (i == app->n_workers)
			break;
		struct fc_worker *w = &app->workers[i];
		char name[32];

		w->id = i;
		w->lcore = lc;
		w->burst = app->drv.burst ? app->drv.burst : FC_BURST;
		if (w->burst > FC_BURST_MAX)
			w->burst = FC_BURST_MAX;
		w->src = app->trace_mode ? FC_SRC_RING : FC_SRC_ETHDEV;
		/* Only the slots a burst uses are touched; the rest of its
		 * 88 KB is never faulted in. */
		if (posix_memalign((void **)&w->stg, RTE_CACHE_LINE_SIZE,
				   sizeof(*w->stg)) != 0) {
			w->stg = NULL;
			return -1;
		}
		fc_count_drop(w->stg);
		snprintf(name, sizeof(name), "fc_free_%u", i);
		w->free = rte_ring_create(name, 128, rte_socket_id(),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->free == NULL)
			return -1;
		if (app->trace_mode) {
			snprintf(name, sizeof(name), "fc_in_%u", i);
			w->in = rte_ring_create(name, FC_TRACE_RING, rte_socket_id(),
						RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (w->in == NULL)
				return -1;
			w->descs = calloc(FC_DESC_N, sizeof(*w->descs));
			if (w->descs == NULL)
				return -1;
		}
		for (unsigned t = 0; t < app->cfg.tables_per_worker; t++) {
			struct fc_wtable *wt = calloc(1, sizeof(*wt));

			if (wt == NULL)
				return -1;
			wt->ft = fc_flowtable_create_parts(app->cfg.table_keys, k6);
			if (wt->ft == NULL) {
				fprintf(stderr,
					"flowcap: cannot reserve a table of %" PRIu64
					" IPv4 + %" PRIu64 " IPv6 keys (%" PRIu64
					" MB); lower --table-keys or --table-keys6\n",
					app->cfg.table_keys, k6,
					fc_flowtable_mem_size_parts(app->cfg.table_keys,
							       k6) >> 20);
				free(wt);
				return -1;
			}
			rte_ring_sp_enqueue(w->free, wt);
		}
		atomic_store(&w->watermark, 0);
		i++;
	}
	printf("flowcap: lcore %u control%s, lcore %u collector, %u worker(s)%s; "
	       "%u tables of %" PRIu64 " IPv4 + %" PRIu64 " IPv6 keys "
	       "(%.1f MB each) per worker\n",
	       rte_get_main_lcore(), app->trace_mode ? " + trace feeder" : "",
	       app->collector_lcore, app->n_workers,
	       !app->inline_worker ? "" :
	       app->n_workers == 1 ? " run by the feeder" :
				     " (worker 0 run by the feeder)",
	       app->cfg.tables_per_worker, app->cfg.table_keys, k6,
	       (double)fc_flowtable_mem_size_parts(app->cfg.table_keys, k6) / 1048576);
	return 0;
}

/* Every table is back on its worker's free ring once the run is over. */
static void free_tables(struct fc_app *app)
{
	for (unsigned i = 0; i < app->n_workers; i++) {
		struct fc_worker *w = &app->workers[i];
		void *p;

		while (w->free != NULL && rte_ring_sc_dequeue(w->free, &p) == 0) {
			struct fc_wtable *t = p;

			fc_flowtable_free(t->ft);
			free(t);
		}
		free(w->descs);
		w->descs = NULL;
		free(w->stg);
		w->stg = NULL;
	}
}

/* Live capture control loop: the shared clock, idle exit, stats, signals. */
static void control_loop(struct fc_app *app)
{
	uint64_t hz = rte_get_tsc_hz(), quiet_since = rte_rdtsc();
	uint64_t next_stats = rte_rdtsc() + hz, last_total = 0;
	uint64_t prev[FC_MAX_WORKERS] = {0};
	double idle = app->cfg.idle_exit;
	uint64_t marks[FC_MAX_WORKERS], idle_tsc;

	if (idle < 0)
		idle = app->hw_ts ? 2.0 : 0.0;
	/* 0 = never; the smallest idle (1 ms) is millions of cycles. */
	idle_tsc = (uint64_t)(idle * (double)hz);
	while (!atomic_load(&app->stop)) {
		uint64_t now = rte_rdtsc(), total = 0, wm;

		note_sighup();

		for (unsigned i = 0; i < app->n_workers; i++) {
			/* Partner: the worker's release store of its
			 * watermark. */
			marks[i] = atomic_load_explicit(
				&app->workers[i].watermark, memory_order_acquire);
			total += atomic_load_explicit(&app->workers[i].pub_rx,
						      memory_order_relaxed);
		}
		/* Live time (no replayed times): the clock runs even with no
		 * traffic, so empty intervals close on time. */
		wm = fc_interval_shared_clock(
			marks, app->n_workers,
			app->hw_ts ? 0 : fc_wall_now_ns() / 1000000000ULL);
		/* Partner: the acquire load in idle workers. */
		if (wm > atomic_load(&app->clock))
			atomic_store_explicit(&app->clock, wm,
					      memory_order_release);
		/* End of a replay: no packet for `idle` seconds, all of
		 * which every worker spent in a run of empty polls (1000 in
		 * a row at least, seen at every round). The quiet time starts
		 * again whenever a packet is counted or a worker is not in
		 * such a run: one that has not polled yet (launched, not yet
		 * given a CPU) or is busy with a burst is no sign that the
		 * input has ended. A net_pcap replay's worker finds nothing
		 * only at the end of its file, so the idle clock starts
		 * there, and a short idle (tenths of a second, as the tests
		 * use) is as safe as a long one. */
		bool polling = true;

		for (unsigned i = 0; i < app->n_workers; i++)
			if (atomic_load_explicit(&app->workers[i].pub_empty,
						 memory_order_relaxed) < 1000)
				polling = false;
		if (total != last_total || !polling) {
			last_total = total;
			quiet_since = now;
		} else if (idle_tsc > 0 && now - quiet_since >= idle_tsc) {
			printf("flowcap: no packets for %g s: end of input\n",
			       idle);
			atomic_store(&app->stop, 1);
			break;
		}
		/* Main owns the NIC counters (see fc_port.c): a fresh
		 * reading every round, for the stats line and the
		 * collector's intervals. */
		fc_ports_nic_update(app);
		if (app->cfg.stats > 0 && now >= next_stats) {
			fc_stats_line(app, prev, 1.0);
			next_stats = now + hz;
		}
		rte_delay_us_sleep(10000);
	}
}

int main(int argc, char **argv)
{
	struct fc_app *app = &fc_app;
	char *eal_argv[32], store[128];
	int eal_argc, app_argc, rc, dd = -1, feeder_rc = 0;
	bool bad_cmdline = false;
	char **app_argv;
	uint64_t t0;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fc_log_init(); /* rte_log's stream, journal priorities */
	/* Options first: --help and mistakes never wait for the EAL. */
	if (dd >= 0) {
		app_argc = argc - dd;
		app_argv = argv + dd;
	} else {
		app_argc = argc;
		app_argv = argv;
	}
	fc_drvcfg_defaults(&app->drv);
	if (fc_options_parse(&app->cfg, app_argc, app_argv) != 0 ||
	    fc_options_check(&app->cfg, dd >= 0 ? dd : 0, argv) != 0 ||
	    lock_out_dir(&app->cfg, argc, argv) != 0)
		return 2;
	/* Every trace is opened now, before the EAL and before --user
	 * drops privileges, and read later through these descriptors (a
	 * trace under a directory only root may enter still reads). */
	if (app->cfg.n_reads > 0 && fc_feeder_open(&app->cfg) != 0)
		return 2;
	/* A bad filter is a bad command line: said before anything
	 * starts. */
	if (fc_rules_check(app) != 0)
		return 2;
	app->trace_mode = app->cfg.n_reads > 0;
	/* A trace waits for the collector instead of dropping: a table
	 * filling and one being written are enough, and every extra table
	 * is fresh memory the kernel must zero. Live capture keeps slack. */
	if (app->cfg.tables_per_worker == 0)
		app->cfg.tables_per_worker = app->trace_mode ? 2 : 4;
	if (app->cfg.stats < 0)
		app->cfg.stats = isatty(STDERR_FILENO);
	/* Before the EAL: starting can take seconds (a large pool, a pcap
	 * loaded into mbufs), and a stop asked for meanwhile must not be
	 * lost, nor kill the process half set up. It is acted on once
	 * running: nothing is captured, and the run ends as a signal ends
	 * it. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_sighup);
	/* A log reader that went away (flowcap ... | head, a dropped SSH
	 * session) makes writes to stdout fail with EPIPE instead of ending
	 * the capture: log lines are lost, files are not. */
	signal(SIGPIPE, SIG_IGN);
	if (app->cfg.test_start_delay_ms) {
		/* Fault injection (--test-start-delay): a slow start-up. A
		 * signal cuts a nanosleep short: sleep out the rest. */
		struct timespec d = {
			.tv_sec = app->cfg.test_start_delay_ms / 1000,
			.tv_nsec = (long)(app->cfg.test_start_delay_ms % 1000) *
				   1000000L,
		};

		while (nanosleep(&d, &d) != 0 && errno == EINTR)
			;
	}
	/* Lcores on CPUs that are not there: a bad command line, said
	 * before the EAL answers it with its option list. */
	if (dd >= 0 && fc_eal_check_lcores(dd, argv) != 0)
		return 2;
	if (dd < 0 && app->trace_mode) {
		eal_argc = fc_options_eal_defaults(&app->cfg, eal_argv, 32, store,
					    sizeof(store));
		rc = fc_eal_init(eal_argc, eal_argv);
	} else if (dd < 0) {
		char *a0[] = {argv[0], NULL};
		rc = fc_eal_init(1, a0);
	} else {
		argv[dd] = argv[0];
		rc = fc_eal_init(dd, argv);
		argv[dd] = "--";
	}
	/* fc_eal_init said why; an EAL option it cannot take is a bad
	 * command line. */
	if (rc < 0)
		return rte_errno == EINVAL ? 2 : 1;
	app->conservation_ok = true;
	atomic_store(&app->start0, UINT64_MAX);
	cds_wfcq_init(&app->q_head, &app->q_tail);
	/* -EINVAL: the command line asks for what the EAL options or the
	 * ports do not give (--workers, --ports): exit 2, as for any bad
	 * command line. */
	if ((rc = setup_workers(app)) != 0) {
		bad_cmdline = rc == -EINVAL;
		goto err_eal;
	}
	/* The rules need the workers' count (a scratch space each). */
	if (fc_rules_start(app) != 0)
		goto err_eal;
	if (app->trace_mode) {
		/* Copies of streamed packets fill the rings. Mapped inputs
		 * need none: a small pool (its memory is zeroed at start-up,
		 * 2.3 KB an mbuf) serves a mapping that fails later, at the
		 * pace the workers free it. */
		unsigned n = fc_feeder_all_mapped() ?
				     4096 :
				     app->n_workers * (FC_TRACE_RING + 256) + 4096;

		app->pool = rte_pktmbuf_pool_create("fc_trace_pool", n, 256, 0,
						    RTE_MBUF_DEFAULT_BUF_SIZE,
						    (int)rte_socket_id());
		if (app->pool == NULL) {
			fprintf(stderr, "flowcap: cannot create the trace mbuf "
				"pool (%u mbufs): %s; pass -m 512 (with "
				"--no-huge) or reserve hugepages\n",
				n, rte_strerror(rte_errno));
			goto err_eal;
		}
	} else if ((rc = fc_ports_init(app)) != 0) {
		bad_cmdline = rc == -EINVAL;
		goto err_ports;
	}
	if (app->cfg.user != NULL && drop_privileges(&app->cfg) != 0)
		goto err_ports;
	handle_leftovers(app->cfg.out_dir);
	/* The record sinks, the file writer first (the source of truth). */
	if (fc_filesink_add(&app->sinks, app) != 0) {
		fprintf(stderr, "flowcap: out of memory setting up the file "
			"sink\n");
		goto err_ports;
	}
	if (app->cfg.ch_url != NULL &&
	    fc_chsink_add(&app->sinks, app, app->cfg.ch_url,
			  app->cfg.ch_queue_mb ? app->cfg.ch_queue_mb : 256) != 0)
		goto err_ports;
	if (fc_ipfixsink_add(&app->sinks, app) != 0) {
		fprintf(stderr, "flowcap: cannot set up the IPFIX sink\n");
		goto err_ports;
	}
	/* Monitoring: the --metrics-file writer and the telemetry commands
	 * (the socket is the EAL's, on unless --no-telemetry). */
	if (fc_metrics_start(app) != 0)
		goto err_ports;
	/* /flowcap/reload exists where there is something to reload. */
	if (app->cfg.filter != NULL || app->cfg.filter_file != NULL ||
	    app->cfg.classify != NULL)
		app->reload = tel_reload;
	if (fc_telemetry_register(app) != 0)
		FC_WARN("cannot register the /flowcap/ telemetry commands; "
			"capture continues without them\n");
	t0 = rte_rdtsc();
	/* The NIC counters' first reading: the collector's baseline. */
	fc_ports_nic_update(app);
	rte_eal_remote_launch(fc_collector_main, app, app->collector_lcore);
	for (unsigned i = 0; i < app->n_workers; i++)
		fc_worker_bind(&app->workers[i], app);
	if (app->inline_worker)
		fc_worker_init(&app->workers[0]);
	for (unsigned i = app->inline_worker ? 1 : 0; i < app->n_workers; i++)
		rte_eal_remote_launch(fc_worker_main, &app->workers[i],
				      app->workers[i].lcore);
	if (app->trace_mode) {
		feeder_rc = fc_feeder_run(app);
		if (!atomic_load(&app->stop))
			atomic_store(&app->stop, 1);
	} else {
		control_loop(app);
	}
	/* Shutdown order: workers seal and hand in, the collector drains
	 * and closes files, then ports stop. */
	/* rte_eal_wait_lcore spins: sleep until the collector (the last to
	 * finish) is done, then reap the lcores. */
	while (!atomic_load_explicit(&app->collector_done, memory_order_acquire)) {
		note_sighup();
		/* Until every worker is done, then once more: the last
		 * reading, which the collector's last interval waits for. */
		fc_ports_nic_update(app);
		rte_delay_us_sleep(1000);
	}
	note_sighup();
	for (unsigned i = 0; i < app->n_workers; i++)
		rte_eal_wait_lcore(app->workers[i].lcore);
	rte_eal_wait_lcore(app->collector_lcore);
	fc_stats_summary(app, (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz());
	fc_metrics_stop(app);
	fc_ipfixsink_free(&app->sinks);
	free_tables(app);
	fc_rules_fini(app);
	fc_filesink_free(&app->sinks);
	bool undelivered = fc_chsink_free(&app->sinks);
	if (!app->trace_mode)
		fc_ports_fini(app);
	rte_eal_cleanup();
	if (!app->conservation_ok)
		return 3;
	if (feeder_rc != 0 || atomic_load(&app->intervals_lost) != 0 ||
	    atomic_load(&app->files_unsynced) != 0 || undelivered)
		return 1;
	return 0;

err_ports:
	fc_ports_fini(app);
err_eal:
	if (app->workers != NULL)
		free_tables(app);
	rte_eal_cleanup();
	return bad_cmdline ? 2 : 1;
}
