"""gunicorn settings; each may be overridden on the command line or by GUNICORN_CMD_ARGS."""

import multiprocessing
import os

# Photo uploads spend their time in Pillow (CPU) and the object store (I/O): a few threads
# per worker keep the CPU busy while one request waits on storage.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# numpy's BLAS would start a thread per core in every worker and spin them around each small
# matrix product of the photo hashes: the workers and their threads are the parallelism here.
for _blas in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas, "1")
threads = int(os.environ.get("GUNICORN_THREADS", 2))
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
