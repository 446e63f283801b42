/* Deterministic parallel gzip for packing layers.
 *
 * The tar stream is cut into fixed PGZ_CHUNK-byte pieces. Each piece is
 * deflated by a worker thread with the previous 32 KiB of input as preset
 * dictionary and ended with a sync flush (byte-aligned), so the pieces join
 * into ONE ordinary gzip member (the technique pigz uses). The output bytes
 * depend only on the input, the level and PGZ_CHUNK -- never on the number of
 * threads or their timing -- so layers stay byte-reproducible while the
 * compression, the dominant cost, uses every core.
 *
 * Changing PGZ_CHUNK, the header bytes or the flush scheme changes every
 * layer digest ocisync produces: don't.
 *
 * Threads: the caller's thread does oci__pgz_write/finish and is the only one
 * that calls the sink and the SHA-256 of the output (so the sink runs on the
 * caller's thread, and error messages stay in its thread-local state).
 * Workers only run zlib. */
#include "pgzip.h"
#include "error_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define PGZ_CHUNK (256 * 1024)
#define PGZ_DICT 32768
/* One worker per CPU the process may use; the bound only keeps memory in
 * check on very large machines (a job holds about 550 KiB). */
#define PGZ_MAX_WORKERS 64

enum { JOB_FREE, JOB_FILLING, JOB_QUEUED, JOB_DONE };

typedef struct pgz_job {
	int state;
	int final;
	int failed;            /* zlib or allocation failure in the worker */
	uint64_t seq;
	unsigned char *in;     /* PGZ_CHUNK bytes */
	size_t in_len;
	unsigned char dict[PGZ_DICT];
	size_t dict_len;
	unsigned char *out;
	size_t out_len, out_cap;
	uLong crc;
} pgz_job;

struct oci_pgz {
	int level;
	oci_write_fn sink;
	void *sink_ctx;
	oci_sha256 *sha;       /* of the gzip bytes */
	int64_t out_size;
	uLong crc;             /* of the whole input */
	uint64_t in_size;

	pthread_mutex_t mu;
	pthread_cond_t work;   /* a job was queued, or stop */
	pthread_cond_t done;   /* a job finished */
	int stop;
	pthread_t threads[PGZ_MAX_WORKERS];
	int nthreads;

	pgz_job *jobs;
	size_t njobs;
	uint64_t next_fill;    /* seq of the job being filled */
	uint64_t next_take;    /* next seq a worker takes */
	uint64_t submitted;    /* seqs < submitted are queued or done */
	uint64_t next_emit;    /* next seq to hand to the sink */
	pgz_job *cur;          /* the job being filled, or NULL */
	int error;             /* first sink error (sticky) */
};

static int compress_job(z_stream *zs, int level, pgz_job *j)
{
	if (deflateReset(zs) != Z_OK)
		return -1;
	if (j->dict_len && deflateSetDictionary(zs, j->dict, (uInt)j->dict_len) != Z_OK)
		return -1;
	size_t need = deflateBound(zs, j->in_len) + 64;
	if (j->out_cap < need) {
		unsigned char *o = realloc(j->out, need);
		if (!o)
			return -1;
		j->out = o;
		j->out_cap = need;
	}
	zs->next_in = j->in;
	zs->avail_in = (uInt)j->in_len;
	zs->next_out = j->out;
	zs->avail_out = (uInt)j->out_cap;
	int ret = deflate(zs, j->final ? Z_FINISH : Z_SYNC_FLUSH);
	/* The buffer is larger than deflateBound plus a flush marker, so one
	 * call consumes everything. */
	if (zs->avail_in != 0 || (j->final ? ret != Z_STREAM_END : ret != Z_OK))
		return -1;
	j->out_len = j->out_cap - zs->avail_out;
	j->crc = crc32(0L, j->in, (uInt)j->in_len);
	(void)level;
	return 0;
}

static void *worker_main(void *arg)
{
	oci_pgz *z = arg;
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	int zok = deflateInit2(&zs, z->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;

	pthread_mutex_lock(&z->mu);
	for (;;) {
		while (!z->stop && z->next_take >= z->submitted)
			pthread_cond_wait(&z->work, &z->mu);
		if (z->stop)
			break;
		pgz_job *j = &z->jobs[z->next_take % z->njobs];
		z->next_take++;
		pthread_mutex_unlock(&z->mu);
		int failed = !zok || compress_job(&zs, z->level, j) != 0;
		pthread_mutex_lock(&z->mu);
		j->failed = failed;
		j->state = JOB_DONE;
		pthread_cond_broadcast(&z->done);
	}
	pthread_mutex_unlock(&z->mu);
	if (zok)
		deflateEnd(&zs);
	return NULL;
}

static int emit(oci_pgz *z, const void *buf, size_t len)
{
	int rc;
	if (z->error)
		return z->error;
	if ((rc = oci_sha256_update(z->sha, buf, len)) < 0 || (rc = z->sink(z->sink_ctx, buf, len)) < 0) {
		z->error = rc;
		return rc;
	}
	z->out_size += (int64_t)len;
	return 0;
}

/* Hands the oldest finished job to the sink; blocks until it is done when
 * wait is set. Returns 1 when a job was emitted, 0 when none was ready. */
static int emit_next(oci_pgz *z, int wait, int *rc)
{
	if (z->next_emit >= z->submitted)
		return 0;
	pgz_job *j = &z->jobs[z->next_emit % z->njobs];
	pthread_mutex_lock(&z->mu);
	while (j->state != JOB_DONE && wait)
		pthread_cond_wait(&z->done, &z->mu);
	int ready = j->state == JOB_DONE;
	pthread_mutex_unlock(&z->mu);
	if (!ready)
		return 0;
	if (j->failed) {
		*rc = z->error = oci_error_set(OCI_ERROR, "gzip compression failed");
	} else if (*rc == 0) {
		*rc = emit(z, j->out, j->out_len);
		z->crc = crc32_combine(z->crc, j->crc, (z_off_t)j->in_len);
		z->in_size += j->in_len;
	}
	j->state = JOB_FREE;
	z->next_emit++;
	return 1;
}

/* Makes the next job the one being filled, carrying the dictionary over. */
static int start_job(oci_pgz *z, const pgz_job *prev)
{
	int rc = 0;
	pgz_job *j = &z->jobs[z->next_fill % z->njobs];
	while (j->state != JOB_FREE)
		if (emit_next(z, 1, &rc) && rc < 0)
			return rc;
	j->seq = z->next_fill;
	j->in_len = 0;
	j->final = 0;
	j->failed = 0;
	j->dict_len = 0;
	if (prev) {
		/* prev's input stays intact until its slot is reused, which
		 * happens only after this job has been started. */
		j->dict_len = prev->in_len < PGZ_DICT ? prev->in_len : PGZ_DICT;
		memcpy(j->dict, prev->in + prev->in_len - j->dict_len, j->dict_len);
	}
	j->state = JOB_FILLING;
	z->cur = j;
	return 0;
}

static void submit(oci_pgz *z, int final)
{
	pgz_job *j = z->cur;
	j->final = final;
	pthread_mutex_lock(&z->mu);
	j->state = JOB_QUEUED;
	z->submitted = ++z->next_fill;
	pthread_cond_signal(&z->work);
	pthread_mutex_unlock(&z->mu);
}

int oci__pgz_new(oci_pgz **out, int level, oci_write_fn sink, void *sink_ctx)
{
	int rc = 0;
	oci_pgz *z = calloc(1, sizeof *z);
	if (!z)
		return OCI_ENOMEM_SET();
	z->level = level;
	z->sink = sink;
	z->sink_ctx = sink_ctx;
	z->crc = crc32(0L, Z_NULL, 0);
	pthread_mutex_init(&z->mu, NULL);
	pthread_cond_init(&z->work, NULL);
	pthread_cond_init(&z->done, NULL);
	/* The CPUs this process may run on (a container's cpuset, taskset),
	 * not all the machine has. */
	cpu_set_t set;
	long ncpu = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
	int workers = ncpu < 1 ? 1 : ncpu > PGZ_MAX_WORKERS ? PGZ_MAX_WORKERS : (int)ncpu;
	/* Every worker busy, one slot the caller fills and one finished job
	 * waiting to be emitted in order; a slot holds about 550 KiB, so each
	 * one more costs the peak memory of every push (two more measured no
	 * faster). */
	z->njobs = (size_t)workers + 2;
	if ((rc = oci_sha256_new(&z->sha)) < 0)
		goto fail;
	if (!(z->jobs = calloc(z->njobs, sizeof *z->jobs))) {
		rc = OCI_ENOMEM_SET();
		goto fail;
	}
	for (size_t i = 0; i < z->njobs; i++)
		if (!(z->jobs[i].in = malloc(PGZ_CHUNK))) {
			rc = OCI_ENOMEM_SET();
			goto fail;
		}
	for (int i = 0; i < workers; i++) {
		if (pthread_create(&z->threads[i], NULL, worker_main, z) != 0) {
			rc = oci_error_set(OCI_ERROR, "cannot start a compression thread");
			goto fail;
		}
		z->nthreads++;
	}
	/* gzip header: deflate, no flags (no name, no comment), mtime 0,
	 * no extra flags, OS 3 (Unix) -- as `gzip -n` writes it. */
	static const unsigned char header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	if ((rc = emit(z, header, sizeof header)) < 0 || (rc = start_job(z, NULL)) < 0)
		goto fail;
	*out = z;
	return 0;
fail:
	oci__pgz_free(z);
	return rc;
}

int oci__pgz_write(oci_pgz *z, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int rc = 0;
	if (z->error)
		return z->error;
	while (len) {
		pgz_job *j = z->cur;
		if (j->in_len == PGZ_CHUNK) {
			/* Submitted only once more data arrives, so the final
			 * job is never an empty one after a full chunk unless
			 * the input ends exactly on a boundary -- deterministic
			 * either way. */
			submit(z, 0);
			if ((rc = start_job(z, j)) < 0)
				return rc;
			while (emit_next(z, 0, &rc))
				if (rc < 0)
					return rc;
			continue;
		}
		size_t n = PGZ_CHUNK - j->in_len;
		if (n > len)
			n = len;
		memcpy(j->in + j->in_len, p, n);
		j->in_len += n;
		p += n;
		len -= n;
	}
	return 0;
}

int oci__pgz_finish(oci_pgz *z, char digest[OCI_DIGEST_SIZE], int64_t *size)
{
	int rc = z->error;
	if (rc)
		return rc;
	submit(z, 1);
	z->cur = NULL;
	while (z->next_emit < z->submitted) {
		emit_next(z, 1, &rc);
		if (rc < 0)
			return rc;
	}
	unsigned char trailer[8];
	uint32_t crc = (uint32_t)z->crc, isize = (uint32_t)z->in_size;
	for (int i = 0; i < 4; i++) {
		trailer[i] = (unsigned char)(crc >> (8 * i));
		trailer[4 + i] = (unsigned char)(isize >> (8 * i));
	}
	if ((rc = emit(z, trailer, sizeof trailer)) < 0)
		return rc;
	if ((rc = oci_sha256_final(digest, z->sha)) < 0)
		return rc;
	*size = z->out_size;
	return 0;
}

void oci__pgz_free(oci_pgz *z)
{
	if (!z)
		return;
	pthread_mutex_lock(&z->mu);
	z->stop = 1;
	pthread_cond_broadcast(&z->work);
	pthread_mutex_unlock(&z->mu);
	/* A worker busy with a job finishes it first; nothing waits on it. */
	for (int i = 0; i < z->nthreads; i++)
		pthread_join(z->threads[i], NULL);
	if (z->jobs)
		for (size_t i = 0; i < z->njobs; i++) {
			free(z->jobs[i].in);
			free(z->jobs[i].out);
		}
	free(z->jobs);
	oci_sha256_free(z->sha);
	pthread_mutex_destroy(&z->mu);
	pthread_cond_destroy(&z->work);
	pthread_cond_destroy(&z->done);
	free(z);
}
