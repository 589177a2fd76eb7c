"""Hugging Face Space entry point (README front matter: `app_file: app.py`).

A Space installs requirements.txt and then copies the repository in, so kzqa is not
pip-installed there: this puts src/ on the path and serves the committed index/ (no build
at start-up) on the address and port Spaces expects.
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


def create_app():
    """The ASGI app (chat page, Gradio API, REST routes) over the committed index."""
    import kzqa
    from kzqa.server import make_server

    return make_server(kzqa.load(ROOT / "index"))


if __name__ == "__main__":
    from kzqa.server import serve

    serve(host=HOST, port=PORT, index=str(ROOT / "index"))
