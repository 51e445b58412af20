"""The reference the fake is measured against: a bare Starlette endpoint on the fake's own stack.

uvicorn with httptools and uvloop, no access log, no lifespan, as `qolaba-mock serve` runs. The endpoint
parses the JSON body and answers a JSON object; with `--sleep S` it first sleeps S seconds, like a request
the fake holds for `fixed:<S>`. Prints `bare serving on <url>` once listening, as `qolaba-mock serve` does.

    .venv/bin/python bench/_bare.py [--sleep 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def bare_app(sleep: float) -> Starlette:
    async def endpoint(request: Request) -> JSONResponse:
        body = await request.json()
        if sleep:
            await asyncio.sleep(sleep)
        return JSONResponse({"status": "SUCCESS", "input": body, "task_id": None})

    return Starlette(routes=[Route("/getImagetoImage", endpoint, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sleep", type=float, default=0.0)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print(f"bare serving on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        bare_app(args.sleep),
        log_level="warning",
        access_log=False,
        lifespan="off",
        loop="uvloop",
        http="httptools",
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
