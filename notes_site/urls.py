from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ocr_app.web import signin

urlpatterns = [
    path("accounts/login/", signin.login, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The admin's own login page, answering 429 like ours (its form is set in ocr_app/admin/__init__.py;
    # the limits apply to it anyway, in the authentication backend).
    path("admin/login/", signin.answers_refusals_with_429(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("ocr_app.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("", include("ocr_app.urls")),
]


def not_found(request, exception):
    """The API answers in its own error shape; pages get Django's page."""
    if request.path.startswith("/api/"):
        from ocr_app.api.errors import error_body

        return JsonResponse(error_body("not_found", "There is no such API endpoint."), status=404)
    return page_not_found(request, exception)


handler404 = not_found
