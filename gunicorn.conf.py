"""gunicorn settings; each may be overridden on the command line or by GUNICORN_CMD_ARGS."""

import multiprocessing
import os

# Photo uploads spend their time in Pillow (CPU) and the object store (I/O): a few threads
# per worker keep the CPU busy while one request waits on storage. One worker a core with four
# threads each: bench/ingest.py (2 cores, 8 clients, shared machine) measured 24.5 phone
# photos/s at 61 ms of worker CPU each, against 21.0/s at 71 ms with 2n+1 workers of 2 threads.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
# numpy's BLAS would start a thread per core in every worker and spin them around each small
# matrix product of the photo hashes: the workers and their threads are the parallelism here.
for _blas in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas, "1")
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
# A 20 MB photo over a slow village link can take minutes; keep the worker alive meanwhile.
timeout = 180
graceful_timeout = 30
keepalive = 5
# Body size is limited by Flask's MAX_CONTENT_LENGTH; these protect the header parser.
limit_request_line = 8190
limit_request_fields = 100
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
