import os

from django.core.wsgi import get_wsgi_application

from config.telemetry import telemetry_setup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
telemetry_setup(service="web")  # OpenTelemetry traces when OTEL_ENABLED (README: Operations); off by default
application = get_wsgi_application()
