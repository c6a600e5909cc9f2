"""Memory per cached token, for scripts/bench-scale (issue 16, item 4; docs/performance.md).

Builds a valid token string for each id in IDS_FILE from the secret of REAL_TOKEN (bench-scale
copies the real token's hash onto every row, so every row verifies with that secret), reads the
server's resident memory (VmRSS of PID), verifies every token once with GET /v1/whoami from 8
threads on keep-alive connections, reads VmRSS again, and prints one Markdown table row. The
entries the cache holds at the end are read from the server's metrics on METRICS_PORT
(`tollgate_verification_cache_entries`): every figure per cached token is divided by them, so
that a run slow enough for the cache's TTL to drop early entries is seen and not miscounted.

    python3 cached_memory.py PORT PID REAL_TOKEN IDS_FILE METRICS_PORT
"""

import http.client
import sys
import threading
import time
import uuid
import zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(number, width):
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    if number:
        raise ValueError("does not fit")
    return "".join(reversed(digits))


def token_for(prefix, token_id, secret):
    """The token string of docs/token-format.md: prefix, id, secret, CRC32."""
    body = prefix + base62(uuid.UUID(token_id).int, 22) + secret
    return body + base62(zlib.crc32(body.encode("ascii")) & 0xFFFFFFFF, 6)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cache_entries(metrics_port):
    connection = http.client.HTTPConnection("127.0.0.1", metrics_port, timeout=60)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    connection.close()
    for line in text.splitlines():
        if line.startswith("tollgate_verification_cache_entries"):
            return int(float(line.split()[-1]))
    raise RuntimeError("no tollgate_verification_cache_entries in the metrics")


def main():
    port, pid, real, ids_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    metrics_port = int(sys.argv[5])
    prefix, secret = real[:4], real[26:69]
    assert token_for(prefix, str(uuid.UUID(int=0)), secret)[:4] == prefix
    ids = [line.strip() for line in open(ids_file) if line.strip()]
    tokens = [token_for(prefix, token_id, secret) for token_id in ids]

    failures = []
    lock = threading.Lock()

    def work(part):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for token in part:
            connection.request("GET", "/v1/whoami", headers={"x-undb-api-token": token})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                with lock:
                    failures.append(response.status)
        connection.close()

    # One warm-up request, so that "before" is a server that has served.
    work([real])
    before = rss_kib(pid)
    threads = [threading.Thread(target=work, args=(tokens[n::8],)) for n in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - started
    after = rss_kib(pid)
    # The server writes its pending uses every second (bench-scale starts it so): after three,
    # what is left is the cache (and what the allocator keeps).
    time.sleep(3)
    entries = cache_entries(metrics_port)
    settled = rss_kib(pid)
    count = max(entries, 1)
    print(
        f"| {len(tokens)} | {took:.1f} s | {entries} | {before / 1024:.1f} MiB "
        f"| {after / 1024:.1f} MiB | {(after - before) * 1024 / count:.0f} B "
        f"| {settled / 1024:.1f} MiB | {(settled - before) * 1024 / count:.0f} B "
        f"| {len(failures)} |"
    )
    if entries < len(tokens):
        print(f"cached_memory: only {entries} of {len(tokens)} tokens are cached at the end",
              file=sys.stderr)
    if failures:
        print(f"cached_memory: {len(failures)} requests were not 200: {sorted(set(failures))}",
              file=sys.stderr)
        sys.exit(1)


main()
