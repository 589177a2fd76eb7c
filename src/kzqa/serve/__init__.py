"""The web: the FastAPI server, the Gradio chat page and its assets, the guards before any route."""
