"""Throughput: sync submits per second on a live fake vs a bare Starlette endpoint, on the same stack.

Both run under uvicorn with httptools and uvloop in subprocesses of their own (bench/_bare.py for the bare
endpoint, which parses the body and answers JSON). 64 keep-alive connections each send a sync
`POST /getImagetoImage` (the fake at `--latency none`) again as soon as the last answer is whole. Rounds
alternate between the two servers, so a machine busy with something else slows both alike; the median
round of each is compared. Bounded: 5 rounds of 2 x 2.5 s, about 30 s in all, loopback only.

    .venv/bin/python bench/bench_throughput.py
"""

from __future__ import annotations

import statistics

from _load import bare, fake, servers, submit_request, throughput

CONNECTIONS = 64
ROUNDS = 5
SECONDS = 2.5
WARM_UP = 0.5


def main() -> None:
    with servers(fake=fake("--latency", "none"), bare=bare()) as urls:
        rates: dict[str, list[float]] = {name: [] for name in urls}
        for url in urls.values():
            throughput(url, submit_request("127.0.0.1"), connections=CONNECTIONS, seconds=WARM_UP)
        for _ in range(ROUNDS):
            for name, url in urls.items():
                rates[name].append(
                    throughput(url, submit_request("127.0.0.1"), connections=CONNECTIONS, seconds=SECONDS)
                )
    print(f"sync submits, {CONNECTIONS} keep-alive connections, loopback, one uvicorn worker (httptools, uvloop)")
    for name, values in rates.items():
        rounds = " ".join(f"{value:,.0f}" for value in values)
        print(f"  {name:5}: median {statistics.median(values):7,.0f} req/s  (rounds: {rounds})")
    ratio = statistics.median(rates["fake"]) / statistics.median(rates["bare"])
    print(f"  fake / bare: {ratio:.2f}")


if __name__ == "__main__":
    main()
