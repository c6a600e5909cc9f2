#!/usr/bin/env python3
"""The cold-start row of scripts/bench-load (issue 16, item 2), in two steps around a restart.

  cold_start.py create PORT ADMIN_TOKEN SPACE_ID COUNT TOKENS_FILE
      creates COUNT client tokens over HTTP (16 concurrent creators), writes their strings to
      TOKENS_FILE, and prints the creation rate (tokens/s) on standard output;
  cold_start.py storm PORT CLIENTS TOKENS_FILE CREATED_PER_S STORE
      sends every token's first request (GET /v1/whoami) from CLIENTS concurrent clients, each on
      a keep-alive connection of its own, all released at once; prints the markdown row: the
      time until all are served, p50 and p99 of the requests, and how many were not 200.

Standard library only (the machine has no aiohttp); threads, since every request waits on the
server. The generator shares the cores with the server, as the issue's target says.
"""
import http.client
import itertools
import json
import sys
import threading
import time


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def run_threads(count, work):
    start = threading.Barrier(count + 1)
    threads = [threading.Thread(target=work, args=(start,), daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    start.wait()
    began = time.monotonic()
    for t in threads:
        t.join()
    return time.monotonic() - began


def create(port, admin, space, count, path):
    tokens, failures = [], []
    lock = threading.Lock()
    numbers = itertools.count()
    body_of = lambda n: json.dumps({"name": f"cold {n}", "level": "client"})

    def work(start):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        while (n := next(numbers)) < count:
            conn.request(
                "POST",
                f"/v1/spaces/{space}/tokens",
                body=body_of(n),
                headers={"x-undb-api-token": admin, "content-type": "application/json"},
            )
            res = conn.getresponse()
            data = res.read()
            with lock:
                if res.status == 201:
                    tokens.append(json.loads(data)["token"])
                else:
                    failures.append(res.status)

    elapsed = run_threads(16, work)
    if failures:
        sys.exit(f"cold_start.py: {len(failures)} creations failed: {sorted(set(failures))}")
    with open(path, "w") as out:
        out.write("\n".join(tokens) + "\n")
    print(f"{count / elapsed:.0f}")


def storm(port, clients, path, created_per_s, store):
    tokens = [line.strip() for line in open(path) if line.strip()]
    latencies, statuses = [], []
    lock = threading.Lock()
    next_token = iter(tokens)
    finished = []

    def work(start):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.connect()
        start.wait()
        mine, codes = [], []
        while True:
            with lock:
                token = next(next_token, None)
            if token is None:
                break
            sent = time.monotonic()
            conn.request("GET", "/v1/whoami", headers={"x-undb-api-token": token})
            res = conn.getresponse()
            res.read()
            mine.append(time.monotonic() - sent)
            codes.append(res.status)
        with lock:
            latencies.extend(mine)
            statuses.extend(codes)
            finished.append(time.monotonic())

    elapsed = run_threads(clients, work)
    latencies.sort()
    not_ok = sum(1 for s in statuses if s != 200)
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(f"\nCold start: {store}, {len(tokens)} distinct active tokens, server restarted, "
          f"{clients} concurrent clients (Python threads on the same cores), release build\n")
    print("| tokens | created/s | all served in s | served/s | p50 ms | p99 ms | non-200 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {len(tokens)} | {created_per_s} | {elapsed:.2f} | {len(tokens) / elapsed:,.0f} | "
          f"{p50:.1f} | {p99:.1f} | {not_ok} |")


if __name__ == "__main__":
    step, args = sys.argv[1], sys.argv[2:]
    if step == "create":
        create(int(args[0]), args[1], args[2], int(args[3]), args[4])
    elif step == "storm":
        storm(int(args[0]), int(args[1]), args[2], args[3], args[4])
    else:
        sys.exit(f"cold_start.py: unknown step {step}")
