/* zlib against libdeflate for the packer's chunked parallel gzip (issue 13).
 *
 * Compresses FILE (a tar) the way liboci/src/pgzip.c does -- 256 KiB chunks
 * joined into one gzip member -- on one thread, with each library at each
 * level, and prints gzip bytes and CPU seconds:
 *  - zlib: each chunk with the previous 32 KiB as preset dictionary, ended
 *    with a sync flush (what pgzip.c does);
 *  - libdeflate: whole-buffer API, which has no preset dictionary and always
 *    ends a stream with a final block, so each chunk is compressed alone and
 *    the joint needs the chunk's last-block bit cleared and an empty stored
 *    block appended; finding that bit takes an inflate pass over the chunk
 *    (zlib's Z_BLOCK, as zlib's examples/gzjoin.c does), timed separately.
 * The libdeflate stream is written to OUT when given, so `gzip -t OUT` checks
 * the joint is sound.
 *  - ISA-L (igzip, when libisal-dev is installed), levels 0-3: its stream
 *    API takes a preset dictionary and a sync flush, so it chunks exactly as
 *    zlib does.
 *
 * Two more ways a faster deflate at zlib -6's size could be had, both
 * printed after the table above:
 *  - libdeflate with larger chunks (512 KiB to 2 MiB): fewer cold starts
 *    without a dictionary, at the cost of memory per job slot (the peak
 *    memory target allows about 4 MiB for all slots together);
 *  - zlib -6 with other deflateTune() parameters (good_length, max_lazy,
 *    nice_length, max_chain): shorter match chains are faster and larger.
 * Sizes there are the deflate bytes plus 18 per chunk (a gzip member per
 * chunk, so no joint scan is needed).
 *
 * usage: deflate-compare FILE [OUT] */
#include <libdeflate.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#define CHUNK (256 * 1024)
#define DICT 32768

static double cpu(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* zlib chunked as pgzip.c does; tune, when not NULL, is deflateTune's
 * (good_length, max_lazy, nice_length, max_chain) for every chunk. */
static size_t zlib_chunks(const unsigned char *in, size_t n, int level, const int *tune, unsigned char *out)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		exit(1);
	size_t total = 0;
	for (size_t off = 0; off < n || off == 0; off += CHUNK) {
		size_t len = n - off < CHUNK ? n - off : CHUNK;
		int final = off + len >= n;
		deflateReset(&zs);
		if (tune)
			deflateTune(&zs, tune[0], tune[1], tune[2], tune[3]);
		if (off)
			deflateSetDictionary(&zs, in + off - DICT, DICT);
		zs.next_in = (unsigned char *)in + off;
		zs.avail_in = (uInt)len;
		zs.next_out = out;
		zs.avail_out = 2 * CHUNK;
		deflate(&zs, final ? Z_FINISH : Z_SYNC_FLUSH);
		total += 2 * CHUNK - zs.avail_out;
		if (final)
			break;
	}
	deflateEnd(&zs);
	return total;
}

/* Makes a complete raw deflate stream of len bytes at buf joinable: clears
 * the last block's BFINAL bit and appends an empty stored block. Returns
 * the new length. */
static size_t unfinal(unsigned char *buf, size_t len)
{
	z_stream is;
	memset(&is, 0, sizeof is);
	if (inflateInit2(&is, -15) != Z_OK)
		exit(1);
	static unsigned char junk[65536];
	is.next_in = buf;
	is.avail_in = (uInt)len;
	size_t last_byte = 0;
	int last_mask = 1;
	size_t end_bits = 0;
	int ret;
	do {
		is.next_out = junk;
		is.avail_out = sizeof junk;
		ret = inflate(&is, Z_BLOCK);
		if (ret != Z_OK && ret != Z_STREAM_END)
			exit(1);
		/* At a block boundary (128): the next header starts
		 * data_type & 7 bits before next_in (the unused high bits of
		 * the last byte taken). After the final block (64 too) that is
		 * where the stream ends -- the next call drops the padding
		 * bits, so the end is taken here. */
		if (ret == Z_OK && (is.data_type & 128)) {
			int left = is.data_type & 7;
			size_t at = (size_t)(is.next_in - buf);
			if (is.data_type & 64) {
				end_bits = at * 8 - (size_t)left;
			} else if (left) {
				last_byte = at - 1;
				last_mask = 1 << (8 - left);
			} else {
				last_byte = at;
				last_mask = 1;
			}
		}
	} while (ret != Z_STREAM_END);
	inflateEnd(&is);
	buf[last_byte] &= (unsigned char)~last_mask;
	/* an empty stored block (BFINAL 0, BTYPE 00) at end_bits, padded */
	size_t nbytes = (end_bits + 3 + 7) / 8;
	if (end_bits % 8)
		buf[end_bits / 8] &= (unsigned char)((1u << (end_bits % 8)) - 1);
	for (size_t i = (end_bits + 7) / 8; i < nbytes; i++)
		buf[i] = 0;
	buf[nbytes] = 0;
	buf[nbytes + 1] = 0;
	buf[nbytes + 2] = 0xff;
	buf[nbytes + 3] = 0xff;
	return nbytes + 4;
}

static size_t libdeflate_chunks(const unsigned char *in, size_t n, int level, unsigned char *out, FILE *save,
				double *scan)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
	if (!c)
		exit(1);
	size_t total = 0;
	uLong crc = crc32(0L, Z_NULL, 0);
	if (save)
		fwrite("\x1f\x8b\x08\0\0\0\0\0\0\x03", 1, 10, save);
	for (size_t off = 0; off < n || off == 0; off += CHUNK) {
		size_t len = n - off < CHUNK ? n - off : CHUNK;
		int final = off + len >= n;
		size_t k = libdeflate_deflate_compress(c, in + off, len, out, 2 * CHUNK);
		if (!k)
			exit(1);
		if (!final) {
			double t = cpu();
			k = unfinal(out, k);
			*scan += cpu() - t;
		}
		total += k;
		crc = crc32(crc, in + off, (uInt)len);
		if (save)
			fwrite(out, 1, k, save);
		if (final)
			break;
	}
	if (save) {
		unsigned char tr[8];
		for (int i = 0; i < 4; i++) {
			tr[i] = (unsigned char)(crc >> (8 * i));
			tr[4 + i] = (unsigned char)(n >> (8 * i));
		}
		fwrite(tr, 1, 8, save);
	}
	libdeflate_free_compressor(c);
	return total;
}

/* libdeflate, one gzip member per chunk of `chunk` bytes: deflate bytes
 * plus a member's 18 bytes of header and trailer each. */
static size_t libdeflate_members(const unsigned char *in, size_t n, int level, size_t chunk, unsigned char *out,
				 size_t cap)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
	size_t total = 0;
	if (!c)
		exit(1);
	for (size_t off = 0; off < n; off += chunk) {
		size_t len = n - off < chunk ? n - off : chunk;
		size_t k = libdeflate_deflate_compress(c, in + off, len, out, cap);
		if (!k)
			exit(1);
		total += k + 18;
	}
	libdeflate_free_compressor(c);
	return total;
}

static void other_ways(const unsigned char *in, size_t n)
{
	static const size_t chunks[] = { 512 * 1024, 1024 * 1024, 2048 * 1024 };
	/* zlib's level 6 row first (8, 16, 128, 128), then shorter chains
	 * and longer nice/lazy lengths */
	static const int tunes[][4] = { { 8, 16, 128, 128 }, { 4, 16, 64, 96 },	 { 16, 16, 128, 96 },
					{ 8, 16, 258, 64 },  { 16, 32, 258, 64 }, { 8, 32, 128, 64 },
					{ 8, 8, 258, 64 },   { 32, 32, 258, 48 }, { 32, 64, 258, 32 } };
	size_t cap = 2 * chunks[2] + 1024;
	unsigned char *out = malloc(cap);
	if (!out)
		exit(1);
	for (int level = 6; level <= 9; level++)
		for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
			double t = cpu();
			size_t d = libdeflate_members(in, n, level, chunks[i], out, cap);
			printf("libdeflate level %d, %zu KiB members: %zu bytes %.3f s\n", level, chunks[i] / 1024, d,
			       cpu() - t);
		}
	for (size_t i = 0; i < sizeof tunes / sizeof *tunes; i++) {
		double t = cpu();
		size_t z = zlib_chunks(in, n, 6, tunes[i], out);
		printf("zlib -6 deflateTune(%d, %d, %d, %d): %zu bytes %.3f s\n", tunes[i][0], tunes[i][1], tunes[i][2],
		       tunes[i][3], z, cpu() - t);
	}
	free(out);
}

#ifdef HAVE_ISAL
static size_t isal_chunks(const unsigned char *in, size_t n, int level, unsigned char *out)
{
	static const uint32_t level_buf[] = { ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
					      ISAL_DEF_LVL3_DEFAULT };
	unsigned char *lb = malloc(level_buf[level] ? level_buf[level] : 1);
	struct isal_zstream zs;
	size_t total = 0;
	if (!lb)
		exit(1);
	for (size_t off = 0; off < n || off == 0; off += CHUNK) {
		size_t len = n - off < CHUNK ? n - off : CHUNK;
		int final = off + len >= n;
		isal_deflate_init(&zs);
		zs.level = (uint32_t)level;
		zs.level_buf = lb;
		zs.level_buf_size = level_buf[level];
		zs.flush = final ? NO_FLUSH : SYNC_FLUSH;
		zs.end_of_stream = (uint16_t)final;
		if (off && isal_deflate_set_dict(&zs, (unsigned char *)in + off - DICT, DICT) != COMP_OK)
			exit(1);
		zs.next_in = (unsigned char *)in + off;
		zs.avail_in = (uint32_t)len;
		zs.next_out = out;
		zs.avail_out = 2 * CHUNK;
		if (isal_deflate(&zs) != COMP_OK || zs.avail_in)
			exit(1);
		total += 2 * CHUNK - zs.avail_out;
		if (final)
			break;
	}
	free(lb);
	return total;
}
#endif

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: deflate-compare FILE [OUT]\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	size_t n = (size_t)ftell(f);
	rewind(f);
	unsigned char *in = malloc(n ? n : 1), *out = malloc(2 * CHUNK + 16);
	if (!in || !out || fread(in, 1, n, f) != n)
		return 1;
	fclose(f);
	printf("input: %zu bytes, chunks of %d bytes\n", n, CHUNK);
	for (int level = 4; level <= 9; level++) {
		double t = cpu();
		size_t z = zlib_chunks(in, n, level, NULL, out);
		double tz = cpu() - t, scan = 0;
		FILE *save = level == 6 && argc > 2 ? fopen(argv[2], "wb") : NULL;
		t = cpu();
		size_t d = libdeflate_chunks(in, n, level, out, save, &scan);
		double td = cpu() - t;
		if (save)
			fclose(save);
		printf("level %d: zlib %zu bytes %.3f s | libdeflate %zu bytes %.3f s (joint scan %.3f s)\n", level, z,
		       tz, d, td, scan);
	}
#ifdef HAVE_ISAL
	for (int level = 0; level <= 3; level++) {
		double t = cpu();
		size_t k = isal_chunks(in, n, level, out);
		printf("isa-l level %d: %zu bytes %.3f s\n", level, k, cpu() - t);
	}
#endif
	other_ways(in, n);
	return 0;
}
