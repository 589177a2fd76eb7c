"""Hugging Face Space entry point (README front matter: `app_file: app.py`).

A Space installs requirements.txt and then copies the repository in, so kzqa is not
pip-installed there: this puts src/ on the path and serves, on the address and port Spaces
expects, what `kzqa serve` serves: the Kazakhstan library once it is built; until then the
two seed articles (their index is built in seconds at the first start), while the library is
downloaded from the publishers' addresses and built in the background, taking over without
a restart. The page says which it is answering from, and how far the build has come.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

HOST = os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0")  # Spaces route to 0.0.0.0:7860
PORT = int(os.environ.get("GRADIO_SERVER_PORT", os.environ.get("PORT", "7860")))


def create_app(embedder=None):
    """The ASGI app (chat page, Gradio API, REST routes): the seed articles at once, the
    library when it is built (``kzqa.search.live.DefaultLibrary``)."""
    from kzqa.search.live import DefaultLibrary
    from kzqa.serve.server import make_server

    default = DefaultLibrary(embedder)
    return make_server(default.live, status=default.status)


if __name__ == "__main__":
    from kzqa.serve.server import serve

    serve(host=HOST, port=PORT)
