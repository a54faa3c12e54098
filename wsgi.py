"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""
from service.web import create_app

app = create_app()
