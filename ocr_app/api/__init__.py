"""The JSON API (``/api/v1/``): Django REST framework views over ``ocr_app.services``."""
