from django.conf import settings


def portal(request):
    return {
        "portal_app_name": settings.PORTAL_APP_NAME,
        "portal_operator_name": settings.PORTAL_OPERATOR_NAME,
        "portal_operator_contact": settings.PORTAL_OPERATOR_CONTACT,
    }
