"""The pages (and their small JSON companions): one module per part of the site.
They read the request (through ``forms``), call ``ocr_app.services`` and render."""
