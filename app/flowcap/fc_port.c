/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port set-up: one RX queue per worker on every port, symmetric RSS masked
 * against what the device can hash (as DPDK's l3fwd does), mempools per
 * socket sized from queues x descriptors, promiscuous mode, link status.
 * When a device has fewer queues than workers, or no RSS, it says what it
 * does instead. Also the NIC drop counters for the accounting.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf_dyn.h>

#define FC_LOGTYPE fc_logtype_port /* FC_INFO, FC_WARN */
#include "fc_app.h"

/* Symmetric Toeplitz key: a repeated 16-bit pattern makes the hash of
 * (src, dst) equal to that of (dst, src), so both directions of a
 * conversation reach the same queue. 52 bytes covers every PMD here. */
static uint8_t sym_rss_key[52] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

#define FC_RX_DESC 1024

static struct rte_mempool *pools[RTE_MAX_NUMA_NODES];

/* The ports present, "0 (net_pcap0), 1 (...)", for a message. */
static void ports_present(char *buf, size_t len)
{
	size_t o = 0;
	uint16_t pid;

	buf[0] = '\0';
	RTE_ETH_FOREACH_DEV(pid) {
		char name[RTE_ETH_NAME_MAX_LEN];

		if (rte_eth_dev_get_name_by_port(pid, name) != 0)
			snprintf(name, sizeof(name), "?");
		if (o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%u (%s)",
					      o ? ", " : "", pid, name);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

/* Ports to capture from: --ports (syntax and duplicates checked before
 * the EAL started), or every port. -EINVAL: a listed port is not there. */
static int parse_ports(struct fc_app *app)
{
	uint16_t pid;

	app->n_ports = 0;
	if (app->cfg.ports == NULL) {
		RTE_ETH_FOREACH_DEV(pid) {
			if (app->n_ports == FC_MAX_PORTS)
				break;
			app->ports[app->n_ports++] = pid;
		}
		return 0;
	}
	for (unsigned i = 0; i < app->cfg.n_port_ids; i++) {
		pid = app->cfg.port_ids[i];
		if (!rte_eth_dev_is_valid_port(pid)) {
			char have[512];

			ports_present(have, sizeof(have));
			fprintf(stderr,
				"flowcap: --ports %s: there is no port %u; "
				"ports present: %s\n",
				app->cfg.ports, pid, have);
			return -EINVAL;
		}
		app->ports[app->n_ports++] = pid;
	}
	return 0;
}

static struct rte_mempool *pool_for(int socket, unsigned n, unsigned cache)
{
	char name[32];
	unsigned s = socket < 0 ? 0 : (unsigned)socket;

	if (pools[s])
		return pools[s];
	snprintf(name, sizeof(name), "fc_pool_%u", s);
	pools[s] = rte_pktmbuf_pool_create(name, n, cache, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (pools[s] == NULL)
		fprintf(stderr,
			"flowcap: cannot create a pool of %u mbufs on socket "
			"%d: %s; reserve more hugepages (dpdk-scripts/"
			"hugepages.sh setup 2G) or pass -m with --no-huge\n",
			n, socket, rte_strerror(rte_errno));
	return pools[s];
}

/*
 * Driver-config devargs apply when a device is probed, which the EAL has
 * done already: re-probe each PCI port with them (hot-unplug, plug).
 * Virtual devices take their arguments from --vdev and are left alone.
 */
static void apply_devargs(struct fc_app *app)
{
	uint16_t pid;

	if (app->drv.devargs[0] == '\0')
		return;
	RTE_ETH_FOREACH_DEV(pid) {
		struct rte_eth_dev_info info;
		char name[RTE_DEV_NAME_MAX_LEN];
		const char *bus;

		if (rte_eth_dev_info_get(pid, &info) != 0 || info.device == NULL)
			continue;
		bus = rte_bus_name(rte_dev_bus(info.device));
		if (bus == NULL || strcmp(bus, "pci") != 0)
			continue;
		snprintf(name, sizeof(name), "%s", rte_dev_name(info.device));
		if (rte_eal_hotplug_remove(bus, name) != 0 ||
		    rte_eal_hotplug_add(bus, name, app->drv.devargs) != 0)
			printf("flowcap: %s: could not re-probe with devargs '%s'; "
			       "pass them to the EAL instead: -a %s,%s\n",
			       name, app->drv.devargs, name, app->drv.devargs);
		else
			printf("flowcap: %s: probed with devargs '%s'\n", name,
			       app->drv.devargs);
	}
}

int fc_ports_init(struct fc_app *app)
{
	const struct fc_drvcfg *d = &app->drv;
	unsigned per_socket[RTE_MAX_NUMA_NODES] = {0};
	uint16_t want_desc = d->rx_desc ? d->rx_desc : FC_RX_DESC;
	int rc;

	apply_devargs(app);
	rc = parse_ports(app);
	if (rc != 0)
		return rc;
	if (app->n_ports == 0) {
		fprintf(stderr,
			"flowcap: no DPDK port to capture from. Bind a NIC "
			"(dpdk-scripts/bind-nics.sh), pass a virtual device "
			"(e.g. --vdev net_pcap0,rx_pcap=trace.pcap) or read "
			"a trace with --read FILE\n");
		return -1;
	}
	printf("flowcap: driver settings from %s\n", d->source);
	if (app->cfg.drvcfg_path != NULL)
		fc_drvcfg_print(d, stdout);
	/* Size pools: every descriptor may hold an mbuf, plus what the
	 * worker bursts and the per-lcore caches keep. */
	for (unsigned i = 0; i < app->n_ports; i++) {
		int s = rte_eth_dev_socket_id(app->ports[i]);
		unsigned idx = s < 0 ? 0 : (unsigned)s;
		unsigned q = d->rx_queues ? d->rx_queues : app->n_workers;

		per_socket[idx] += q * want_desc;
	}
	app->hw_ts = d->timestamps == FC_DRVCFG_TS_HW;
	for (unsigned i = 0; i < app->n_ports; i++) {
		uint16_t pid = app->ports[i];
		struct rte_eth_dev_info info;
		struct rte_eth_conf conf;
		struct rte_eth_link link;
		uint16_t nrxq, desc = want_desc;
		int s = rte_eth_dev_socket_id(pid);
		unsigned idx = s < 0 ? 0 : (unsigned)s;
		struct rte_mempool *mp;

		rc = rte_eth_dev_info_get(pid, &info);
		if (rc != 0) {
			fprintf(stderr, "flowcap: port %u: cannot get device "
				"info: %s\n", pid, rte_strerror(-rc));
			return -1;
		}
		/* mbuf_cache 0 means no per-lcore cache. */
		mp = pool_for(s, d->mbuf_count ? d->mbuf_count :
				 per_socket[idx] + app->n_workers *
				 (FC_BURST_MAX + 2u * d->mbuf_cache) + 4096,
			      d->mbuf_cache);
		if (mp == NULL)
			return -1;
		if (app->pool == NULL)
			app->pool = mp;
		nrxq = d->rx_queues ? d->rx_queues : (uint16_t)app->n_workers;
		if (nrxq > app->n_workers) {
			printf("flowcap: port %u: %u RX queues asked for, but "
			       "there are %u workers: using %u\n",
			       pid, nrxq, app->n_workers, app->n_workers);
			nrxq = (uint16_t)app->n_workers;
		}
		if (nrxq > info.max_rx_queues)
			nrxq = info.max_rx_queues;
		memset(&conf, 0, sizeof(conf));
		uint64_t hf = d->rss_hf & info.flow_type_rss_offloads;
		if (nrxq > 1 && hf != 0) {
			uint8_t key_len = info.hash_key_size ?
						  info.hash_key_size : 40;

			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
			if (d->rss_key_len) {
				conf.rx_adv_conf.rss_conf.rss_key =
					(uint8_t *)d->rss_key;
				key_len = d->rss_key_len;
			} else {
				conf.rx_adv_conf.rss_conf.rss_key = sym_rss_key;
			}
			conf.rx_adv_conf.rss_conf.rss_key_len = key_len;
			if (d->rss_symmetric == FC_DRVCFG_SYM_FUNC)
				printf("flowcap: port %u: symmetric Toeplitz as a "
				       "hash function needs DPDK 23.11; using "
				       "the symmetric key instead\n", pid);
			if (hf != d->rss_hf) {
				char a[128], b[128];

				printf("flowcap: port %u (%s): RSS limited to "
				       "%s of %s requested\n",
				       pid, info.driver_name,
				       fc_drvcfg_rss_hf_str(hf, a, sizeof(a)),
				       fc_drvcfg_rss_hf_str(d->rss_hf, b,
							    sizeof(b)));
			}
		} else if (nrxq > 1) {
			/* No RSS: whatever spreads packets over the queues
			 * is the device's own doing (net_pcap: one file per
			 * queue; net_af_packet: the kernel's fanout); on a
			 * NIC everything lands in queue 0. */
			printf("flowcap: port %u (%s) has no RSS: %u queues, "
			       "filled as the device distributes; symmetric "
			       "sharding is not guaranteed\n",
			       pid, info.driver_name, nrxq);
		}
		if (nrxq < app->n_workers)
			printf("flowcap: port %u (%s) has %u RX queue(s) for %u "
			       "workers: workers %u..%u poll no queue of this "
			       "port\n",
			       pid, info.driver_name, nrxq, app->n_workers,
			       nrxq, app->n_workers - 1);
		if (d->mtu) {
			rc = rte_eth_dev_set_mtu(pid, d->mtu);
			if (rc != 0)
				printf("flowcap: port %u: MTU %u not set: %s\n",
				       pid, d->mtu, rte_strerror(-rc));
		}
		rc = rte_eth_dev_configure(pid, nrxq, 0, &conf);
		if (rc != 0) {
			fprintf(stderr, "flowcap: port %u (%s): configure with "
				"%u RX queues failed: %s\n",
				pid, info.driver_name, nrxq, rte_strerror(-rc));
			return -1;
		}
		rte_eth_dev_adjust_nb_rx_tx_desc(pid, &desc, NULL);
		for (uint16_t q = 0; q < nrxq; q++) {
			rc = rte_eth_rx_queue_setup(pid, q, desc, s, NULL, mp);
			if (rc != 0) {
				fprintf(stderr, "flowcap: port %u queue %u: "
					"setup failed: %s\n",
					pid, q, rte_strerror(-rc));
				return -1;
			}
			struct fc_worker *w = &app->workers[q];

			w->rxq[w->n_rxq].port = pid;
			w->rxq[w->n_rxq].queue = q;
			w->n_rxq++;
		}
		rc = rte_eth_dev_start(pid);
		if (rc != 0) {
			fprintf(stderr, "flowcap: port %u: start failed: %s\n",
				pid, rte_strerror(-rc));
			return -1;
		}
		if (d->promisc) {
			rc = rte_eth_promiscuous_enable(pid);
			if (rc != 0 && rc != -ENOTSUP)
				printf("flowcap: port %u: promiscuous mode not "
				       "enabled: %s\n", pid, rte_strerror(-rc));
		}
		/* Only net_pcap's timestamps are known to be wall-clock
		 * time (the trace's); other PMDs that offer RX timestamps
		 * stamp in device clock units, which flowcap does not
		 * convert. A PMD that offers none (net_null, net_ring,
		 * net_af_packet) has nothing to explain: the TSC it is. */
		if (app->hw_ts && strcmp(info.driver_name, "net_pcap") != 0) {
			if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)
				printf("flowcap: port %u (%s): hardware "
				       "timestamps are in device clock units; "
				       "using the TSC\n",
				       pid, info.driver_name);
			app->hw_ts = false;
		}
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(pid, &link);
		char ls[RTE_ETH_LINK_MAX_STR_LEN];
		rte_eth_link_to_str(ls, sizeof(ls), &link);
		printf("flowcap: port %u (%s, socket %d): %u RX queue(s) x %u "
		       "descriptors, bursts of %u, %s\n",
		       pid, info.driver_name, s, nrxq, desc,
		       app->workers[0].burst, ls);
	}
	/* net_pcap stamps every mbuf with the trace's own time (the RX
	 * timestamp dynfield, microseconds, flagged with the dynflag);
	 * anything else: the TSC mapped to wall-clock time. */
	if (app->hw_ts) {
		int off = rte_mbuf_dynfield_lookup(
			RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
		int bit = rte_mbuf_dynflag_lookup(
			RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
		if (off < 0 || bit < 0) {
			app->hw_ts = false;
		} else {
			app->ts_off = off;
			app->ts_flag = 1ULL << bit;
		}
	}
	printf("flowcap: packet times from %s\n",
	       app->hw_ts ? "the trace (net_pcap timestamps)" :
			    "the TSC mapped to wall-clock time");
	return 0;
}

void fc_ports_fini(struct fc_app *app)
{
	for (unsigned i = 0; i < app->n_ports; i++) {
		rte_eth_dev_stop(app->ports[i]);
		rte_eth_dev_close(app->ports[i]);
	}
}

/*
 * NIC statistics have one owner, the main lcore: DPDK leaves it to the
 * application to keep two threads from reading one port's statistics at
 * once, and main already wakes every 10 ms (the shared clock) and waits
 * at shutdown while the workers stop. It publishes the sums; the
 * collector and the stats line only read them. Main rather than the
 * collector: the collector's loop belongs to the merge and the sinks,
 * and a refresh there would tie the stats line to its pace.
 *
 * Exact at shutdown: the last reading is taken once every worker is done
 * (after its last rx burst), and the collector's last interval waits for
 * it, so the files and the summary count the NIC's drops up to the end.
 */
void fc_ports_nic_update(struct fc_app *app)
{
	uint64_t sum[3] = {0, 0, 0};
	bool final = true;

	if (app->trace_mode ||
	    atomic_load_explicit(&app->nic_final, memory_order_relaxed))
		return;
	/* Partner: the worker's release store of done in finish(), after
	 * its last rx burst. */
	for (unsigned w = 0; w < app->n_workers; w++)
		if (!atomic_load_explicit(&app->workers[w].done,
					  memory_order_acquire))
			final = false;
	for (unsigned i = 0; i < app->n_ports; i++) {
		struct rte_eth_stats s;

		if (rte_eth_stats_get(app->ports[i], &s) == 0) {
			app->nic_port[i][0] = s.imissed;
			app->nic_port[i][1] = s.rx_nombuf;
			app->nic_port[i][2] = s.ierrors;
		}
		for (unsigned k = 0; k < 3; k++)
			sum[k] += app->nic_port[i][k];
	}
	/* Partner: the acquire loads in fc_ports_nic_read. */
	atomic_store_explicit(&app->nic_imissed, sum[0], memory_order_release);
	atomic_store_explicit(&app->nic_nombuf, sum[1], memory_order_release);
	atomic_store_explicit(&app->nic_ierrors, sum[2], memory_order_release);
	if (final)
		atomic_store_explicit(&app->nic_final, true,
				      memory_order_release);
}

void fc_ports_nic_read(struct fc_app *app, bool final, uint64_t *imissed,
		       uint64_t *nombuf, uint64_t *ierrors)
{
	if (final) {
		uint64_t waited = 0;

		/* Partner: the release store of nic_final in
		 * fc_ports_nic_update, after the last sums. */
		while (!atomic_load_explicit(&app->nic_final,
					     memory_order_acquire)) {
			if (waited++ == 100000) {
				FC_WARN("the NIC counters' last reading did "
					"not come: the last interval has "
					"the latest one\n");
				break;
			}
			rte_delay_us_sleep(100);
		}
	}
	/* Partner: the release stores in fc_ports_nic_update. */
	*imissed = atomic_load_explicit(&app->nic_imissed, memory_order_acquire);
	*nombuf = atomic_load_explicit(&app->nic_nombuf, memory_order_acquire);
	*ierrors = atomic_load_explicit(&app->nic_ierrors, memory_order_acquire);
}
