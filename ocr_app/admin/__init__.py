"""The admin site: one module per group of models (importing each registers its pages)."""

from django.contrib import admin

from ..web.signin import AdminSignInForm
from . import accounts, learning, lines, notes  # noqa: F401

admin.site.site_header = "Inkdex administration"
# A try refused by the sign-in limits says how long to wait, as on the sign-in page.
admin.site.login_form = AdminSignInForm
