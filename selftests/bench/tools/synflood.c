// SPDX-License-Identifier: GPL-2.0
/*
 * synflood.c - send SMTP SYN frames as fast as one thread can, for
 * bench_nft.sh: an AF_PACKET socket that bypasses the qdisc, frames built
 * once (one per source address, round robin), then COUNT send() calls.
 *
 * On a veth pair the receiving side (XDP, the nftables ingress hook, the
 * IP stack) runs in the sender's own context (softirq on bh enable, and
 * this kernel charges softirq time to the running task), so the CPU time
 * per frame that this prints is the send cost plus the receive cost; the
 * send cost is the same in every run, so differences between runs are
 * differences of the receive side.
 *
 * usage: synflood IFACE DSTMAC SRC_FIRST NSRC STEP DST COUNT
 *   sources: SRC_FIRST, SRC_FIRST + STEP, ... (NSRC of them, IPv4)
 * prints: "frames N cpu_ns_per_frame X wall_ns_per_frame Y"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_LEN 54 /* Ethernet 14 + IPv4 20 + TCP 20 */

static uint16_t csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)(b[len - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	       ((double)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = {0};
	struct ifreq ifr = {0};
	unsigned int mac[6];
	uint8_t dmac[6], smac[6], *frames;
	uint32_t first, step, dst, nsrc, i;
	unsigned long count, n;
	double c0, w0, c1, w1;
	int fd, one = 1;

	if (argc != 8) {
		fprintf(stderr, "usage: synflood IFACE DSTMAC SRC_FIRST NSRC "
				"STEP DST COUNT\n");
		return 2;
	}
	if (sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2],
		   &mac[3], &mac[4], &mac[5]) != 6) {
		fprintf(stderr, "synflood: %s: not a MAC address\n", argv[2]);
		return 2;
	}
	for (i = 0; i < 6; i++)
		dmac[i] = (uint8_t)mac[i];
	if (inet_pton(AF_INET, argv[3], &first) != 1 ||
	    inet_pton(AF_INET, argv[6], &dst) != 1) {
		fprintf(stderr, "synflood: bad address\n");
		return 2;
	}
	first = ntohl(first);
	nsrc = (uint32_t)strtoul(argv[4], NULL, 10);
	step = (uint32_t)strtoul(argv[5], NULL, 10);
	count = strtoul(argv[7], NULL, 10);
	if (!nsrc || !step || !count) {
		fprintf(stderr, "synflood: NSRC, STEP and COUNT must be > 0\n");
		return 2;
	}

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("synflood: socket");
		return 1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("synflood: SIOCGIFHWADDR");
		return 1;
	}
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	sll.sll_protocol = htons(ETH_P_IP);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("synflood: bind");
		return 1;
	}
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));

	frames = calloc(nsrc, FRAME_LEN);
	if (!frames)
		return 1;
	for (i = 0; i < nsrc; i++) {
		uint8_t *f = frames + (size_t)i * FRAME_LEN, *ip = f + 14,
			*tcp = f + 34;
		uint32_t src = htonl(first + i * step);
		uint16_t v;

		memcpy(f, dmac, 6);
		memcpy(f + 6, smac, 6);
		f[12] = 0x08;
		ip[0] = 0x45;
		v = htons(40);
		memcpy(ip + 2, &v, 2);
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, &src, 4);
		memcpy(ip + 16, &dst, 4);
		v = csum(ip, 20);
		memcpy(ip + 10, &v, 2);
		v = htons((uint16_t)(1024 + i % 60000));
		memcpy(tcp, &v, 2);
		v = htons(25);
		memcpy(tcp + 2, &v, 2);
		tcp[12] = 5 << 4;
		tcp[13] = 0x02; /* SYN */
		tcp[14] = 0xff;
		tcp[15] = 0xff;
	}

	c0 = cpu_ns();
	w0 = mono();
	for (n = 0; n < count; n++) {
		const uint8_t *f = frames + (size_t)(n % nsrc) * FRAME_LEN;

		if (send(fd, f, FRAME_LEN, 0) < 0 && errno != ENOBUFS) {
			perror("synflood: send");
			return 1;
		}
	}
	c1 = cpu_ns();
	w1 = mono();
	printf("frames %lu cpu_ns_per_frame %.0f wall_ns_per_frame %.0f\n",
	       count, (c1 - c0) / (double)count, (w1 - w0) / (double)count);
	free(frames);
	close(fd);
	return 0;
}
