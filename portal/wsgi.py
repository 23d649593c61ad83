import os

from django.core.wsgi import get_wsgi_application

from portal import startup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()
startup.refuse_to_start_if_unmet("web")
