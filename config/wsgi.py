import gc
import os

from django.core.wsgi import get_wsgi_application

from config.telemetry import telemetry_setup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
telemetry_setup(service="web")  # OpenTelemetry traces when OTEL_ENABLED (README: Operations); off by default
application = get_wsgi_application()

# The garbage collector. What start-up loaded (Django, the apps, the URL conf) lives as long as the process: it is
# moved out of the collector's sight. And a collection waits for 10,000 new container objects instead of 700: a
# batch of 1,000 orders makes tens of thousands of short-lived ones, and with the defaults the collector took a fifth
# of its CPU (README, Benchmark). Reference cycles are still collected, only less often.
gc.collect()  # what start-up left as garbage goes first, or freezing would keep it for good
gc.freeze()
gc.set_threshold(10_000, 10, 10)
