"""The action server as this project runs it: `python -m actions.server [--port 5055] [--host 127.0.0.1]`.

`rasa run actions` (rasa-sdk 3.6.2) listens on every interface (only SANIC_HOST changes that), allows CORS from
any origin, and runs any action for anyone who can reach it, with a tracker of their choosing. This wrapper
builds rasa-sdk's own app (same /webhook, /actions, /health), binds it to localhost unless told otherwise, turns
CORS off (only the Rasa server calls it, never a browser), and refuses every call but /health that lacks the
shared secret, which Rasa sends in the `X-Coach-Action-Secret` header (bot/endpoints.yml).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from typing import Optional

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from knowledge import paths, secret_files

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Coach-Action-Secret"
OPEN_PATHS = ("/health",)  # a load balancer or `make run` may check liveness without the secret
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055


def require_secret(app: Sanic, secret: str) -> None:
    """A request middleware: no secret (or a wrong one) → 401 / 403, before rasa-sdk reads the body."""
    expected = secret.encode()

    @app.middleware("request")
    async def check_secret(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get(SECRET_HEADER)
        if not given:
            logger.warning("action server: refused a call to %s without the %s header", request.path, SECRET_HEADER)
            return response.json({"error": f"missing {SECRET_HEADER} header"}, status=401)
        if not hmac.compare_digest(given.encode(), expected):
            logger.warning("action server: refused a call to %s with a wrong secret", request.path)
            return response.json({"error": "wrong action server secret"}, status=403)
        return None


def build_app(secret: str) -> Sanic:
    app = create_app("actions", cors_origins="")  # rasa-sdk's routes, no CORS origin allowed
    require_secret(app, secret)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)  # rasa-sdk's own plugin hook, as `rasa run actions`
    return app


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--host",
        default=os.environ.get("ACTION_HOST", DEFAULT_HOST),
        help="interface to listen on (default 127.0.0.1; 0.0.0.0 only behind a firewall)",
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_PORT", DEFAULT_PORT)))
    args = parser.parse_args(argv)
    paths.owner_only_from_now()  # the application store and anything else it makes: owner-only
    utils.configure_colored_logging("INFO")
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), None, "INFO", None)
    utils.update_sanic_log_level()
    try:  # COACH_ACTION_SECRET, else COACH_ACTION_SECRET_FILE, else var/action_secret (made once, owner-only)
        secret = secret_files.ACTION.load()
    except secret_files.SecretError as e:
        sys.exit(str(e))
    app = build_app(secret)
    logger.info("Action server on http://%s:%d (calls need the %s header)", args.host, args.port, SECRET_HEADER)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
