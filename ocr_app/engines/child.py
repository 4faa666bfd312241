"""Entry point of an engine's child process (see ``isolated``)."""

import sys

from ocr_app.engines.isolated import serve

if __name__ == "__main__":
    serve(sys.argv[1])
