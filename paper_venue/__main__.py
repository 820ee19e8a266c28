"""Run the paper venue: `python -m agents.venue --host 127.0.0.1 --port 8100 --data-dir ./var`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import uvicorn

from paper_venue.service import build_engine, config_from_env, create_app


def main(argv: list[str] | None = None) -> int:
    try:
        config = config_from_env()
    except ValueError as exc:
        print(f"venue: bad configuration: {exc}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="python -m agents.venue", description="Academy paper venue")
    parser.add_argument("--host", default=config.host)
    parser.add_argument("--port", type=int, default=config.port)
    parser.add_argument("--data-dir", type=Path, default=config.data_dir)
    parser.add_argument("--seed", type=int, default=config.seed)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    config.host, config.port, config.data_dir, config.seed = args.host, args.port, args.data_dir, args.seed
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        engine = build_engine(config)
    except ValueError as exc:  # e.g. a VENUE_ACCOUNTS entry that claims another account's key
        print(f"venue: bad configuration: {exc}", file=sys.stderr)
        return 2
    app = create_app(engine, config)
    uvicorn.run(
        app, host=config.host, port=config.port, log_level=args.log_level, access_log=False, ws="websockets-sansio"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
